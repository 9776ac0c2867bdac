//! `completions/` and `man/` hold files generated from the CLI definition, checked in so that
//! packagers and users need no Rust. These tests fail when they differ from what the current CLI
//! generates; run with UPDATE_GENERATED=1 they write them instead.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const REGENERATE: &str = "UPDATE_GENERATED=1 cargo test --test generated";

/// The shells `tokens completions` knows and the file each script goes in (the names the shells
/// look for: `_tokens` on zsh's $fpath, `tokens.fish` in fish's completions folder, …).
const SCRIPTS: [(&str, &str); 5] = [
    ("bash", "tokens.bash"),
    ("zsh", "_tokens"),
    ("fish", "tokens.fish"),
    ("elvish", "tokens.elv"),
    ("powershell", "_tokens.ps1"),
];

fn updating() -> bool {
    let asked =
        std::env::var_os("UPDATE_GENERATED").is_some_and(|value| !value.is_empty() && value != "0");
    // CI checks the committed files; rewriting them there would make the check pass regardless.
    assert!(
        !(asked && std::env::var_os("CI").is_some()),
        "UPDATE_GENERATED is for developers; CI must check the committed files"
    );
    asked
}

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// Compares (or, updating, writes) the files of `folder`: exactly `expected`, no more.
fn check(folder: &Path, expected: &[(String, String)]) {
    if updating() {
        fs::create_dir_all(folder).unwrap();
    }
    let mut stale = Vec::new();
    for (name, text) in expected {
        let path = folder.join(name);
        if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if updating() {
            fs::write(&path, text).unwrap();
        } else {
            stale.push(path.display().to_string());
        }
    }
    let wanted: BTreeSet<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
    for entry in fs::read_dir(folder).into_iter().flatten() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !wanted.contains(name.as_str()) {
            if updating() {
                fs::remove_file(&path).unwrap();
            } else {
                stale.push(format!("{} (no longer generated)", path.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with the CLI definition:\n  {}\nregenerate them with:\n  {REGENERATE}",
        stale.join("\n  ")
    );
}

#[test]
fn completion_scripts_are_what_tokens_completions_prints() {
    let expected: Vec<(String, String)> = SCRIPTS
        .iter()
        .map(|(shell, file)| {
            let output = Command::cargo_bin("tokens")
                .unwrap()
                .args(["completions", shell])
                .output()
                .unwrap();
            assert!(output.status.success(), "tokens completions {shell} failed");
            (file.to_string(), String::from_utf8(output.stdout).unwrap())
        })
        .collect();
    check(&folder("completions"), &expected);
}

#[test]
fn man_pages_are_what_the_cli_renders() {
    let expected: Vec<(String, String)> = tokens::man::pages()
        .into_iter()
        .map(|page| (page.file_name, page.roff))
        .collect();
    check(&folder("man"), &expected);
}
