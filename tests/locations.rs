//! Where the vault is (`--vault`, `TOKENS_VAULT`): a file, a `postgres://` URL or a libpq
//! `key=value` connection string. Whatever the shape, and however mistyped, no message shows
//! the password in it. None of these needs a server: nothing listens on port 1.

mod common;

use common::*;

const PASSWORD: &str = "hunter2-location";

/// `tokens ARGS` with `TOKENS_VAULT=location`: exit code and stderr, after checking that
/// neither output holds the password.
fn run_at(location: &str, args: &[&str]) -> (i32, String) {
    let sandbox = Sandbox::sqlite();
    // Run in the sandbox: a location taken for a relative path lands there, and is seen.
    let output = sandbox
        .cmd(args)
        .env("TOKENS_VAULT", location)
        .current_dir(sandbox.dir.path())
        .output()
        .unwrap();
    let error = stderr(&output);
    assert!(
        !error.contains(PASSWORD),
        "the password was printed: {error}"
    );
    assert!(!stdout(&output).contains(PASSWORD));
    assert!(listing(sandbox.dir.path()).is_empty(), "a file was made");
    (code(&output), error)
}

#[test]
fn a_key_value_connection_string_is_a_postgres_vault_shown_without_its_password() {
    let location = format!("host=127.0.0.1 port=1 user=app password={PASSWORD} dbname=tokens");
    for args in [vec!["list"], vec!["create", "ci"]] {
        let (code, error) = run_at(&location, &args);
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(
            error,
            "tokens: cannot reach the vault at host=127.0.0.1 port=1 user=app password=*** \
             dbname=tokens: connection refused\n"
        );
    }
    // Quoted, with spaces in the password.
    let (code, error) = run_at(
        &format!("host=127.0.0.1 port=1 password='{PASSWORD} x' dbname=tokens"),
        &["list"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        error,
        "tokens: cannot reach the vault at host=127.0.0.1 port=1 password=*** dbname=tokens: \
         connection refused\n"
    );
}

#[test]
fn a_key_value_string_with_a_misspelt_key_is_refused_without_its_values() {
    let (code, error) = run_at(
        &format!("host=127.0.0.1 pasword={PASSWORD} dbname=tokens"),
        &["list"],
    );
    assert_eq!(code, 2);
    assert_eq!(
        error,
        "tokens: the vault looks like a key=value connection string, but \"pasword\" is not a \
         libpq keyword (values not shown); correct it, or give a file path or a postgres:// URL\n"
    );
}

#[test]
fn a_url_missing_its_slashes_is_refused_without_its_password() {
    for (location, shown) in [
        (
            format!("postgres:/app:{PASSWORD}@127.0.0.1:1/tokens"),
            "postgres:/app:***@127.0.0.1:1/tokens",
        ),
        (
            format!("postgres:app:{PASSWORD}@127.0.0.1:1/tokens"),
            "postgres:app:***@127.0.0.1:1/tokens",
        ),
        (
            format!("PostgreSQL:/app:{PASSWORD}@127.0.0.1:1/tokens"),
            "PostgreSQL:/app:***@127.0.0.1:1/tokens",
        ),
        (
            format!("postgress:app:{PASSWORD}@127.0.0.1:1/tokens"),
            "postgress:app:***@127.0.0.1:1/tokens",
        ),
    ] {
        let (code, error) = run_at(&location, &["list"]);
        assert_eq!(code, 2, "{location}");
        assert_eq!(
            error,
            format!(
                "tokens: {shown} is not a vault tokens can open: a PostgreSQL URL starts with \
                 postgres:// (two slashes)\n"
            )
        );
    }
    // The same through migrate's own options.
    let sandbox = Sandbox::sqlite();
    let output = sandbox
        .cmd(&[
            "migrate",
            "--from",
            &sandbox.location,
            "--to",
            &format!("postgres:/app:{PASSWORD}@db/tokens"),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&output), 2);
    assert!(!stderr(&output).contains(PASSWORD), "{}", stderr(&output));
}

#[test]
fn a_second_question_mark_does_not_show_the_password_after_it() {
    // tokio-postgres reads `require?password=…` as the value of sslmode.
    let (code, error) = run_at(
        &format!("postgres://app@127.0.0.1:1/tokens?sslmode=require?password={PASSWORD}"),
        &["list"],
    );
    // A setting that cannot be read is a usage error (2), as a bad scheme is.
    assert_eq!(code, 2);
    assert_eq!(
        error,
        "tokens: postgres://app@127.0.0.1:1/tokens?sslmode=require?password=*** is not a valid \
         vault URL: sslmode \"require?password=***\" is not one of disable, allow, prefer, \
         require, verify-ca, verify-full\n"
    );
    // ... and as part of application_name, which connects.
    let (code, error) = run_at(
        &format!("postgres://app@127.0.0.1:1/tokens?application_name=ci?password={PASSWORD}"),
        &["list"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        error,
        "tokens: cannot reach the vault at \
         postgres://app@127.0.0.1:1/tokens?application_name=ci?password=***: connection refused\n"
    );
}

#[test]
fn a_file_name_with_a_colon_or_an_equals_sign_is_still_a_file() {
    let sandbox = Sandbox::sqlite();
    for name in ["backup:old.db", "a=b.db"] {
        let path = sandbox.path(name);
        let output = sandbox
            .cmd(&["create", "ci", "--no-secret-key"])
            .env("TOKENS_VAULT", &path)
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{name}: {}", stderr(&output));
        assert!(path.exists(), "{name}");
    }
    // Relative, as typed in the sandbox folder.
    let output = sandbox
        .cmd(&["list", "--json"])
        .current_dir(sandbox.dir.path())
        .env("TOKENS_VAULT", "backup:old.db")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output).as_array().unwrap().len(), 1);
}

#[test]
fn mistyped_and_unusual_shapes_never_show_the_password() {
    for location in [
        format!(" postgres://u:{PASSWORD}@127.0.0.1:1/db"), // a leading space, as pasted
        format!("postgres ://u:{PASSWORD}@127.0.0.1:1/db"),
        format!("postgres//u:{PASSWORD}@127.0.0.1:1/db"),
        format!("postgresql//u:{PASSWORD}@127.0.0.1:1/db"),
        format!("u:{PASSWORD}@127.0.0.1:1/db"),
        format!("postgres://u@127.0.0.1:1/db?pass={PASSWORD}"),
        format!("postgres://u@127.0.0.1:1/db?password%3D{PASSWORD}"),
    ] {
        for args in [vec!["list"], vec!["create", "ci"]] {
            let (code, error) = run_at(&location, &args);
            assert!(code == 1 || code == 2, "{location:?} {args:?}: {error}");
            assert_eq!(error.lines().count(), 1, "{error}");
        }
    }
}

#[test]
fn a_token_in_an_environment_variable_clap_refuses_is_masked() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("ci", &[]);
    let output = sandbox
        .cmd(&["list"])
        .env("TOKENS_TIMEOUT", &issued.token)
        .output()
        .unwrap();
    assert_eq!(code(&output), 2);
    let secret = &issued.token[16..];
    assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("tk_{}_…", issued.id())),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_control_sequence_in_an_environment_variable_clap_refuses_is_escaped_on_a_terminal() {
    let sandbox = Sandbox::sqlite();
    // `script` gives the command a terminal, where clap would print the value as it is.
    let output = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} list", tokens_bin().display()),
            "/dev/null",
        ])
        .env("TOKENS_VAULT", &sandbox.vault)
        .env("TOKENS_TIMEOUT", "x\u{1b}[2Jy\u{7}")
        .output()
        .expect("script (util-linux) runs");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(
        screen.contains("invalid --timeout \"x\\x1b[2Jy\\x07\" (from TOKENS_TIMEOUT)"),
        "{screen}"
    );
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "a control character reached the terminal: {screen:?}"
    );
}

#[test]
fn a_bad_sslmode_and_a_bad_scheme_are_both_usage_errors() {
    let (scheme, _) = run_at(&format!("mysql://app:{PASSWORD}@db/tokens"), &["list"]);
    let (sslmode, error) = run_at(
        &format!("postgres://app:{PASSWORD}@127.0.0.1:1/tokens?sslmode=sometimes"),
        &["list"],
    );
    assert_eq!((scheme, sslmode), (2, 2));
    assert_eq!(
        error,
        "tokens: postgres://app:***@127.0.0.1:1/tokens?sslmode=sometimes is not a valid vault \
         URL: sslmode \"sometimes\" is not one of disable, allow, prefer, require, verify-ca, \
         verify-full\n"
    );
}
