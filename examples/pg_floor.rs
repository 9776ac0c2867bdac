//! The floor under `tokens verify` on a PostgreSQL vault: only the least work its job needs, for
//! benchmarks to compare with (benches/postgres.sh). Start a process, connect and log in with the
//! same crate and the same authentication as `tokens` (tokio-postgres on a current-thread
//! runtime, SCRAM), hash the secret, run one indexed SELECT, exit.
//!
//! `pg_floor URL [TOKEN_FILE]`: exit 0 when the token is good, 3 when unknown or wrong, 4 when
//! expired, 5 when revoked. The token is the first line of TOKEN_FILE when given (as
//! `tokens verify --token-file`), else of stdin.
//! `pg_floor URL --batch < tokens`: one token a line; for each, one JSON line (`valid`, `reason`,
//! `id`, `name`) over one connection, one query a line: the loop `tokens verify --batch` is
//! measured against.
//!
//! Statements go as `tokens` sends them (unnamed, so a transaction-pooling PgBouncer in front is
//! fine). It reads the columns a verdict needs and nothing else, and skips what `tokens` does
//! besides: libpq's defaults, deadlines, the checksum, schema checks, messages and bookkeeping.
//! A measuring stick, not a verifier.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config, NoTls};

/// `tk_` + 12-character id + `_` + 32-character secret + 6-character check.
const ID: std::ops::Range<usize> = 3..15;
const SECRET: std::ops::Range<usize> = 16..48;
const TOKEN_LEN: usize = 54;

const LOOKUP: &str = "SELECT name, app, scopes, secret_hash, expires_at, revoked_at, \
                      (SELECT last_used_at FROM token_usage WHERE token_id = tokens.id) \
                      FROM tokens WHERE id = $1";

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: pg_floor URL [--batch | TOKEN_FILE]");
        return ExitCode::from(2);
    };
    let next = args.next();
    let batch = next.as_deref() == Some("--batch");
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pg_floor: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&url, batch, next)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("pg_floor: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, batch: bool, token_file: Option<String>) -> Outcome<u8> {
    let config = Config::from_str(url)?;
    let (client, connection) = config.connect(NoTls).await?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let code = if batch {
        run_batch(&client).await?
    } else {
        let mut text = String::new();
        match token_file {
            Some(path) => text = std::fs::read_to_string(path)?,
            None => _ = io::stdin().lock().read_line(&mut text)?,
        }
        let token = text.lines().next().unwrap_or_default().trim();
        match judge(&client, token, now()).await?.0 {
            "ok" => 0,
            "expired" => 4,
            "revoked" => 5,
            _ => 3,
        }
    };
    drop(client);
    let _ = driver.await;
    Ok(code)
}

async fn run_batch(client: &Client) -> Outcome<u8> {
    let mut stdout = BufWriter::new(io::stdout().lock());
    let now = now();
    for line in io::stdin().lock().lines() {
        let line = line?;
        let token = line.trim();
        let (reason, name) = judge(client, token, now).await?;
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
async fn judge(
    client: &Client,
    token: &str,
    now: i64,
) -> Result<(&'static str, Option<String>), tokio_postgres::Error> {
    let well_formed = token.len() == TOKEN_LEN
        && token.is_char_boundary(ID.end)
        && token.is_char_boundary(SECRET.end);
    if !well_formed {
        return Ok(("malformed", None));
    }
    let hash: [u8; 32] = Sha256::digest(&token.as_bytes()[SECRET]).into();
    let row = client
        .query_typed_opt(LOOKUP, &[(&&token[ID], Type::TEXT)])
        .await?;
    Ok(match row {
        Some(row) if row.get::<_, &[u8]>(3) == hash => {
            let (expires_at, revoked_at): (Option<i64>, Option<i64>) = (row.get(4), row.get(5));
            let reason = if revoked_at.is_some_and(|at| at <= now) {
                "revoked"
            } else if expires_at.is_some_and(|at| at <= now) {
                "expired"
            } else {
                "ok"
            };
            (reason, Some(row.get(0)))
        }
        _ => ("invalid", None),
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
