//! What an admin reads: one error style, messages that say what was meant, quiet scripts, and
//! the vault named when a command makes one.

mod common;

use common::*;

#[test]
fn clap_errors_are_one_line_in_our_style() {
    let sandbox = Sandbox::new();
    for (args, expected) in [
        (
            &["list", "--bogus"][..],
            "tokens: unexpected argument '--bogus' found; see tokens list --help\n",
        ),
        (
            &["create", "café"],
            "tokens: invalid value 'café' for '[NAME]': use ASCII letters, digits and . _ : - (1 to 64 characters); see tokens create --help\n",
        ),
        (
            &["list", "--status", "expiring"],
            "tokens: invalid value 'expiring' for '--status <STATUS>' (possible values: active, rotating, disabled, used_up, expired, revoked; a similar value exists: 'expired'); see tokens list --help\n",
        ),
        (
            &["create", "x", "--expires", "6m"],
            "tokens: invalid --expires \"6m\": write 6min for minutes, or 180d for six months\n",
        ),
        (
            &["create", "x", "--expires", "1000y"],
            "tokens: invalid --expires \"1000y\": use a duration from 1s to 100y, or never (e.g. 30d)\n",
        ),
    ] {
        let output = sandbox.run(args, "");
        assert_eq!(
            (code(&output), stderr(&output).as_str()),
            (2, expected),
            "{args:?}"
        );
    }
    assert!(!sandbox.vault_exists());
    // 90 minutes, said so, is fine.
    sandbox.create("short", &["--expires", "90min"]);
}

#[test]
fn verdict_messages_name_what_was_given_and_every_missing_scope() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--scope", "read"]);
    let (exit, said) = sandbox.verify(&issued.token, &["--scope", "write,deploy:prod,read"]);
    assert_eq!(
        (exit, said.as_str()),
        (
            6,
            format!(
                "tokens: token \"ci\" ({}) lacks the scopes \"write\", \"deploy:prod\"\n",
                issued.id()
            )
            .as_str()
        )
    );
    // -q: the exit status is the verdict, nothing is said.
    for (stdin, expected) in [
        (issued.token.clone(), 6),
        ("not-a-token".to_owned(), 3),
        (issued.secret_key.clone().unwrap(), 3),
    ] {
        let output = sandbox.run(&["verify", "-q", "--scope", "write"], &format!("{stdin}\n"));
        assert_eq!((code(&output), stderr(&output).as_str()), (expected, ""));
    }
    // A second token on stdin is not checked silently.
    let (exit, said) = sandbox.verify(&format!("{}\n{}", issued.token, issued.token), &[]);
    assert_eq!(
        (exit, said.as_str()),
        (
            0,
            "warning: stdin holds more than one line; verify checked the first (--batch checks one token a line)\n"
        )
    );
    // A token file that is not there is an I/O error.
    let missing = sandbox.path("no-such-file");
    let output = sandbox.run(&["verify", "--token-file", missing.to_str().unwrap()], "");
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stderr(&output).starts_with("tokens: cannot read the token from "));
}

#[test]
fn a_script_capturing_the_token_hears_nothing_and_edit_json_prints_the_token() {
    let sandbox = Sandbox::new();
    // `T=$(tokens create …)` with stderr on a file: no notice about a token "above".
    let output = sandbox.run(&["create", "ci", "--no-secret-key"], "");
    assert_eq!(code(&output), 0);
    assert!(
        !stderr(&output).contains("Store it now"),
        "{}",
        stderr(&output)
    );
    let output = sandbox.run(&["--json", "edit", "ci", "--add-scope", "read"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let edited = json(&output);
    assert_eq!(
        (edited["name"].as_str(), edited["scopes"].clone()),
        (Some("ci"), serde_json::json!(["read"]))
    );
    assert_eq!(sandbox.query::<String>("SELECT scopes FROM tokens"), "read");
}

#[test]
fn revoke_without_a_reason_and_reuse_say_it_plainly() {
    let sandbox = Sandbox::new();
    sandbox.create("bot", &[]);
    let output = sandbox.run(&["revoke", "bot", "--yes"], "");
    assert_eq!(code(&output), 0);
    let output = sandbox.run(&["show", "bot"], "");
    let revoked_line = stdout(&output)
        .lines()
        .find(|line| line.starts_with("revoked"))
        .unwrap()
        .to_owned();
    assert!(
        revoked_line.ends_with("— no reason given") && !revoked_line.contains("— revoked"),
        "{revoked_line}"
    );
    // Everything revoked: the empty list points at --all, not at create.
    let output = sandbox.run(&["list"], "");
    assert_eq!(
        (code(&output), stderr(&output).as_str()),
        (
            0,
            "No tokens match; revoked tokens are listed with --all.\n"
        )
    );
    let empty = Sandbox::new();
    empty.create("x", &[]);
    empty.execute("DELETE FROM tokens");
    let output = empty.run(&["list"], "");
    assert_eq!(
        stderr(&output),
        "No tokens yet. Create one with: tokens create NAME\n"
    );
}

#[test]
fn color_always_wins_over_no_color_everywhere() {
    let sandbox = Sandbox::new();
    sandbox.create("ci", &[]);
    let output = sandbox
        .cmd(&["list", "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(text.contains("\u{1b}[1m"), "the header: {text:?}");
    assert!(
        text.contains("\u{1b}[38;5;10m active"),
        "the status: {text:?}"
    );
}

#[test]
fn the_vault_location_is_read_as_a_user_means_it() {
    let sandbox = Sandbox::sqlite();
    let home = sandbox.dir.path();
    // An empty TOKENS_VAULT is the default vault (under HOME), not a missing --vault value.
    let output = sandbox
        .cmd(&["list"])
        .env("TOKENS_VAULT", "")
        .env("XDG_DATA_HOME", home.join("data"))
        .output()
        .unwrap();
    assert_eq!(
        (code(&output), stderr(&output)),
        (
            1,
            format!(
                "tokens: no vault at {}/data/tokens/vault.db (create a token first, or pass --vault)\n",
                home.display()
            )
        )
    );
    // `~` is the home folder, and a command that makes a vault says where.
    let output = sandbox
        .cmd(&["create", "ci", "--no-secret-key"])
        .env("TOKENS_VAULT", "~/vaults/team.db")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "Created a new vault at {}/vaults/team.db.\n",
            home.display()
        )
    );
    assert!(home.join("vaults/team.db").exists());
    assert!(!std::path::Path::new("~").exists());
    // The second time it is there: nothing said.
    let output = sandbox
        .cmd(&["create", "cd", "--no-secret-key"])
        .env("TOKENS_VAULT", "~/vaults/team.db")
        .output()
        .unwrap();
    assert_eq!((code(&output), stderr(&output).as_str()), (0, ""));
}
