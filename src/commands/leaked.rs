//! `tokens revoke --leaked`: revoke every token and secret key found in a text on stdin (a secret
//! scanner's report as it is, a log excerpt, one token a line), in one transaction.
//!
//! A credential counts only when its checksum is right and its secret matches the vault's hash:
//! anything else (an unknown id, or a known id with a wrong secret) is reported as unknown and
//! reveals nothing of the vault. A leaked token ends that token; a leaked secret key ends every
//! token of its lineage, since whoever found it could refresh its way to a new pair.

use std::collections::HashSet;
use std::io::BufRead;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Context, label};
use crate::error::{Error, Result};
use crate::output;
use crate::token::{self, Credential, Found, Kind};
use crate::vault::{Access, Store, TokenRecord, Vault};

/// The reason every revocation here is recorded with.
const REASON: &str = "leaked";

/// Where one credential found in the input stands.
enum Standing {
    /// No token has its id, or the secret is not that token's: nothing else is said.
    Unknown,
    /// Its secret matches `record`, and every token it could be used for is already revoked.
    AlreadyRevoked { record: TokenRecord },
    /// Its secret matches `record`; `targets` are the tokens it ends (the token itself, or for
    /// a secret key the lineage's tokens that still verify).
    ToRevoke {
        record: TokenRecord,
        targets: Vec<TokenRecord>,
    },
}

pub fn run(context: &Context) -> Result<()> {
    // Asking needs a terminal: stderr for the question, and the keyboard (stdin, or the
    // controlling terminal when stdin is the report). Decided before reading anything.
    let can_ask = context.stderr_is_terminal && controlling_terminal();
    if !(context.yes || can_ask) {
        return Err(Error::Usage(
            "revoke --leaked asks for confirmation: pass --yes to revoke --leaked without a terminal"
                .into(),
        ));
    }
    if context.stdin_is_terminal {
        context.notice("Paste the text to search for tokens, then press Ctrl-D.");
    }
    let (credentials, near_misses) = read_credentials()?;

    // A missing vault is an error (exit 1), not a new empty one that knows none of them.
    drop(context.open(Access::Read)?);
    let mut vault = context.open(Access::Write)?;
    if !context.yes {
        ask(context, &vault, &credentials)?;
    }

    // Judged (again) under the write lock, as of now (reading a paste or a question may have
    // taken a while), and as the vault stood before any of it changed (so a token and its
    // secret key in one report are both reported revoked, not one "already").
    let now = chrono::Utc::now();
    let standings = vault.write(|store| {
        let standings = credentials
            .iter()
            .map(|credential| standing(store, credential, now))
            .collect::<Result<Vec<_>>>()?;
        let mut revoked: Vec<&str> = Vec::new();
        for (credential, standing) in credentials.iter().zip(&standings) {
            let Standing::ToRevoke { record, targets } = standing else {
                continue;
            };
            for target in targets {
                if revoked.contains(&target.id.as_str()) {
                    continue;
                }
                store.set_revoked(&target.id, now, REASON, None)?;
                let detail = match credential.kind() {
                    Kind::Token => REASON.to_owned(),
                    Kind::SecretKey => format!("{REASON} (secret key of {})", record.id),
                };
                store.log_event(now, Some(&target.id), "revoked", &detail)?;
                revoked.push(&target.id);
            }
        }
        Ok(standings)
    })?;

    report(context, &credentials, &standings, near_misses)
}

/// Asks whether to revoke what `credentials` would end, as the vault stands now (read without
/// the write lock, which is not held while a person thinks).
fn ask(context: &Context, vault: &Vault, credentials: &[Credential]) -> Result<()> {
    let now = chrono::Utc::now();
    let store = vault.store();
    let mut to_revoke: Vec<TokenRecord> = Vec::new();
    for credential in credentials {
        if let Standing::ToRevoke { targets, .. } = standing(&*store, credential, now)? {
            for target in targets {
                if !to_revoke.iter().any(|seen| seen.id == target.id) {
                    to_revoke.push(target);
                }
            }
        }
    }
    if to_revoke.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = to_revoke.iter().map(label).collect();
    let question = format!(
        "Revoke {} leaked: {}? Clients using them will be refused at once",
        count(names.len(), "token"),
        names.join(", ")
    );
    if crate::prompt::confirm(&question)? {
        Ok(())
    } else {
        context.notice("Nothing changed.");
        Err(Error::Silent(crate::prompt::CANCELLED))
    }
}

/// The most of one run of bytes a credential could be made of (`[A-Za-z0-9_]`) held at once: a
/// longer run (no credential's) is searched and all but its end let go, so any input, however
/// long its lines, is read in flat memory.
const LONGEST_RUN: usize = 1 << 20;

/// Reads stdin to its end, a piece at a time (credentials never span a byte outside
/// `[A-Za-z0-9_]`), and returns each distinct credential in the order first seen, and how many
/// distinct near-misses there were.
fn read_credentials() -> Result<(Vec<Credential>, usize)> {
    let mut input = std::io::stdin().lock();
    // What was read and not searched yet: the start of a run that may go on.
    let mut pending: Vec<u8> = Vec::new();
    let mut credentials: Vec<Credential> = Vec::new();
    // Repeats are told apart by a hash of the whole credential, in constant time per credential.
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    let mut near_misses: HashSet<[u8; 32]> = HashSet::new();
    let mut search = |text: &[u8]| {
        // Credentials are ASCII: bytes that are not UTF-8 cannot be part of one.
        for found in token::find_all(&String::from_utf8_lossy(text)) {
            match found {
                Found::Credential(credential) => {
                    if seen.insert(Sha256::digest(credential.expose().as_bytes()).into()) {
                        credentials.push(credential);
                    }
                }
                Found::NearMiss { fingerprint, .. } => {
                    near_misses.insert(fingerprint);
                }
            }
        }
    };
    loop {
        let read = input
            .fill_buf()
            .map_err(|error| anyhow::Error::new(error).context("could not read stdin"))?;
        if read.is_empty() {
            break;
        }
        let length = read.len();
        match read.iter().rposition(|byte| !in_credential(*byte)) {
            Some(end) => {
                pending.extend_from_slice(&read[..=end]);
                search(&pending);
                zeroize::Zeroize::zeroize(&mut pending);
                pending.extend_from_slice(&read[end + 1..]);
            }
            None => pending.extend_from_slice(read),
        }
        input.consume(length);
        if pending.len() > LONGEST_RUN {
            search(&pending);
            let keep = pending.len() - CREDENTIAL_LEN;
            pending.copy_within(keep.., 0);
            pending.truncate(CREDENTIAL_LEN);
        }
    }
    search(&pending);
    // The last piece may have held a secret.
    zeroize::Zeroize::zeroize(&mut pending);
    Ok((credentials, near_misses.len()))
}

/// The length of a secret key, the longer of the two credentials.
const CREDENTIAL_LEN: usize = 4 + token::ID_LEN + 1 + token::SECRET_LEN + token::CHECK_LEN;

/// True for the bytes a credential is made of.
fn in_credential(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Where `credential` stands in the vault at `now`.
fn standing(
    store: &dyn Store,
    credential: &Credential,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Standing> {
    let Some(record) = store.find_by_id(credential.id())? else {
        return Ok(Standing::Unknown);
    };
    let targets = match credential.kind() {
        Kind::Token if credential.matches(&record.secret_hash) => {
            if record.is_revoked(now) {
                Vec::new()
            } else {
                vec![record.clone()]
            }
        }
        Kind::SecretKey
            if record
                .secret_key_hash
                .as_ref()
                .is_some_and(|hash| credential.matches(hash)) =>
        {
            store.live_of_lineage(&record.lineage, now)?
        }
        _ => return Ok(Standing::Unknown),
    };
    Ok(if targets.is_empty() {
        Standing::AlreadyRevoked { record }
    } else {
        Standing::ToRevoke { record, targets }
    })
}

/// One line (or one JSON record) per credential found, then a summary line.
fn report(
    context: &Context,
    credentials: &[Credential],
    standings: &[Standing],
    near_misses: usize,
) -> Result<()> {
    let mut records = Vec::with_capacity(credentials.len());
    let (mut revoked, mut already, mut unknown) = (0, 0, 0);
    for (credential, standing) in credentials.iter().zip(standings) {
        let masked = token::mask_credential(credential);
        let kind = match credential.kind() {
            Kind::Token => "token",
            Kind::SecretKey => "secret_key",
        };
        let (status, record, targets): (&str, Option<&TokenRecord>, &[TokenRecord]) = match standing
        {
            Standing::Unknown => ("unknown", None, &[]),
            Standing::AlreadyRevoked { record } => ("already_revoked", Some(record), &[]),
            Standing::ToRevoke { record, targets } => ("revoked", Some(record), targets),
        };
        let what = match credential.kind() {
            Kind::Token => "token",
            Kind::SecretKey => "secret key",
        };
        match standing {
            Standing::Unknown => {
                unknown += 1;
                context.notice(&format!(
                    "{masked}: unknown (no {what} with this id and secret in this vault)"
                ));
            }
            Standing::AlreadyRevoked { record } => {
                already += 1;
                context.notice(&format!(
                    "{masked}: {what} of {} already revoked",
                    label(record)
                ));
            }
            Standing::ToRevoke { record, targets } => {
                revoked += 1;
                let ended = match credential.kind() {
                    Kind::Token => String::new(),
                    Kind::SecretKey => format!(
                        " and its lineage: {}",
                        targets.iter().map(label).collect::<Vec<_>>().join(", ")
                    ),
                };
                context.notice(&format!(
                    "{masked}: revoked {what} of {}{ended}",
                    label(record)
                ));
            }
        }
        records.push(json!({
            "kind": kind,
            "id": credential.id(),
            "masked": masked,
            "status": status,
            "name": record.map(|record| &record.name),
            "revoked": targets.iter().map(|target| &target.id).collect::<Vec<_>>(),
        }));
    }
    if context.json {
        output::print_json(&serde_json::Value::Array(records))?;
    }
    let skipped = match near_misses {
        0 => String::new(),
        n => format!(
            "; skipped {n} near-miss{} (shaped like a token but with a wrong length or checksum)",
            if n == 1 { "" } else { "es" }
        ),
    };
    if credentials.is_empty() {
        context.notice(&format!(
            "No tokens or secret keys found in the input{skipped}."
        ));
    } else {
        context.notice(&format!(
            "Found {}: {revoked} revoked, {already} already revoked, {unknown} unknown{skipped}.",
            count(credentials.len(), "credential")
        ));
    }
    Ok(())
}

/// `1 token`, `2 tokens`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// True when this process has a terminal to read an answer from (`/dev/tty`).
fn controlling_terminal() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}
