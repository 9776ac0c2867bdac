//! The floor under `tokens verify`: only the least work its job needs, for benchmarks to compare
//! with. Start a process, open one SQLite file, hash the secret, read one row by its key.
//!
//! `floor VAULT [TOKEN_FILE]`: exit 0 when the token is good, 3 when unknown or wrong, 4 when
//! expired, 5 when revoked. The token is the first line of TOKEN_FILE when given (as
//! `tokens verify --token-file`), else of stdin.
//! `floor VAULT --batch < tokens`: one token a line; for each, one JSON line (`valid`, `reason`,
//! `id`, `name`) from one prepared statement: the loop `tokens verify --batch` is measured against.
//!
//! It reads the columns a verdict needs (secret hash, revocation, expiry, scopes, app, last use)
//! and nothing else, and skips what `tokens` does besides: argument parsing, the checksum,
//! permission and schema checks, messages and bookkeeping. A measuring stick, not a verifier.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Statement};
use sha2::{Digest, Sha256};

/// `tk_` + 12-character id + `_` + 32-character secret + 6-character check.
const ID: std::ops::Range<usize> = 3..15;
const SECRET: std::ops::Range<usize> = 16..48;
const TOKEN_LEN: usize = 54;

const LOOKUP: &str = "SELECT name, app, scopes, secret_hash, expires_at, revoked_at, \
                      (SELECT last_used_at FROM token_usage WHERE token_id = tokens.id) \
                      FROM tokens WHERE id = ?1";

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: floor VAULT [--batch | TOKEN_FILE]");
        return ExitCode::from(2);
    };
    let next = args.next();
    let batch = next.as_ref().is_some_and(|arg| arg == "--batch");
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let outcome = Connection::open_with_flags(&path, flags)
        .map_err(Into::into)
        .and_then(|conn| {
            if batch {
                run_batch(&conn)
            } else {
                run_one(&conn, next)
            }
        });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("floor: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_one(conn: &Connection, token_file: Option<std::ffi::OsString>) -> Outcome<u8> {
    let mut text = String::new();
    match token_file {
        Some(path) => text = std::fs::read_to_string(path)?,
        None => _ = io::stdin().lock().read_line(&mut text)?,
    }
    let token = text.lines().next().unwrap_or_default().trim();
    let mut statement = conn.prepare(LOOKUP)?;
    Ok(match judge(&mut statement, token, now())?.0 {
        "ok" => 0,
        "expired" => 4,
        "revoked" => 5,
        _ => 3,
    })
}

fn run_batch(conn: &Connection) -> Outcome<u8> {
    let mut statement = conn.prepare(LOOKUP)?;
    let mut stdout = BufWriter::new(io::stdout().lock());
    let now = now();
    for line in io::stdin().lock().lines() {
        let line = line?;
        let token = line.trim();
        let (reason, name) = judge(&mut statement, token, now)?;
        let id = name.as_ref().map(|_| &token[ID]);
        writeln!(
            stdout,
            r#"{{"valid":{},"reason":"{reason}","id":{},"name":{}}}"#,
            reason == "ok",
            serde_json::to_string(&id)?,
            serde_json::to_string(&name)?
        )?;
    }
    stdout.flush()?;
    Ok(0)
}

/// The verdict's reason, and the token's name once its secret has matched.
fn judge(
    statement: &mut Statement<'_>,
    token: &str,
    now: i64,
) -> rusqlite::Result<(&'static str, Option<String>)> {
    let well_formed = token.len() == TOKEN_LEN
        && token.is_char_boundary(ID.end)
        && token.is_char_boundary(SECRET.end);
    if !well_formed {
        return Ok(("malformed", None));
    }
    let hash: [u8; 32] = Sha256::digest(&token.as_bytes()[SECRET]).into();
    type Row = (
        String,
        Option<String>,
        String,
        Vec<u8>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let row: Option<Row> = statement
        .query_row([&token[ID]], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
            ))
        })
        .optional()?;
    Ok(match row {
        Some((name, _app, _scopes, stored, expires_at, revoked_at, _last_used_at))
            if stored == hash =>
        {
            let reason = if revoked_at.is_some_and(|at| at <= now) {
                "revoked"
            } else if expires_at.is_some_and(|at| at <= now) {
                "expired"
            } else {
                "ok"
            };
            (reason, Some(name))
        }
        _ => ("invalid", None),
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}
