//! On a real pseudo-terminal: prompts, confirmation, the once-only notice, colour and width.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use expectrl::process::Termios;
use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;
use expectrl::{ControlCode, Eof, Expect, Regex};

const DOWN: &str = "\x1b[B";

/// Runs `tokens ARGS` on a fresh pseudo-terminal of `cols` columns.
fn spawn(sandbox: &Sandbox, args: &[&str], cols: u16, env: &[(&str, &str)]) -> Session {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokens"));
    command
        .args(args)
        .env("TOKENS_VAULT", &sandbox.location)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("DISPLAY");
    for (key, value) in env {
        command.env(key, value);
    }
    let mut session = Session::spawn(command).expect("spawn on a pty");
    session.get_process_mut().set_window_size(cols, 40).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(15)));
    session
}

/// Like [`spawn`], but `tokens` starts only once the terminal has its size (a window size set
/// after the spawn may come after the program has read it).
fn spawn_sized(sandbox: &Sandbox, args: &[&str], cols: u16) -> Session {
    let mut command = Command::new("sh");
    command
        .args([
            "-c",
            "while [ \"$(stty size)\" != \"40 $0\" ]; do sleep 0.02; done; exec \"$@\"",
        ])
        .arg(cols.to_string())
        .arg(env!("CARGO_BIN_EXE_tokens"))
        .args(args)
        .env("TOKENS_VAULT", &sandbox.location)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("DISPLAY");
    let mut session = Session::spawn(command).expect("spawn on a pty");
    session.get_process_mut().set_window_size(cols, 40).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(15)));
    session
}

/// Reads the rest of the screen output and the exit status.
fn finish(mut session: Session) -> (String, i32) {
    let rest = session.expect(Eof).expect("the program ends");
    // Eof matches everything left.
    let screen = String::from_utf8_lossy(rest.get(0).unwrap_or_default()).into_owned();
    let code = match session.get_process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        WaitStatus::Signaled(_, signal, _) => 128 + signal as i32,
        other => panic!("not an exit: {other:?}"),
    };
    (screen, code)
}

/// Waits until the program has turned echo off for a secret: typed earlier, a line may be
/// dropped when the terminal mode changes (as it would for a person typing that fast).
fn wait_for_hidden_input(session: &Session) {
    let start = std::time::Instant::now();
    while session.is_echo().unwrap() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "echo never turned off for the secret"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn without_escapes(text: &str) -> String {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip a CSI sequence: ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn create_without_a_name_asks_for_everything_on_a_terminal() {
    let sandbox = Sandbox::new();
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("deploy-bot").unwrap();
    session.expect("App").unwrap();
    session.send_line("ci").unwrap();
    session.expect("Scopes").unwrap();
    session.send_line("read, deploy:prod").unwrap();
    session.expect("Lifetime").unwrap();
    session.expect("30d").unwrap();
    session.send("\r").unwrap(); // 30d is preselected
    let token = session
        .expect(Regex("tk_[A-Za-z0-9]{12}_[A-Za-z0-9]{38}"))
        .unwrap();
    let token = String::from_utf8(token.get(0).unwrap().to_vec()).unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    let screen = without_escapes(&screen);
    assert!(screen.contains("it will not be shown again"), "{screen}");
    assert!(screen.contains("Created token \"deploy-bot\""), "{screen}");
    assert_eq!(
        sandbox
            .verify(
                &token,
                &["--app", "ci", "--scope", "deploy:prod", "--scope", "read"]
            )
            .0,
        0
    );
    let lifetime: i64 = sandbox.query("SELECT expires_at - created_at FROM tokens");
    assert_eq!(lifetime, 30 * 86_400);
}

/// The vault's policy (SPEC §9) is read before the first question: a required app is asked as
/// required, the scopes offered are the policy's and others are refused as typed, the
/// lifetimes offered are the allowed ones, and a custom one is checked as typed. The finished
/// prompt is never refused.
#[test]
fn the_prompt_asks_within_the_vault_policy() {
    let sandbox = strict_sandbox();
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("second").unwrap();
    session
        .expect("App (required by the vault's policy)")
        .unwrap();
    session.send_line("").unwrap();
    session
        .expect("the vault's policy requires an app")
        .unwrap();
    session.send_line("ci").unwrap();
    session.expect("Scopes the vault's policy allows").unwrap();
    session.send(DOWN).unwrap(); // read, write, deploy:prod: pick "write"
    session.send(" ").unwrap();
    session.send("\r").unwrap();
    session.expect("More of those scopes").unwrap();
    session.send_line("admin").unwrap();
    session
        .expect("\"admin\" is not allowed by the vault's policy (scopes: read,write,deploy:prod)")
        .unwrap();
    session.send_line("deploy:prod").unwrap();
    session.expect("Lifetime").unwrap();
    let menu = session.expect("custom…").unwrap();
    let menu = without_escapes(&String::from_utf8_lossy(menu.before()));
    for offered in ["7d", "30d", "90d"] {
        assert!(menu.contains(offered), "{offered} not offered: {menu}");
    }
    for refused in ["1y", "never"] {
        assert!(!menu.contains(refused), "{refused} offered: {menu}");
    }
    session.send(format!("{DOWN}{DOWN}")).unwrap(); // 30d -> 90d -> custom…
    session.send("\r").unwrap();
    session.expect("Expires").unwrap();
    // 6m: the minutes only; six months (180d) is past the policy's 90d.
    session.send_line("6m").unwrap();
    let refused = session.expect("Expires").unwrap();
    let refused = without_escapes(&String::from_utf8_lossy(refused.before()));
    assert!(refused.contains("write 6min for minutes"), "{refused}");
    assert!(!refused.contains("180d"), "{refused}");
    session.send_line("1y").unwrap();
    session
        .expect("at most 90d (max-lifetime); give 90d or less")
        .unwrap();
    session.send_line("never").unwrap();
    session.expect("at most 90d (max-lifetime)").unwrap();
    session.send_line("90d").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    let made: (String, String, i64) = (
        sandbox.query("SELECT app FROM tokens WHERE name = 'second'"),
        sandbox.query("SELECT scopes FROM tokens WHERE name = 'second'"),
        sandbox.query("SELECT expires_at - created_at FROM tokens WHERE name = 'second'"),
    );
    assert_eq!(
        made,
        ("ci".to_owned(), "write deploy:prod".to_owned(), 90 * 86_400)
    );
}

/// Options given with no NAME are kept, not asked again, and held to the policy before the
/// first question (they were dropped: `create --scope admin --expires 1y` made a 30-day token
/// without scopes).
#[test]
fn the_prompt_keeps_the_options_given_and_checks_them_first() {
    let sandbox = strict_sandbox();
    let session = spawn(&sandbox, &["create", "--scope", "admin"], 100, &[]);
    let (screen, code) = finish(session);
    assert_eq!(code, 2, "{screen}");
    assert!(
        screen.contains("the scope \"admin\" is not allowed by the vault's policy"),
        "{screen}"
    );
    assert!(
        !screen.contains("Name"),
        "refused before the first question: {screen}"
    );
    let session = spawn(&sandbox, &["create", "--expires", "1y"], 100, &[]);
    let (screen, code) = finish(session);
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("max-lifetime"), "{screen}");
    let output = sandbox.run(&["policy", "set", "--max-refresh-window", "7d"], "");
    assert_eq!(common::code(&output), 0, "{}", stderr(&output));
    let session = spawn(&sandbox, &["create", "--refresh-window", "30d"], 100, &[]);
    let (screen, code) = finish(session);
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("max-refresh-window"), "{screen}");

    let mut session = spawn(
        &sandbox,
        &["create", "--scope", "write,read", "--expires", "60d"],
        100,
        &[],
    );
    session.expect("Name").unwrap();
    session.send_line("flagged").unwrap();
    session
        .expect("App (required by the vault's policy)")
        .unwrap();
    session.send_line("ci").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("Scopes"), "scopes not asked: {screen}");
    assert!(!screen.contains("Lifetime"), "lifetime not asked: {screen}");
    let made: (String, String, i64) = (
        sandbox.query("SELECT app FROM tokens WHERE name = 'flagged'"),
        sandbox.query("SELECT scopes FROM tokens WHERE name = 'flagged'"),
        sandbox.query("SELECT expires_at - created_at FROM tokens WHERE name = 'flagged'"),
    );
    assert_eq!(
        made,
        ("ci".to_owned(), "write read".to_owned(), 60 * 86_400)
    );

    // --app given: not asked.
    let mut session = spawn(&sandbox, &["create", "--app", "deployer"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("with-app").unwrap();
    session.expect("Scopes the vault's policy allows").unwrap();
    session.send("\r").unwrap();
    session.expect("More of those scopes").unwrap();
    session.send_line("").unwrap();
    session.expect("custom…").unwrap();
    session.send("\r").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("App ("), "app not asked: {screen}");
    let app: String = sandbox.query("SELECT app FROM tokens WHERE name = 'with-app'");
    assert_eq!(app, "deployer");
}

/// A vault with one token and the policy `--require-app --max-lifetime 90d --scopes
/// read,write,deploy:prod`.
fn strict_sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.create("first", &["--app", "ci", "--scope", "admin"]);
    let output = sandbox.run(
        &[
            "policy",
            "set",
            "--require-app",
            "--max-lifetime",
            "90d",
            "--scopes",
            "read,write,deploy:prod",
        ],
        "",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    sandbox
}

/// Whatever is picked from the lifetime menu under a policy, the token is made.
#[test]
fn every_lifetime_offered_under_a_policy_is_accepted() {
    let sandbox = strict_sandbox();
    // The menu is 7d, 30d (chosen first), 90d, custom…
    for (downs, days) in [(0, 30), (1, 90), (3, 7)] {
        let name = format!("made-{days}");
        let mut session = spawn(&sandbox, &["create"], 100, &[]);
        session.expect("Name").unwrap();
        session.send_line(&name).unwrap();
        session.expect("App").unwrap();
        session.send_line("ci").unwrap();
        session.expect("Scopes the vault's policy allows").unwrap();
        session.send(" \r").unwrap(); // "read"
        session.expect("More of those scopes").unwrap();
        session.send_line("").unwrap();
        session.expect("custom…").unwrap();
        session.send(DOWN.repeat(downs)).unwrap(); // wraps from custom… to 7d
        session.send("\r").unwrap();
        let (screen, code) = finish(session);
        assert_eq!(code, 0, "{days}d: {screen}");
        let lifetime: i64 = sandbox.query(&format!(
            "SELECT expires_at - created_at FROM tokens WHERE name = '{name}'"
        ));
        assert_eq!(lifetime, days * 86_400);
    }
}

#[test]
fn the_prompt_offers_scopes_in_use_and_other_lifetimes() {
    let sandbox = Sandbox::new();
    sandbox.create("first", &["--scope", "admin,read"]);
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("second").unwrap();
    session.expect("App").unwrap();
    session.send_line("").unwrap();
    session.expect("Scopes in use").unwrap();
    session.send(DOWN).unwrap(); // admin, read: pick "read"
    session.send(" ").unwrap();
    session.send("\r").unwrap();
    session.expect("Other scopes").unwrap();
    session.send_line("write").unwrap();
    session.expect("Lifetime").unwrap();
    session.send(format!("{DOWN}{DOWN}{DOWN}")).unwrap(); // 30d -> 90d -> 1y -> never
    session.send("\r").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    let scopes: String = sandbox.query("SELECT scopes FROM tokens WHERE name = 'second'");
    let app: Option<String> = sandbox.query("SELECT app FROM tokens WHERE name = 'second'");
    let expires: Option<i64> = sandbox.query("SELECT expires_at FROM tokens WHERE name = 'second'");
    assert_eq!((scopes.as_str(), app, expires), ("read write", None, None));
}

#[test]
fn bad_answers_are_asked_again() {
    let sandbox = Sandbox::new();
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("no spaces allowed").unwrap();
    session.expect("letters, digits").unwrap();
    session.send_line("fine").unwrap();
    session.expect("App").unwrap();
    session.send_line("").unwrap();
    session.expect("Scopes").unwrap();
    session.send_line("UPPER").unwrap();
    session.expect("lower-case").unwrap();
    session.send_line("").unwrap();
    session.expect("Lifetime").unwrap();
    session.send(format!("{DOWN}{DOWN}{DOWN}{DOWN}")).unwrap(); // custom…
    session.send("\r").unwrap();
    session.expect("Expires").unwrap();
    session.send_line("2001-01-01").unwrap();
    session.expect("in the past").unwrap();
    session.send_line("12h").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(
        sandbox.query::<i64>("SELECT expires_at - created_at FROM tokens"),
        12 * 3_600
    );
}

#[test]
fn ctrl_c_at_a_prompt_changes_nothing() {
    let sandbox = Sandbox::new();
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send("half-typ").unwrap();
    session.send(ControlCode::EndOfText).unwrap(); // Ctrl-C
    let (screen, code) = finish(session);
    assert_ne!(code, 0, "{screen}");
    assert!(
        !without_escapes(&screen).contains("tokens:"),
        "not quiet: {screen}"
    );
    assert!(!sandbox.vault_exists(), "a cancelled create made a vault");
}

#[test]
fn esc_at_the_lifetime_prompt_changes_nothing() {
    let sandbox = Sandbox::new();
    sandbox.create("existing", &[]);
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("never-made").unwrap();
    session.expect("App").unwrap();
    session.send_line("").unwrap();
    session.expect("Scopes").unwrap();
    session.send_line("").unwrap();
    session.expect("Lifetime").unwrap();
    session.send(ControlCode::Escape).unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130, "{screen}");
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
}

#[test]
fn revoke_asks_first_on_a_terminal() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    // No: nothing happens.
    let mut session = spawn(&sandbox, &["revoke", "ci"], 100, &[]);
    session
        .expect(format!("Revoke \"ci\" ({})?", issued.id()).as_str())
        .unwrap();
    session.send("n").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130, "{screen}");
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
    // Yes: revoked.
    let mut session = spawn(&sandbox, &["revoke", "ci"], 100, &[]);
    session.expect("Revoke").unwrap();
    session.send("y").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert!(
        without_escapes(&screen).contains(&format!("Revoked \"ci\" ({}).", issued.id())),
        "{screen}"
    );
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
}

#[test]
fn rotate_asks_first_on_a_terminal() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let mut session = spawn(&sandbox, &["rotate", "ci"], 100, &[]);
    session
        .expect(format!("Rotate \"ci\" ({})?", issued.id()).as_str())
        .unwrap();
    session.send("y").unwrap();
    let new = session
        .expect(Regex("tk_[A-Za-z0-9]{12}_[A-Za-z0-9]{38}"))
        .unwrap();
    let new = String::from_utf8(new.get(0).unwrap().to_vec()).unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
    assert_eq!(sandbox.verify(&new, &[]).0, 0);
}

#[test]
fn revoke_yes_skips_the_question() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let session = spawn(&sandbox, &["revoke", "ci", "--yes"], 100, &[]);
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("Revoke \""), "asked anyway: {screen}");
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
}

#[test]
fn refresh_on_a_terminal_asks_without_echo() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("bot", &[]);
    let mut session = spawn(&sandbox, &["refresh"], 100, &[]);
    session.expect("Token").unwrap();
    wait_for_hidden_input(&session);
    session.send_line(&issued.token).unwrap();
    session.expect("Secret key").unwrap();
    wait_for_hidden_input(&session);
    session
        .send_line(issued.secret_key.as_deref().unwrap())
        .unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert!(
        !screen.contains(&issued.token[16..]),
        "the typed token was echoed"
    );
    assert!(
        without_escapes(&screen).contains("Refreshed token \"bot\""),
        "{screen}"
    );
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 5);
}

#[test]
fn list_is_coloured_on_a_terminal_and_fits_its_width() {
    let sandbox = Sandbox::new();
    sandbox.create(
        "active-one",
        &[
            "--app",
            "a-rather-long-application-name",
            "--scope",
            "read,write,deploy:production",
        ],
    );
    sandbox.create("expiring-one", &["--expires", "2d", "--note", "x"]);
    sandbox.create("revoked-one", &[]);
    sandbox.run(&["revoke", "revoked-one", "-y"], "");
    let (screen, code) = finish(spawn(&sandbox, &["list", "--all"], 80, &[]));
    assert_eq!(code, 0);
    assert!(
        screen.contains("\u{1b}["),
        "no colour on a terminal: {screen}"
    );
    let plain = without_escapes(&screen);
    // One vocabulary (SPEC §4): expiring soon is the expiry shown in yellow, not a status.
    assert!(!plain.contains("expiring "), "{plain}");
    assert!(screen.contains("\u{1b}[38;5;11m in 2d "), "{screen:?}");
    for status in ["active", "revoked"] {
        assert!(plain.contains(status), "{status} missing: {plain}");
    }
    for line in plain.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than the terminal: {line:?}"
        );
    }
    // NO_COLOR and --color never: no escape sequences at all.
    let (screen, _) = finish(spawn(
        &sandbox,
        &["list", "--all"],
        80,
        &[("NO_COLOR", "1")],
    ));
    assert!(!screen.contains('\u{1b}'), "{screen}");
    let (screen, _) = finish(spawn(
        &sandbox,
        &["list", "--all", "--color", "never"],
        80,
        &[],
    ));
    assert!(!screen.contains('\u{1b}'), "{screen}");
    // Piped: plain, unless --color always.
    assert!(!stdout(&sandbox.run(&["list"], "")).contains('\u{1b}'));
    assert!(stdout(&sandbox.run(&["list", "--color", "always"], "")).contains('\u{1b}'));
}

#[test]
fn the_name_prompt_refuses_a_name_shaped_like_an_id() {
    let sandbox = Sandbox::new();
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("AbCdEfGh1234").unwrap();
    session.expect("shape of a token id").unwrap();
    session.send_line("AbCdEfGh1234-v2").unwrap();
    session.expect("App").unwrap();
    session.send_line("").unwrap();
    session.expect("Scopes").unwrap();
    session.send_line("").unwrap();
    session.expect("Lifetime").unwrap();
    session.send("\r").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(
        sandbox.query::<String>("SELECT name FROM tokens"),
        "AbCdEfGh1234-v2"
    );
}

#[test]
fn prompts_show_text_from_the_vault_escaped() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--scope", "read"]);
    // Another writer put an OSC window title and a screen clear in the name and a scope.
    sandbox.execute(&format!(
        "UPDATE tokens SET name = 'ci\u{1b}]0;pwned\u{7}\u{1b}[2J', \
         scopes = 'read x\u{1b}[2Jy' WHERE id = '{}'",
        issued.id()
    ));
    let mut session = spawn(&sandbox, &["revoke", &issued.id()], 100, &[]);
    session
        .expect(format!("Revoke \"ci\\x1b]0;pwned\\x07\\x1b[2J\" ({})?", issued.id()).as_str())
        .unwrap();
    session.send("n").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130, "{screen}");
    assert!(
        !screen.contains("\u{1b}]0;") && !screen.contains("\u{1b}[2J"),
        "{screen:?}"
    );
    // The create prompt offers only the scopes in use that could be typed.
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("second").unwrap();
    session.expect("App").unwrap();
    session.send_line("").unwrap();
    session.expect("Scopes in use").unwrap();
    session.send(" \r").unwrap(); // pick the first (and only) one
    session.expect("Other scopes").unwrap();
    session.send_line("").unwrap();
    session.expect("Lifetime").unwrap();
    session.send("\r").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    assert!(
        !screen.contains("x\u{1b}[2Jy") && !screen.contains("x\\x1b"),
        "{screen:?}"
    );
    assert_eq!(
        sandbox.query::<String>("SELECT scopes FROM tokens WHERE name = 'second'"),
        "read"
    );
}

#[test]
fn tables_fit_60_to_120_columns_and_never_split_an_id() {
    let sandbox = Sandbox::new();
    let long = sandbox.create(
        "a-very-long-token-name-for-the-deploy-pipeline",
        &[
            "--app",
            "a-rather-long-application-name",
            "--scope",
            "deploy:production,read:everything,write:everything",
        ],
    );
    let short = sandbox.create("ci", &["--expires", "3d"]);
    let old = sandbox.create("old", &[]);
    let output = sandbox.run(&["rotate", "old", "--grace", "2h"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let ids = [long.id(), short.id(), old.id()];
    for cols in [60u16, 80, 100, 120] {
        for args in [&["list", "--all"][..], &["log"][..]] {
            let (screen, status) = finish(spawn_sized(&sandbox, args, cols));
            assert_eq!(status, 0, "{args:?} at {cols}: {screen}");
            let plain = without_escapes(&screen);
            for line in plain.lines() {
                assert!(
                    line.trim_end().chars().count() <= usize::from(cols),
                    "{args:?} wider than {cols}: {line:?}"
                );
            }
            for id in &ids {
                assert!(
                    plain.contains(id.as_str()),
                    "{args:?} at {cols} splits {id}: {plain}"
                );
            }
            if args[0] == "list" {
                // Whole statuses; the old token is rotating and stops within its grace.
                let old_line = plain.lines().find(|line| line.contains(&old.id())).unwrap();
                assert!(
                    old_line.contains("rotating") && old_line.contains("in 2h"),
                    "{old_line}"
                );
                if cols < 120 {
                    assert!(
                        plain.contains('…'),
                        "long values are shortened at {cols}: {plain}"
                    );
                }
            }
        }
    }
}

#[test]
fn esc_cancels_every_text_prompt_hidden_ones_too() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("existing", &["--scope", "read"]);
    // Name, App, Other scopes: Esc at each, with something typed.
    for answered in [0, 1, 3] {
        let mut session = spawn(&sandbox, &["create"], 100, &[]);
        for (prompt, answer) in [("Name", "never-made"), ("App", ""), ("Scopes in use", " ")]
            .iter()
            .take(answered)
        {
            session.expect(*prompt).unwrap();
            if *prompt == "Scopes in use" {
                session.send(format!("{answer}\r")).unwrap();
            } else {
                session.send_line(answer).unwrap();
            }
        }
        let next = ["Name", "App", "", "Other scopes"][answered];
        session.expect(next).unwrap();
        session.send("half").unwrap();
        session.send(ControlCode::Escape).unwrap();
        let (screen, code) = finish(session);
        assert_eq!(code, 130, "Esc at {next}: {screen}");
    }
    // The hidden Token prompt of verify.
    let mut session = spawn(&sandbox, &["verify"], 100, &[]);
    session.expect("Token").unwrap();
    wait_for_hidden_input(&session);
    session.send(&issued.token[..10]).unwrap();
    session.send(ControlCode::Escape).unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130, "{screen}");
    assert!(!screen.contains(&issued.token[..10]), "echoed: {screen}");
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
    assert_eq!(
        sandbox.query::<Option<i64>>("SELECT max(last_used_at) FROM token_usage"),
        None
    );
}

#[test]
fn ctrl_c_at_a_question_shows_the_cursor_again() {
    let sandbox = Sandbox::new();
    sandbox.create("bot", &[]);
    for (args, prompt) in [
        (&["revoke", "bot"][..], "Revoke"),
        (&["create"][..], "Name"),
    ] {
        let mut session = spawn(&sandbox, args, 100, &[]);
        session.expect(prompt).unwrap();
        if prompt == "Name" {
            // On to the Lifetime select, which hides the cursor.
            session.send_line("x1").unwrap();
            session.expect("App").unwrap();
            session.send_line("").unwrap();
            session.expect("Scopes").unwrap();
            session.send_line("").unwrap();
            session.expect("Lifetime").unwrap();
        }
        session.send(ControlCode::EndOfText).unwrap();
        let (screen, code) = finish(session);
        assert_eq!(code, 130, "{args:?}: {screen}");
        let hidden = screen.rfind("\u{1b}[?25l");
        let shown = screen.rfind("\u{1b}[?25h");
        assert!(
            hidden.is_none() || shown > hidden,
            "{args:?} left the cursor hidden: {screen:?}"
        );
    }
    assert_eq!(sandbox.query::<i64>("SELECT count(*) FROM tokens"), 1);
}

#[test]
fn a_taken_name_is_refused_at_the_name_prompt() {
    let sandbox = Sandbox::new();
    let taken = sandbox.create("ci", &[]);
    let mut session = spawn(&sandbox, &["create"], 120, &[]);
    session.expect("Name").unwrap();
    session.send_line("ci").unwrap();
    session
        .expect(
            format!(
                "a token named \"ci\" already exists ({}); pick another name",
                taken.id()
            )
            .as_str(),
        )
        .unwrap();
    session.send_line("ci-2").unwrap();
    session.expect("App").unwrap();
    session.send(ControlCode::Escape).unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130, "{screen}");
}

#[test]
fn a_long_revoke_question_lists_the_tokens_under_it_once() {
    let sandbox = Sandbox::new();
    let mut ids = Vec::new();
    for index in 0..40 {
        ids.push(
            sandbox
                .create(&format!("partner-{index:02}"), &["--app", "partner"])
                .id(),
        );
    }
    let mut session = spawn(&sandbox, &["revoke", "--app", "partner", "--all"], 80, &[]);
    let asked = session.expect("Revoke all 40?").unwrap();
    let before = without_escapes(&String::from_utf8_lossy(asked.before()));
    // A short question, then one token a line, each id whole.
    assert_eq!(
        before
            .matches("Revoke 40 tokens? Clients using them will be refused at once:")
            .count(),
        1,
        "{before}"
    );
    for (index, id) in ids.iter().enumerate() {
        assert!(
            before.contains(&format!("  \"partner-{index:02}\" ({id})\r\n")),
            "{id}: {before}"
        );
    }
    session.send("y").unwrap();
    let (rest, code) = finish(session);
    assert_eq!(code, 0, "{rest}");
    // Answered: the list is not drawn again.
    assert!(
        !rest.contains(ids[0].as_str()) || rest.matches(ids[0].as_str()).count() == 1,
        "{rest}"
    );
    assert!(!rest.contains("Revoke 40 tokens?"), "{rest}");
    assert_eq!(
        sandbox.query::<i64>("SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL"),
        40
    );
}

/// True when `screen` holds a colour or another text style (an SGR sequence, `ESC [ … m`).
fn styled(screen: &str) -> bool {
    screen.split("\u{1b}[").skip(1).any(|rest| {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        rest[end..].starts_with('m')
    })
}

#[test]
fn color_never_wins_in_prompts_too() {
    let sandbox = Sandbox::new();
    sandbox.create("bot", &[]);
    let mut session = spawn(&sandbox, &["revoke", "bot"], 100, &[]);
    session.expect("Revoke").unwrap();
    session.send("n").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130);
    assert!(
        styled(&screen),
        "the prompt is coloured by default: {screen:?}"
    );
    let mut session = spawn(&sandbox, &["revoke", "bot", "--color", "never"], 100, &[]);
    session.expect("Revoke").unwrap();
    session.send("n").unwrap();
    let (screen, code) = finish(session);
    assert_eq!(code, 130);
    assert!(!styled(&screen), "--color never: {screen:?}");
}

/// The vault policy's default lifetime is the one chosen at the prompt, as it is without one
/// (README: "The default is 30 days, or the vault policy's default lifetime").
#[test]
fn the_prompt_chooses_the_vault_policy_default_lifetime() {
    let sandbox = Sandbox::new();
    sandbox.create("first", &[]);
    let output = sandbox.run(&["policy", "set", "--default-lifetime", "14d"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mut session = spawn(&sandbox, &["create"], 100, &[]);
    session.expect("Name").unwrap();
    session.send_line("second").unwrap();
    session.expect("App").unwrap();
    session.send_line("").unwrap();
    session.expect("Scopes").unwrap();
    session.send_line("").unwrap();
    session.expect("Lifetime").unwrap();
    session.expect("14d").unwrap();
    session.send("\r").unwrap(); // 14d is preselected
    let (screen, code) = finish(session);
    assert_eq!(code, 0, "{screen}");
    let lifetime: i64 =
        sandbox.query("SELECT expires_at - created_at FROM tokens WHERE name = 'second'");
    assert_eq!(lifetime, 14 * 86_400);
}
