//! A credential on the command line (SPEC §3, §8) is refused wherever it sits, exit 2, and is
//! never echoed or stored; a message that would quote one (from the environment, say) shows it
//! masked.

mod common;

use clap::CommandFactory;
use common::*;

/// Every command line that puts `value` in an argument that takes a value: each option of each
/// command (global ones included, `--opt VALUE` and `--opt=VALUE`) and each positional argument,
/// read off the CLI definition, so an option added later is covered too.
fn every_argument_holding(value: &str) -> Vec<Vec<String>> {
    let mut cli = tokens::cli::Cli::command();
    cli.build();
    let mut lines = Vec::new();
    for command in cli.get_subcommands() {
        let name = command.get_name().to_owned();
        for arg in command.get_arguments() {
            if !arg.get_action().takes_values() {
                continue;
            }
            match arg.get_long() {
                Some(long) => {
                    lines.push(vec![name.clone(), format!("--{long}"), value.to_owned()]);
                    lines.push(vec![name.clone(), format!("--{long}={value}")]);
                }
                None => lines.push(vec![name.clone(), value.to_owned()]),
            }
        }
    }
    lines
}

/// What the vault holds, as `list` and `log` tell it.
fn state(sandbox: &Sandbox) -> String {
    let list = sandbox.run(&["list", "--all", "--json"], "");
    let log = sandbox.run(&["log", "--json"], "");
    format!("{}{}", stdout(&list), stdout(&log))
}

#[test]
fn a_credential_in_any_argument_is_refused_and_never_echoed() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &["--app", "ci", "--scope", "read"]);
    let token = issued.token.clone();
    let key = issued.secret_key.clone().unwrap();
    let before = state(&sandbox);
    let secrets = [&token["tk_".len() + 13..], &key["tks_".len() + 13..]];
    let values = [
        token.clone(),
        key.clone(),
        format!("x,{token}"),
        format!("see {token} please"),
        format!("{token}\u{1b}[2J"),
        format!("{}x", &key[..key.len() - 1]), // a wrong checksum still carries the secret
    ];
    let mut checked = 0;
    for value in &values {
        for line in every_argument_holding(value) {
            let args: Vec<&str> = line.iter().map(String::as_str).collect();
            let output = sandbox.run(&args, "");
            let (out, err) = (stdout(&output), stderr(&output));
            assert_eq!(code(&output), 2, "{args:?}: {err}");
            assert_eq!(
                err,
                format!("tokens: {}\n", tokens::cli::SECRET_IN_ARGS),
                "{args:?}"
            );
            assert_eq!(out, "", "{args:?}");
            for secret in secrets {
                assert!(!err.contains(secret) && !out.contains(secret), "{args:?}");
            }
            checked += 1;
        }
    }
    // The table is the whole CLI: notes, reasons, times, paths, variables, scopes, apps, names.
    for option in [
        "--note",
        "--reason",
        "--since",
        "--expires",
        "--vault",
        "--token-file",
        "--token-env",
        "--secret-key-env",
        "--secret-key-file",
        "--scope",
        "--app",
        "--grace",
        "--clear-after",
        "--rename",
        "--add-scope",
        "--from",
        "--to",
        "--color",
    ] {
        assert!(
            every_argument_holding("v")
                .iter()
                .any(|line| line.get(1).is_some_and(|arg| arg == option)),
            "{option} is not in the table"
        );
    }
    assert!(checked > 6 * 60, "only {checked} command lines");
    // Nothing was stored or changed, and the token still works.
    assert_eq!(state(&sandbox), before);
    assert_eq!(sandbox.verify(&token, &[]).0, 0);

    // Help, and names and notes that merely start like a token, are not refused.
    sandbox.create(
        "tk_ci",
        &["--no-secret-key", "--note", "tk_ and tks_ are our prefixes"],
    );
    let output = sandbox.run(&["show", "tk_ci"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains("tk_ and tks_ are our prefixes"));
    let output = sandbox.run(&["create", "--help"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn a_message_that_would_quote_a_credential_masks_it() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let secret = &issued.token["tk_".len() + 13..];
    // Not an argument, so not refused: the environment names a vault path holding the token.
    let folder = sandbox.path(&issued.token);
    let output = sandbox
        .cmd(&["list"])
        .env("TOKENS_VAULT", folder.join("vault.db"))
        .output()
        .unwrap();
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("tk_{}_…/vault.db", issued.id())),
        "{}",
        stderr(&output)
    );
    assert_eq!(stderr(&output).lines().count(), 1);
}
