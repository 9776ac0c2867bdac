//! `--copy` on a real X server (Xvfb), read back with `xclip` after `tokens` has exited.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn copied_token_stays_on_the_clipboard_after_tokens_exits() {
    let x = Xvfb::start();
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let output = sandbox
        .cmd(&["create", "ci", "--copy"])
        .env("DISPLAY", &x.display)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "create --copy did not return at once"
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let issued = parse_issued(&output);
    assert_eq!(
        stderr(&output),
        format!(
            "{}The token is also on the clipboard for 45s.\n",
            sandbox.created_notice()
        )
    );
    // tokens has exited; the clipboard still holds exactly the token (not the secret key).
    assert_eq!(x.clipboard().as_deref(), Some(issued.token.as_str()));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(x.clipboard().as_deref(), Some(issued.token.as_str()));
}

#[test]
fn clipboard_is_cleared_after_the_chosen_time() {
    let x = Xvfb::start();
    let sandbox = Sandbox::new();
    sandbox.create("ci", &[]);
    let output = sandbox
        .cmd(&["rotate", "ci", "--yes", "--copy", "--clear-after", "2s"])
        .env("DISPLAY", &x.display)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rotated = parse_issued(&output);
    assert_eq!(x.clipboard().as_deref(), Some(rotated.token.as_str()));
    assert_eq!(
        x.wait_for(None, Duration::from_secs(8)),
        None,
        "not cleared after 2s"
    );
}

#[test]
fn something_copied_since_is_never_wiped() {
    let x = Xvfb::start();
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd(&["create", "ci", "--copy", "--clear-after", "2s"])
        .env("DISPLAY", &x.display)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0);
    x.copy("the user's own text");
    assert_eq!(
        x.wait_for(Some("the user's own text"), Duration::from_secs(3))
            .as_deref(),
        Some("the user's own text")
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(x.clipboard().as_deref(), Some("the user's own text"));
}

#[test]
fn keep_clipboard_leaves_it_there() {
    let x = Xvfb::start();
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd(&["create", "ci", "--copy", "--keep-clipboard"])
        .env("DISPLAY", &x.display)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "{}The token is also on the clipboard.\n",
            sandbox.created_notice()
        )
    );
    let issued = parse_issued(&output);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(x.clipboard().as_deref(), Some(issued.token.as_str()));
    assert_eq!(helpers_on(&x.display), 1);
    // The helper ends once someone else takes the clipboard.
    x.copy("next");
    assert!(
        wait_until(|| helpers_on(&x.display) == 0),
        "the helper outlived its clipboard"
    );
}

#[test]
fn the_helper_ends_when_the_display_goes_away() {
    let x = Xvfb::start();
    let display = x.display.clone();
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd(&["create", "ci", "--copy", "--keep-clipboard"])
        .env("DISPLAY", &display)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(helpers_on(&display), 1);
    drop(x);
    assert!(
        wait_until(|| helpers_on(&display) == 0),
        "the helper outlived its display"
    );
}

/// How many clipboard helpers serve `display` (found through /proc).
fn helpers_on(display: &str) -> usize {
    let wanted = format!("DISPLAY={display}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            let path = entry.path();
            let cmdline = std::fs::read(path.join("cmdline")).unwrap_or_default();
            let environ = std::fs::read(path.join("environ")).unwrap_or_default();
            contains(&cmdline, "__serve-clipboard")
                && environ
                    .split(|b| *b == 0)
                    .any(|var| var == wanted.as_bytes())
        })
        .count()
}

fn wait_until(condition: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn without_a_display_the_token_is_still_printed() {
    let sandbox = Sandbox::new();
    let output = sandbox.cmd(&["create", "ci", "--copy"]).output().unwrap();
    assert_eq!(code(&output), 0);
    let issued = parse_issued(&output);
    assert_eq!(sandbox.verify(&issued.token, &[]).0, 0);
    assert_eq!(
        stderr(&output),
        format!(
            "{}tokens: the clipboard is not available (no display: DISPLAY and WAYLAND_DISPLAY are unset); the token is printed above\n",
            sandbox.created_notice()
        )
    );
    // An X display that is not there: same, and still quick.
    let started = Instant::now();
    let output = sandbox
        .cmd(&["create", "cd", "--copy"])
        .env("DISPLAY", ":99999")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        stderr(&output).starts_with("tokens: the clipboard is not available ("),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&output).lines().count(), 2);
}

#[test]
fn clear_after_needs_copy() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["create", "ci", "--clear-after", "5s"], "");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--copy"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    assert!(!sandbox.vault_exists(), "a refused create made a vault");
}
