//! The manual pages in `man/`: one for `tokens` and one per subcommand, clean under
//! `mandoc -Tlint`, with the sections the issue and SPEC §5 ask for. (That they are what the
//! current CLI renders is tests/generated.rs's job.)

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use tokens::cli::Cli;

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

/// `mandoc ARGS PAGE`; fails, saying how to fix it, when mandoc is not installed.
fn mandoc(args: &[&str], page: &Path) -> std::process::Output {
    Command::new("mandoc")
        .args(args)
        .arg(page)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "mandoc is needed to check the manual pages, and cannot run ({error}): install it \
                 with `apt-get install mandoc` (.ci/packages.txt lists the packages)"
            )
        })
}

/// The page as a reader sees it, without bold and underline.
fn rendered(page: &str) -> String {
    let output = mandoc(&["-Tascii", "-Owidth=200"], &man_dir().join(page));
    assert!(output.status.success(), "mandoc {page}: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    // -Tascii overstrikes: `X\bX` is bold X, `_\bX` is underlined X.
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        plain.push(c);
    }
    plain
}

#[test]
fn there_is_a_page_for_tokens_and_each_subcommand() {
    let mut expected = vec!["tokens.1".to_owned()];
    expected.extend(
        Cli::command()
            .get_subcommands()
            .filter(|subcommand| !subcommand.is_hide_set())
            .map(|subcommand| format!("tokens-{}.1", subcommand.get_name())),
    );
    expected.sort();
    let mut found: Vec<String> = std::fs::read_dir(man_dir())
        .expect("man/ is missing; generate it with: UPDATE_GENERATED=1 cargo test --test generated")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, expected);
}

#[test]
fn every_page_is_clean_under_mandoc_lint() {
    for entry in std::fs::read_dir(man_dir()).unwrap() {
        let page = entry.unwrap().path();
        // Warnings and worse; not the style notes on long source lines and lower-case titles.
        let output = mandoc(&["-Tlint", "-W", "warning"], &page);
        assert!(
            output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
            "mandoc -Tlint {}:\n{}{}",
            page.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn tokens_1_documents_exit_status_environment_files_and_examples() {
    let page = rendered("tokens.1");
    for heading in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SUBCOMMANDS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            page.lines().any(|line| line == heading),
            "no {heading} section in tokens(1):\n{page}"
        );
    }
    // SPEC §5, as `tokens --help` prints it.
    let exit_status = section(&page, "EXIT STATUS");
    for (code, meaning) in [
        (
            "0",
            "success; for verify: the token is valid for what was asked",
        ),
        (
            "1",
            "operational error: vault missing, unreadable, read-only, corrupt, unreachable,",
        ),
        ("2", "usage error"),
        (
            "3",
            "verify/refresh: token malformed, unknown, or wrong secret",
        ),
        (
            "4",
            "token expired, or its uses are spent; refresh: past its refresh window",
        ),
        (
            "5",
            "token revoked; also rotate/edit of a revoked or replaced token, a reused secret key",
        ),
        (
            "6",
            "token valid but lacks a required scope, belongs to another app, or is presented",
        ),
        (
            "7",
            "token disabled (tokens enable restores it); also refresh of a disabled token",
        ),
    ] {
        let row = format!("{code}      {meaning}");
        assert!(exit_status.contains(&row), "{row:?} not in:\n{exit_status}");
    }
    let environment = section(&page, "ENVIRONMENT");
    for variable in ["TOKENS_VAULT", "NO_COLOR", "PGPASSWORD", "PGPASSFILE"] {
        assert!(
            environment.contains(variable),
            "{variable} not in ENVIRONMENT"
        );
    }
    let files = section(&page, "FILES");
    assert!(files.contains("~/.local/share/tokens/vault.db") && files.contains("~/.pgpass"));
    let examples = section(&page, "EXAMPLES");
    assert!(
        examples.contains("$ tokens create ci-deploy"),
        "an admin session"
    );
    assert!(
        examples.contains("tokens verify --token-env"),
        "a CI script"
    );
    assert!(section(&page, "SEE ALSO").contains("tokens-verify(1)"));
}

#[test]
fn subcommand_pages_have_the_shared_sections_and_their_own_examples() {
    let page = rendered("tokens-revoke.1");
    for heading in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            page.lines().any(|line| line == heading),
            "{heading}:\n{page}"
        );
    }
    assert!(section(&page, "SYNOPSIS").contains("tokens revoke"));
    assert!(section(&page, "EXAMPLES").contains("$ tokens revoke old-bot"));
    assert!(section(&page, "SEE ALSO").contains("tokens(1)"));
    assert!(section(&rendered("tokens-verify.1"), "EXAMPLES").contains("tokens verify"));
}

/// The text under `heading`, up to the next section.
fn section<'a>(page: &'a str, heading: &str) -> &'a str {
    let start = page
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no {heading} section:\n{page}"))
        + heading.len()
        + 2;
    let rest = &page[start..];
    let end = rest
        .match_indices('\n')
        .find(|(at, _)| rest[at + 1..].starts_with(|c: char| c.is_ascii_uppercase()))
        .map_or(rest.len(), |(at, _)| at);
    &rest[..end]
}
