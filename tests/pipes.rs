//! A reader that stops reading (`tokens list | head -1`) ends the program quietly, as it ends
//! `git log`: death by SIGPIPE (exit status 141 in a shell), no message, the vault untouched.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use common::*;

/// Runs `tokens ARGS` with `stdin` and a stdout whose reader is already gone.
fn run_into_closed_pipe(sandbox: &Sandbox, args: &[&str], stdin: &str) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = sandbox
        .process(args)
        .stdin(Stdio::piped())
        .stdout(writer)
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_every_printing_command_by_sigpipe_quietly() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci-deploy", &["--scope", "read"]);
    let revoked = sandbox.create("old", &[]);
    let output = sandbox.run(&["revoke", "old", "--yes"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let batch = format!("{}\nnot-a-token\n", issued.token).repeat(50);
    for (args, stdin) in [
        (&["verify", "--batch"][..], batch.as_str()),
        (&["list"][..], ""),
        (&["list", "--all"][..], ""),
        (&["list", "--json"][..], ""),
        (&["log"][..], ""),
        (&["log", "--json"][..], ""),
        (&["show", "ci-deploy"][..], ""),
        (&["show", "--json", "ci-deploy"][..], ""),
        (&["completions", "bash"][..], ""),
    ] {
        let output = run_into_closed_pipe(&sandbox, args, stdin);
        assert_eq!(
            (output.status.signal(), stderr(&output).as_str()),
            (Some(libc::SIGPIPE), ""),
            "tokens {args:?}"
        );
    }
    // Nothing changed: both tokens are as they were.
    let (code, _) = sandbox.verify(&issued.token, &[]);
    assert_eq!(code, 0);
    let (code, _) = sandbox.verify(&revoked.token, &[]);
    assert_eq!(code, 5);
}

#[test]
fn pipefail_scripts_see_141_as_from_git_log() {
    let sandbox = Sandbox::new();
    // Enough tokens (and events) that every listing outgrows the pipe after `head` has gone.
    let mut vault =
        tokens::vault::Vault::open(&sandbox.vault_location(), tokens::vault::Access::Write)
            .unwrap();
    let now = chrono::Utc::now();
    tokens::seed::seed(&mut vault, 3_000, 0, now).unwrap();
    vault
        .write(|store| {
            for _ in 0..3_000 {
                store.log_event(now, None, "edited", "a long enough detail to fill a pipe")?;
            }
            Ok(())
        })
        .unwrap();
    drop(vault);
    sandbox.create("ci-deploy", &[]);
    let script = r#"set -o pipefail
        yes not-a-token | head -n 20000 | "$BIN" verify --batch | head -n 1 >/dev/null; echo "verify --batch $?"
        "$BIN" list | head -n 2 >/dev/null; echo "list $?"
        "$BIN" list --all | head -n 2 >/dev/null; echo "list --all $?"
        "$BIN" list --json | head -n 1 >/dev/null; echo "list --json $?"
        "$BIN" log --json | head -n 1 >/dev/null; echo "log --json $?"
        "$BIN" show ci-deploy | head -n 1 >/dev/null; echo "show ${PIPESTATUS[0]}"
    "#;
    let output = std::process::Command::new("bash")
        .args(["-c", script])
        .env("BIN", tokens_bin())
        .env("TOKENS_VAULT", &sandbox.location)
        .output()
        .unwrap();
    let text = stdout(&output);
    for command in ["verify --batch", "list", "list --all", "list --json"] {
        assert!(text.contains(&format!("{command} 141\n")), "{text}");
    }
    assert!(text.contains("log --json 141\n"), "{text}");
    // show's few lines may all be written before head goes (0) or not (141): quietly either way.
    assert!(
        text.contains("show 0\n") || text.contains("show 141\n"),
        "{text}"
    );
    assert_eq!(stderr(&output), "", "a message on a closed pipe");
}
