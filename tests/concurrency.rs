//! SPEC §6 under load: many parallel `tokens verify` processes while other processes rotate,
//! create and revoke. Valid tokens always verify, a token whose revoke had returned never
//! does, and nobody ever sees "database is locked". Bounded: a few seconds, a few hundred
//! processes. Run with `--nocapture` to see the figures.

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

/// How long the load runs.
const LOAD: Duration = Duration::from_secs(3);
/// Parallel verifiers (each runs one `tokens verify` process after another).
const VERIFIERS: usize = 4;

fn tokens(sandbox: &Sandbox, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    sandbox.run(args, stdin.unwrap_or(""))
}

/// Fails on any sign of lock trouble, whatever the exit code.
fn assert_no_lock_error(what: &str, output: &std::process::Output) {
    let error = stderr(output);
    assert!(
        !error.contains("locked") && !error.contains("busy"),
        "{what}: {error}"
    );
}

#[test]
fn parallel_verifies_stay_right_while_others_write() {
    let sandbox = Sandbox::new();
    let stable: Vec<Issued> = (0..4)
        .map(|n| sandbox.create(&format!("stable-{n}"), &["--scope", "read", "--app", "ci"]))
        .collect();
    let doomed: Vec<Issued> = (0..16)
        .map(|n| sandbox.create(&format!("doomed-{n}"), &["--no-secret-key"]))
        .collect();
    for n in 0..3 {
        sandbox.create(&format!("rotating-{n}"), &["--no-secret-key"]);
    }

    let deadline = Instant::now() + LOAD;
    // (index into doomed, when its revoke returned)
    let revoked: Mutex<Vec<(usize, Instant)>> = Mutex::new(Vec::new());
    let writes = AtomicUsize::new(0);
    let valid_checks = AtomicUsize::new(0);
    let revoked_checks = AtomicUsize::new(0);
    let racing_checks = AtomicUsize::new(0);

    std::thread::scope(|scope| {
        // Writer 1 revokes the doomed tokens one by one, with a creation in between.
        scope.spawn(|| {
            let pause = LOAD / (doomed.len() as u32 + 1);
            for (index, issued) in doomed.iter().enumerate() {
                std::thread::sleep(pause / 2);
                let output = tokens(&sandbox, &["revoke", &issued.id(), "--yes"], None);
                assert_no_lock_error("revoke", &output);
                assert_eq!(code(&output), 0, "revoke: {}", stderr(&output));
                revoked.lock().unwrap().push((index, Instant::now()));
                writes.fetch_add(1, Ordering::Relaxed);
                let output = tokens(&sandbox, &["create", &format!("new-{index}")], None);
                assert_no_lock_error("create", &output);
                assert_eq!(code(&output), 0, "create: {}", stderr(&output));
                writes.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(pause / 2);
            }
        });
        // Writer 2 rotates and creates until the end.
        scope.spawn(|| {
            let mut round = 0;
            while Instant::now() < deadline {
                let name = format!("rotating-{}", round % 3);
                let output = tokens(&sandbox, &["rotate", &name, "--yes"], None);
                assert_no_lock_error("rotate", &output);
                assert_eq!(code(&output), 0, "rotate: {}", stderr(&output));
                let output = tokens(&sandbox, &["create", &format!("churn-{round}")], None);
                assert_no_lock_error("create", &output);
                assert_eq!(code(&output), 0, "create: {}", stderr(&output));
                writes.fetch_add(2, Ordering::Relaxed);
                round += 1;
            }
        });
        for worker in 0..VERIFIERS {
            let (sandbox, stable, doomed, revoked) = (&sandbox, &stable, &doomed, &revoked);
            let (valid_checks, revoked_checks, racing_checks) =
                (&valid_checks, &revoked_checks, &racing_checks);
            scope.spawn(move || {
                let mut round = worker;
                while Instant::now() < deadline {
                    round += 1;
                    if round % 2 == 0 {
                        let issued = &stable[round % stable.len()];
                        let output = tokens(
                            sandbox,
                            &["verify", "--scope", "read", "--app", "ci"],
                            Some(&format!("{}\n", issued.token)),
                        );
                        assert_no_lock_error("verify", &output);
                        assert_eq!(code(&output), 0, "valid token: {}", stderr(&output));
                        valid_checks.fetch_add(1, Ordering::Relaxed);
                    } else {
                        let index = round % doomed.len();
                        let started = Instant::now();
                        let was_revoked = revoked
                            .lock()
                            .unwrap()
                            .iter()
                            .any(|(n, at)| *n == index && *at < started);
                        let output = tokens(
                            sandbox,
                            &["verify"],
                            Some(&format!("{}\n", doomed[index].token)),
                        );
                        assert_no_lock_error("verify", &output);
                        if was_revoked {
                            assert_eq!(code(&output), 5, "revoked token: {}", stderr(&output));
                            revoked_checks.fetch_add(1, Ordering::Relaxed);
                        } else {
                            assert!(
                                [0, 5].contains(&code(&output)),
                                "token being revoked: {}",
                                stderr(&output)
                            );
                            racing_checks.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });

    let (valid, dead, racing) = (
        valid_checks.into_inner(),
        revoked_checks.into_inner(),
        racing_checks.into_inner(),
    );
    let writes = writes.into_inner();
    // Enough checks that each kind really raced the writers (not a speed goal: a loaded machine,
    // or PostgreSQL behind PgBouncer, runs fewer in the same time).
    assert!(valid >= 20 && dead >= 5, "too little load: {valid} {dead}");
    sandbox.assert_intact();
    eprintln!(
        "concurrency: {} processes in {:?} ({} verifies: {valid} of valid tokens, {dead} of revoked \
         ones, {racing} racing their revoke; {writes} writes); failures: 0",
        valid + dead + racing + writes,
        LOAD,
        valid + dead + racing
    );
}

/// Runs `racers` copies of `tokens ARGS` (stdin `input`) at once, released together.
fn race(sandbox: &Sandbox, racers: usize, args: &[&str], input: &str) -> Vec<std::process::Output> {
    let start = std::sync::Barrier::new(racers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..racers)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    tokens(sandbox, args, Some(input))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_secret_key_spent_by_racing_refreshes_is_spent_once() {
    const RACERS: usize = 6;
    for round in 0..3 {
        let sandbox = Sandbox::new();
        let pair = sandbox.create(&format!("bot-{round}"), &[]);
        let input = format!("{}\n{}\n", pair.token, pair.secret_key.as_deref().unwrap());
        let outputs = race(&sandbox, RACERS, &["refresh"], &input);
        let winners: Vec<_> = outputs.iter().filter(|o| code(o) == 0).collect();
        assert_eq!(winners.len(), 1, "exactly one refresh wins");
        for output in outputs.iter().filter(|o| code(o) != 0) {
            assert_eq!(code(output), 5, "{}", stderr(output));
            assert!(stdout(output).is_empty(), "a loser printed a token");
            assert_no_lock_error("refresh", output);
        }
        // The key was presented again after it was spent: the theft signal revokes the lineage,
        // so the winner's new token is dead too, and exactly one was ever made.
        let won = parse_issued(winners[0]);
        assert_eq!(sandbox.verify(&won.token, &[]).0, 5);
        assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 2);
        assert_eq!(
            sandbox.query::<i64>("SELECT count(*) FROM events WHERE kind = 'reuse_detected'"),
            i64::try_from(RACERS - 1).unwrap()
        );
        sandbox.assert_intact();
    }
}

#[test]
fn racing_rotations_of_one_token_make_one_successor() {
    const RACERS: usize = 6;
    let sandbox = Sandbox::new();
    let original = sandbox.create("svc", &["--no-secret-key"]);
    let outputs = race(&sandbox, RACERS, &["rotate", "svc", "--yes"], "");
    let winners: Vec<_> = outputs.iter().filter(|o| code(o) == 0).collect();
    // Every rotation that finds "svc" live rotates it; later ones rotate the successor. None
    // may lose an update: the chain is one line, each token replaced at most once.
    assert!(!winners.is_empty());
    for output in &outputs {
        assert_no_lock_error("rotate", output);
    }
    let tokens: i64 = sandbox.query("SELECT count(*) FROM tokens");
    assert_eq!(tokens, 1 + i64::try_from(winners.len()).unwrap());
    let live: i64 = sandbox.query("SELECT count(*) FROM tokens WHERE revoked_at IS NULL");
    assert_eq!(live, 1, "one live token named svc");
    let replaced_twice: i64 = sandbox.query(
        "SELECT count(*) FROM (SELECT rotated_from FROM tokens WHERE rotated_from IS NOT NULL \
         GROUP BY rotated_from HAVING count(*) > 1) AS forks",
    );
    assert_eq!(replaced_twice, 0, "a token was rotated twice");
    assert_eq!(sandbox.verify(&original.token, &[]).0, 5);
    sandbox.assert_intact();
}

#[test]
fn a_revoke_racing_a_rotation_leaves_nothing_of_the_name_alive() {
    for round in 0..6 {
        let sandbox = Sandbox::new();
        let name = format!("svc-{round}");
        sandbox.create(&name, &["--no-secret-key"]);
        let start = std::sync::Barrier::new(2);
        let (rotated, revoked) = std::thread::scope(|scope| {
            let rotate = scope.spawn(|| {
                start.wait();
                tokens(&sandbox, &["rotate", &name, "--yes"], None)
            });
            let revoke = scope.spawn(|| {
                start.wait();
                tokens(&sandbox, &["revoke", &name, "--yes"], None)
            });
            (rotate.join().unwrap(), revoke.join().unwrap())
        });
        assert_eq!(code(&revoked), 0, "{}", stderr(&revoked));
        // The rotation either came first (and its new token was revoked with the name) or found
        // the token already revoked (exit 5); either way nothing named svc verifies.
        match code(&rotated) {
            0 => assert_eq!(sandbox.verify(&parse_issued(&rotated).token, &[]).0, 5),
            5 => assert!(stdout(&rotated).is_empty()),
            other => panic!("rotate exited {other}: {}", stderr(&rotated)),
        }
        let alive: i64 = sandbox.query(&format!(
            "SELECT count(*) FROM tokens WHERE name = '{name}' AND revoked_at IS NULL"
        ));
        assert_eq!(alive, 0, "round {round}");
    }
}
