//! SPEC §4 and §6 under `kill -9`: `create`, `rotate` and `revoke` killed at random moments, many
//! times, two at a time. Afterwards every token that was printed verifies, every revoke that
//! returned holds, every rotation is all-or-nothing, and `PRAGMA integrity_check` is `ok`.
//! Bounded by time; run with `--nocapture` to see the figures (and the seed of a failing run).

mod common;

use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use common::*;

/// How long the killing goes on.
const KILLING: Duration = Duration::from_secs(4);
/// Processes killed side by side.
const LANES: usize = 2;
/// Commands each lane runs at least.
const MIN_ROUNDS: usize = 45;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Create,
    Rotate,
    Revoke,
}

/// One killed (or finished) command and what it left to check.
#[derive(Debug)]
struct Attempt {
    op: Op,
    /// The name it worked on.
    name: String,
    /// For rotate and revoke: the token it started from.
    old: Option<Issued>,
    /// What it printed, when it got that far.
    printed: Option<Issued>,
    /// It exited 0 on its own.
    returned: bool,
    /// SIGKILL ended it.
    killed: bool,
}

fn spawn(sandbox: &Sandbox, args: &[&str]) -> std::process::Child {
    sandbox.process(args).spawn().unwrap()
}

/// A complete token line (and secret key line) in what a killed command wrote, if any.
fn printed(stdout: &[u8]) -> Option<Issued> {
    let text = String::from_utf8_lossy(stdout);
    let token = text.lines().next().filter(|_| text.contains('\n'))?;
    // `create`/`rotate` print `tk_` + 12 + `_` + 32 + 6 characters.
    (token.starts_with("tk_") && token.len() == 54).then(|| Issued {
        token: token.to_owned(),
        secret_key: None,
    })
}

/// Runs `args`, kills it with SIGKILL after `delay`, and reports what it did.
fn run_and_kill(sandbox: &Sandbox, args: &[&str], delay: Duration) -> (Option<Issued>, bool, bool) {
    let mut child = spawn(sandbox, args);
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL; harmless when it already exited
    let output = child.wait_with_output().unwrap();
    let killed = output.status.signal() == Some(9);
    let returned = output.status.code() == Some(0);
    if !killed {
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    (printed(&output.stdout), returned, killed)
}

/// One lane: commands one after another, each killed at a random moment of its life.
fn lane(sandbox: &Sandbox, lane: usize, seed: u64, lifetime: Duration) -> Vec<Attempt> {
    let mut rng = StdRng::seed_from_u64(seed + lane as u64);
    let deadline = Instant::now() + KILLING;
    let mut attempts = Vec::new();
    let mut round = 0;
    // Time-bounded, but never fewer than MIN_ROUNDS, however slow the machine.
    while Instant::now() < deadline || round < MIN_ROUNDS {
        round += 1;
        let op = [Op::Create, Op::Rotate, Op::Revoke][round % 3];
        let name = format!("l{lane}-r{round}");
        // Anywhere from before the vault is opened to after the command is done.
        let delay = lifetime.mul_f64(rng.random_range(0.0..1.3));
        let attempt = match op {
            Op::Create => {
                let (printed, returned, killed) =
                    run_and_kill(sandbox, &["create", &name, "--no-secret-key"], delay);
                Attempt {
                    op,
                    name,
                    old: None,
                    printed,
                    returned,
                    killed,
                }
            }
            Op::Rotate | Op::Revoke => {
                let old = sandbox.create(&name, &["--no-secret-key"]);
                let args = match op {
                    Op::Rotate => vec!["rotate", name.as_str(), "--yes"],
                    _ => vec!["revoke", name.as_str(), "--yes"],
                };
                let (printed, returned, killed) = run_and_kill(sandbox, &args, delay);
                Attempt {
                    op,
                    name,
                    old: Some(old),
                    printed,
                    returned,
                    killed,
                }
            }
        };
        attempts.push(attempt);
    }
    attempts
}

/// The verify exit code of each token, in one `verify --batch`.
fn verdicts(sandbox: &Sandbox, tokens: &[&str]) -> HashMap<String, String> {
    let input: String = tokens.iter().map(|token| format!("{token}\n")).collect();
    let output = sandbox.run(&["verify", "--batch"], &input);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    tokens
        .iter()
        .zip(stdout(&output).lines())
        .map(|(token, line)| {
            let verdict: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                token.to_string(),
                verdict["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn commands_killed_at_random_moments_lose_nothing_they_promised() {
    let seed: u64 = std::env::var("TOKENS_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random);
    let sandbox = Sandbox::sqlite();
    // How long a command lives when left alone, so kills land all over its life.
    let started = Instant::now();
    for n in 0..5 {
        sandbox.create(&format!("warm-up-{n}"), &["--no-secret-key"]);
    }
    let lifetime = started.elapsed() / 5;

    let attempts = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for n in 0..LANES {
            let (sandbox, attempts) = (&sandbox, &attempts);
            scope.spawn(move || {
                let done = lane(sandbox, n, seed, lifetime);
                attempts.lock().unwrap().extend(done);
            });
        }
    });
    let attempts = attempts.into_inner().unwrap();

    assert_eq!(
        sandbox.query::<String>("PRAGMA integrity_check"),
        "ok",
        "seed {seed}"
    );
    let mut tokens: Vec<&str> = Vec::new();
    for attempt in &attempts {
        tokens.extend(attempt.old.iter().map(|old| old.token.as_str()));
        tokens.extend(attempt.printed.iter().map(|new| new.token.as_str()));
    }
    let verdict = verdicts(&sandbox, &tokens);
    let live = |name: &str| -> i64 {
        sandbox.query(&format!(
            "SELECT count(*) FROM tokens WHERE name = '{name}' AND revoked_at IS NULL"
        ))
    };

    let mut figures: HashMap<&str, usize> = HashMap::new();
    for attempt in &attempts {
        let context = format!("seed {seed}: {attempt:?}");
        let old = attempt.old.as_ref().map(|old| verdict[&old.token].as_str());
        match attempt.op {
            Op::Create => {
                if let Some(new) = &attempt.printed {
                    assert_eq!(
                        verdict[&new.token], "ok",
                        "a printed token is lost: {context}"
                    );
                }
                assert!(live(&attempt.name) <= 1, "{context}");
            }
            Op::Rotate => {
                if let Some(new) = &attempt.printed {
                    assert_eq!(
                        verdict[&new.token], "ok",
                        "a printed token is lost: {context}"
                    );
                    assert_eq!(old, Some("revoked"), "{context}");
                } else {
                    assert!(matches!(old, Some("ok" | "revoked")), "{context}");
                }
                // All or nothing: the old token live, or its successor.
                assert_eq!(live(&attempt.name), 1, "half a rotation: {context}");
                if attempt.returned {
                    assert!(attempt.printed.is_some(), "{context}");
                }
            }
            Op::Revoke => {
                if attempt.returned {
                    assert_eq!(
                        old,
                        Some("revoked"),
                        "a revoke that returned is lost: {context}"
                    );
                } else {
                    assert!(matches!(old, Some("ok" | "revoked")), "{context}");
                }
            }
        }
        if attempt.killed {
            *figures.entry("kills").or_default() += 1;
            let took_effect = match attempt.op {
                Op::Create => live(&attempt.name) == 1,
                _ => old == Some("revoked"),
            };
            let when = match (took_effect, attempt.printed.is_some()) {
                (false, _) => "killed before committing",
                (true, false) => "killed after committing",
                (true, true) => "killed after printing",
            };
            *figures.entry(when).or_default() += 1;
        }
    }
    let kills = figures.get("kills").copied().unwrap_or(0);
    assert!(kills >= 20, "only {kills} kills landed (seed {seed})");
    eprintln!(
        "crash: {} commands ({} kills landed: {} before committing, {} after committing, \
         {} after printing), {} tokens checked, seed {seed}; failures: 0",
        attempts.len(),
        kills,
        figures
            .get("killed before committing")
            .copied()
            .unwrap_or(0),
        figures.get("killed after committing").copied().unwrap_or(0),
        figures.get("killed after printing").copied().unwrap_or(0),
        tokens.len()
    );
}

/// The very first command, the one that creates the vault, killed at random moments: afterwards
/// there is no vault or a whole one, never a half-made file that later commands refuse.
#[test]
fn killing_the_command_that_creates_the_vault_leaves_none_or_a_whole_one() {
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    // How long creating a vault takes when left alone, so kills land all over it.
    let started = Instant::now();
    for _ in 0..3 {
        Sandbox::sqlite().create("first", &[]);
    }
    let lifetime = started.elapsed() / 3;
    let mut figures = [0usize; 3]; // [no vault, whole vault, staging files left behind]
    for round in 0..30 {
        let sandbox = Sandbox::sqlite();
        let delay = lifetime.mul_f64(rng.random_range(0.0..1.2));
        run_and_kill(&sandbox, &["create", &format!("first-{round}")], delay);
        figures[2] += listing(sandbox.dir.path())
            .iter()
            .filter(|name| name.starts_with(".vault.db.new-"))
            .count();
        if sandbox.vault.exists() {
            figures[1] += 1;
            assert_eq!(sandbox.query::<String>("PRAGMA integrity_check"), "ok");
        } else {
            figures[0] += 1;
        }
        // Either way the next command works, and clears what the killed one left behind.
        sandbox.create("second", &[]);
        assert_eq!(listing(sandbox.dir.path()), ["vault.db"], "seed {seed}");
    }
    eprintln!(
        "crash: first creation killed 30 times: {} left no vault, {} a whole one, {} a staging \
         file beside it, removed by the next command (seed {seed}); failures: 0",
        figures[0], figures[1], figures[2]
    );
}
