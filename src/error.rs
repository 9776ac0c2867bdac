//! The outcomes scripts care about, and the one place they become exit codes (SPEC §5).

use std::path::PathBuf;

/// An error that ends the command. Messages are one line and never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments that clap could not catch (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The presented credential is not well-formed (exit 3).
    #[error("{0}")]
    Malformed(String),
    /// Unknown id or wrong secret (exit 3).
    #[error("{0}")]
    Invalid(String),
    /// The token has expired (exit 4).
    #[error("{0}")]
    Expired(String),
    /// The token's uses are spent (exit 4, as an expiry: SPEC §9).
    #[error("{0}")]
    UsedUp(String),
    /// The token is disabled and may be enabled again (exit 7).
    #[error("{0}")]
    Disabled(String),
    /// The token has been revoked (exit 5).
    #[error("{0}")]
    Revoked(String),
    /// Valid, but lacks a scope, belongs to another app or is presented from an address it is
    /// not bound to (exit 6).
    #[error("{0}")]
    Forbidden(String),
    /// No token matches the ID or NAME given to a management command (exit 1).
    #[error("{0}")]
    NotFound(String),
    /// The change clashes with what the vault holds, e.g. a name in use (exit 1).
    #[error("{0}")]
    Conflict(String),
    // `vault` is the vault's location as it may be shown: a path, or a URL without its password.
    #[error("no vault at {vault} (create a token first, or pass --vault)")]
    VaultMissing { vault: String },
    #[error("{vault} is not a tokens vault or is corrupt ({reason}); it was left untouched")]
    VaultCorrupt { vault: String, reason: String },
    #[error(
        "{vault} was written by a newer tokens (schema {found}, this one knows {known}); upgrade tokens"
    )]
    VaultTooNew {
        vault: String,
        found: i64,
        known: i64,
    },
    /// A vault newer than this tokens whose marks (SPEC §10) refuse what the command does:
    /// `doing` is "read", "verify" or "change".
    #[error(
        "{vault} needs a newer tokens to {doing} it: upgrade tokens (vault schema {found}, this tokens reads up to {known})"
    )]
    VaultNeedsNewer {
        vault: String,
        doing: &'static str,
        found: i64,
        known: i64,
    },
    /// What this PostgreSQL role was granted (`tokens grants`) does not allow the command:
    /// `message` says which access it has and what to do.
    #[error("{0}")]
    RoleRefused(String),
    /// Another user could change the vault (SPEC §8): `path` is the file or folder at fault,
    /// `reason` what is wrong with it, `fix` what to run.
    #[error("{} {reason}; {fix}", .path.display())]
    VaultInsecure {
        path: PathBuf,
        reason: String,
        fix: String,
    },
    #[error("{vault} is read-only for this user; this command needs to write to it")]
    VaultReadOnly { vault: String },
    /// Quiet exit with a code: the message, if any, was already printed (Ctrl-C at a prompt).
    #[error("")]
    Silent(i32),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    /// The exit code of SPEC §5.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Malformed(_) | Error::Invalid(_) => 3,
            Error::Expired(_) | Error::UsedUp(_) => 4,
            Error::Revoked(_) => 5,
            Error::Forbidden(_) => 6,
            Error::Disabled(_) => 7,
            Error::Silent(code) => *code,
            Error::NotFound(_)
            | Error::Conflict(_)
            | Error::VaultMissing { .. }
            | Error::VaultCorrupt { .. }
            | Error::VaultTooNew { .. }
            | Error::VaultNeedsNewer { .. }
            | Error::RoleRefused(_)
            | Error::VaultInsecure { .. }
            | Error::VaultReadOnly { .. }
            | Error::Other(_) => 1,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Other(anyhow::Error::new(error).context("vault error"))
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Self {
        Error::Other(anyhow::Error::new(error).context("vault error"))
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Other(error.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
