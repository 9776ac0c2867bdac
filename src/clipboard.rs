//! Putting a token on the clipboard (`--copy`), so that it stays there after `tokens` exits.
//!
//! On X11 (and Wayland) a clipboard lives only as long as its owner serves it, so the command
//! hands the token to a small detached helper — this same binary in the hidden mode
//! `__serve-clipboard` — over a pipe (never argv or the environment). The helper takes the
//! clipboard, reports back on its stdout, and keeps serving until the clipboard is cleared after
//! the chosen time, or until someone copies something else. The command itself returns at once.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::error::Result;

/// How long the command waits for the helper to take the clipboard.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// The variables the clipboard helper keeps: how to reach the X11 or Wayland display and
/// its authority file (`~/.Xauthority` by default, hence HOME).
const HELPER_ENVIRONMENT: &[&str] = &[
    "DISPLAY",
    "XAUTHORITY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "HOME",
];

/// How often the helper checks that the clipboard still holds the token.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Puts `text` on the clipboard, to be cleared after `clear_after` if it still holds `text`
/// (`None`: left there). Returns why it could not, in words for the user.
pub fn copy(text: &str, clear_after: Option<chrono::Duration>) -> Result<(), String> {
    if cfg!(target_os = "linux")
        && ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .all(|var| std::env::var_os(var).is_none())
    {
        return Err("no display: DISPLAY and WAYLAND_DISPLAY are unset".into());
    }
    let exe = std::env::current_exe()
        .map_err(|error| format!("cannot find the tokens binary: {error}"))?;
    let mut command = Command::new(exe);
    command.arg("__serve-clipboard");
    // The helper lives on after us holding the token: it gets what it needs to reach the
    // display and nothing else of our environment (no PGPASSWORD, no TOKENS_VAULT).
    command.env_clear();
    for variable in HELPER_ENVIRONMENT {
        if let Some(value) = std::env::var_os(variable) {
            command.env(variable, value);
        }
    }
    if let Some(after) = clear_after {
        command
            .arg("--clear-after")
            .arg(after.num_seconds().max(0).to_string());
    }
    let mut helper = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0) // not hit by the terminal's Ctrl-C meant for us
        .spawn()
        .map_err(|error| format!("cannot start the clipboard helper: {error}"))?;

    // The helper's pipes are its own, so it holds none of ours open after we exit.
    let mut stdin = helper
        .stdin
        .take()
        .ok_or("the clipboard helper has no stdin")?;
    let stdout = helper
        .stdout
        .take()
        .ok_or("the clipboard helper has no stdout")?;
    let sent = writeln!(stdin, "{text}").and_then(|()| stdin.flush());
    drop(stdin);
    if let Err(error) = sent {
        let _ = helper.wait();
        return Err(format!("cannot reach the clipboard helper: {error}"));
    }

    let (answer_tx, answer_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = answer_tx.send(line);
    });
    match answer_rx.recv_timeout(HANDSHAKE_TIMEOUT) {
        Ok(line) if line.trim_end() == "ok" => Ok(()), // the helper goes on serving on its own
        Ok(line) => {
            let _ = helper.wait();
            let why = line
                .trim_end()
                .strip_prefix("error: ")
                .unwrap_or("the clipboard helper stopped");
            Err(why.to_owned())
        }
        Err(_) => {
            let _ = helper.kill();
            let _ = helper.wait();
            Err("the clipboard did not answer in time".into())
        }
    }
}

/// The hidden `__serve-clipboard` mode: reads the token from stdin, takes the clipboard, says
/// `ok` (or `error: …`) on stdout, then serves it until it is replaced, the display goes away, or `clear_after`
/// seconds pass (then it clears the clipboard if it still holds the token).
pub fn serve(clear_after: Option<u64>) -> Result<()> {
    let mut line = Zeroizing::new(String::new());
    io::stdin().lock().read_line(&mut line)?;
    let text = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned());
    let deadline = clear_after.map(|seconds| Instant::now() + Duration::from_secs(seconds));

    let mut stdout = io::stdout().lock();
    let mut clipboard = match take_clipboard(&text) {
        Ok(clipboard) => clipboard,
        Err(error) => {
            writeln!(stdout, "error: {error}")?;
            return Ok(());
        }
    };
    writeln!(stdout, "ok")?;
    stdout.flush()?;
    drop(stdout);

    // Poll rather than block in the clipboard library: a blocking wait never wakes when the
    // display goes away, and re-asserting ownership could wipe what the user copied since.
    loop {
        let still_ours = clipboard
            .get_text()
            .is_ok_and(|current| current.as_str() == text.as_str());
        if !still_ours {
            return Ok(()); // replaced, or the display is gone
        }
        let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            let _ = clipboard.clear();
            return Ok(());
        }
        std::thread::sleep(left.map_or(POLL_INTERVAL, |left| left.min(POLL_INTERVAL)));
    }
}

fn take_clipboard(text: &str) -> Result<arboard::Clipboard, arboard::Error> {
    let mut clipboard = arboard::Clipboard::new()?;
    set(&mut clipboard, text)?;
    Ok(clipboard)
}

/// Sets the clipboard, asking Linux clipboard managers to keep it out of their history.
#[cfg(target_os = "linux")]
fn set(clipboard: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::SetExtLinux;
    clipboard.set().exclude_from_history().text(text.to_owned())
}

#[cfg(not(target_os = "linux"))]
fn set(clipboard: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    clipboard.set_text(text.to_owned())
}
