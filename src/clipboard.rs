//! Putting a token on the clipboard (`--copy`).

/// Puts `text` on the system clipboard, or says why it could not.
pub fn copy(text: &str) -> Result<(), String> {
    let mut clipboard = arboard::Clipboard::new().map_err(|error| error.to_string())?;
    clipboard.set_text(text).map_err(|error| error.to_string())
}
