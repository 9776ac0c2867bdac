//! `tokens revoke --leaked`: revoke every token and secret key found in a text on stdin (a secret
//! scanner's report as it is, a log excerpt, one token a line), in one transaction.
//!
//! A credential counts only when its checksum is right and its secret matches the vault's hash:
//! anything else (an unknown id, or a known id with a wrong secret) is reported as unknown and
//! reveals nothing of the vault. A leaked token ends that token; a leaked secret key ends every
//! token of its lineage, since whoever found it could refresh its way to a new pair.
//!
//! Any input is handled in under 64 MiB: repeats are told apart by a 16-byte fingerprint, the
//! credentials found are kept without their secrets (beyond the first few thousand, in an
//! unnamed temporary file), looked up in the vault a chunk at a time, and the answers (the JSON
//! array included) are written as they are made.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;

use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Context, label, rotate};
use crate::error::{Error, Result};
use crate::token::{self, Credential, Found, Kind};
use crate::vault::{Access, Store, TokenRecord, Vault};

/// The reason every revocation here is recorded with.
const REASON: &str = "leaked";

/// How many credentials are looked up in the vault at once.
const CHUNK: usize = 1000;

/// The most distinct credentials and near-misses one run takes: about 36 MiB of fingerprints,
/// so that any input is handled in under 64 MiB. A larger input is refused before the vault is
/// opened.
const MAX_DISTINCT: usize = 1_750_000;

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

/// A credential whose secret matched: its place among the candidates, its kind, where it
/// stands. Only these are kept whole: only a holder of a real secret can make one.
struct Matched {
    index: u64,
    kind: Kind,
    standing: Standing,
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
    let (mut candidates, near_misses) = read_credentials(std::io::stdin().lock(), MAX_DISTINCT)?;

    // A missing vault is an error (exit 1), not a new empty one that knows none of them.
    drop(context.open(Access::Read)?);
    let mut vault = context.open(Access::Write)?;
    if !context.yes {
        ask(context, &vault, &mut candidates)?;
    }

    // Judged (again) under the write lock, as of now (reading a paste or a question may have
    // taken a while), and as the vault stood before any of it changed (so a token and its
    // secret key in one report are both reported revoked, not one "already").
    let now = chrono::Utc::now();
    let (matched, cancelled) = vault.write(|store| {
        let matched = judge_all(store, &mut candidates, now)?;
        let mut revoked: HashSet<&str> = HashSet::new();
        // (successor revoked, the token that waited on its first use), as `revoke` does.
        let mut waiting: Vec<(String, String)> = Vec::new();
        for Matched { kind, standing, .. } in &matched {
            let Standing::ToRevoke { record, targets } = standing else {
                continue;
            };
            for target in targets {
                if !revoked.insert(&target.id) {
                    continue;
                }
                if let Some(old) = store
                    .find_for_verify(&target.id)?
                    .and_then(|verify| verify.ends_on_first_use)
                {
                    waiting.push((target.id.clone(), old));
                }
                store.set_revoked(&target.id, now, REASON, None)?;
                let detail = match kind {
                    Kind::Token => REASON.to_owned(),
                    Kind::SecretKey => format!("{REASON} (secret key of {})", record.id),
                };
                store.log_event(now, Some(&target.id), "revoked", &detail)?;
            }
        }
        let ended: Vec<&str> = revoked.iter().copied().collect();
        let mut cancelled = Vec::new();
        for (successor, old) in waiting {
            if let Some(old) = rotate::cancel_rotation(store, &successor, &old, &ended, now)? {
                cancelled.push((successor, old));
            }
        }
        Ok((matched, cancelled))
    })?;

    report(context, &mut candidates, &matched, near_misses)?;
    for (successor, old) in &cancelled {
        rotate::say_cancelled(context, successor, old);
    }
    Ok(())
}

/// Asks whether to revoke what the candidates would end, as the vault stands now (read without
/// the write lock, which is not held while a person thinks).
fn ask(context: &Context, vault: &Vault, candidates: &mut Candidates) -> Result<()> {
    let now = chrono::Utc::now();
    let matched = judge_all(&*vault.store(), candidates, now)?;
    let mut to_revoke: Vec<&TokenRecord> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for Matched { standing, .. } in &matched {
        if let Standing::ToRevoke { targets, .. } = standing {
            to_revoke.extend(targets.iter().filter(|target| seen.insert(&target.id)));
        }
    }
    if to_revoke.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = to_revoke.iter().map(|target| label(target)).collect();
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

/// Where every candidate stands in the vault at `now`, looked up a chunk at a time; only the
/// ones whose secret matched come back, in the order of the input.
fn judge_all(
    store: &dyn Store,
    candidates: &mut Candidates,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Matched>> {
    let mut matched = Vec::new();
    candidates.for_each_chunk(&mut |first, chunk| {
        let ids: Vec<&str> = chunk.iter().map(Candidate::id).collect();
        let records: HashMap<String, TokenRecord> = store
            .find_by_ids(&ids)?
            .into_iter()
            .map(|record| (record.id.clone(), record))
            .collect();
        for (offset, candidate) in chunk.iter().enumerate() {
            let Some(record) = records.get(candidate.id()) else {
                continue;
            };
            let standing = standing(store, candidate, record, now)?;
            if !matches!(standing, Standing::Unknown) {
                matched.push(Matched {
                    index: first + offset as u64,
                    kind: candidate.kind,
                    standing,
                });
            }
        }
        Ok(())
    })?;
    Ok(matched)
}

/// Where `candidate` stands at `now`, given the token `record` of its id.
fn standing(
    store: &dyn Store,
    candidate: &Candidate,
    record: &TokenRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Standing> {
    let targets = match candidate.kind {
        Kind::Token if candidate.matches(&record.secret_hash) => {
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
                .is_some_and(|hash| candidate.matches(hash)) =>
        {
            store.live_of_lineage(&record.lineage, now)?
        }
        _ => return Ok(Standing::Unknown),
    };
    let record = record.clone();
    Ok(if targets.is_empty() {
        Standing::AlreadyRevoked { record }
    } else {
        Standing::ToRevoke { record, targets }
    })
}

/// The most of one run of bytes a credential could be made of (`[A-Za-z0-9_]`) held at once: a
/// longer run (no credential's) is searched and all but its end let go, so any input, however
/// long its lines, is read in flat memory.
const LONGEST_RUN: usize = 1 << 20;

/// Reads stdin to its end, a piece at a time (credentials never span a byte outside
/// `[A-Za-z0-9_]`), and returns each distinct credential in the order first seen, and how many
/// distinct near-misses there were. More than `limit` distinct credentials and near-misses is
/// a usage error.
fn read_credentials(mut input: impl BufRead, limit: usize) -> Result<(Candidates, usize)> {
    // What was read and not searched yet: the start of a run that may go on.
    let mut pending: Vec<u8> = Vec::new();
    let mut candidates = Candidates::default();
    // Repeats are told apart by a fingerprint of the whole text, credential or near-miss.
    let mut seen = Fingerprints::new();
    let mut near_misses = 0;
    let mut search = |text: &[u8]| -> Result<()> {
        // Credentials are ASCII: bytes that are not UTF-8 cannot be part of one.
        for found in token::find_all(&String::from_utf8_lossy(text)) {
            let (fingerprint, credential) = match found {
                Found::Credential(credential) => (
                    Sha256::digest(credential.expose().as_bytes()).into(),
                    Some(credential),
                ),
                Found::NearMiss { fingerprint, .. } => (fingerprint, None),
            };
            if !seen.insert(&fingerprint) {
                continue;
            }
            if seen.len() > limit {
                return Err(Error::Usage(format!(
                    "the input holds more than {limit} distinct credentials and \
                     near-misses, more than revoke --leaked reads at once; nothing changed: \
                     split it (e.g. with split -l) and give each part to revoke --leaked"
                )));
            }
            match credential {
                Some(credential) => candidates.push(Candidate::of(&credential))?,
                None => near_misses += 1,
            }
        }
        Ok(())
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
                let searched = search(&pending);
                zeroize::Zeroize::zeroize(&mut pending);
                searched?;
                pending.extend_from_slice(&read[end + 1..]);
            }
            None => pending.extend_from_slice(read),
        }
        input.consume(length);
        if pending.len() > LONGEST_RUN {
            search(&pending)?;
            let keep = pending.len() - CREDENTIAL_LEN;
            pending.copy_within(keep.., 0);
            pending.truncate(CREDENTIAL_LEN);
        }
    }
    let searched = search(&pending);
    // The last piece may have held a secret.
    zeroize::Zeroize::zeroize(&mut pending);
    searched?;
    Ok((candidates, near_misses))
}

/// The length of a secret key, the longer of the two credentials.
const CREDENTIAL_LEN: usize = 4 + token::ID_LEN + 1 + token::SECRET_LEN + token::CHECK_LEN;

/// True for the bytes a credential is made of.
fn in_credential(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The first 16 bytes of the SHA-256 of each text seen, in 256 sets by their first byte: a set
/// that grows copies only its own part, so the peak stays near what the fingerprints take.
struct Fingerprints {
    shards: Vec<HashSet<[u8; 16]>>,
    len: usize,
}

impl Fingerprints {
    fn new() -> Fingerprints {
        Fingerprints {
            shards: (0..256).map(|_| HashSet::new()).collect(),
            len: 0,
        }
    }

    /// True when `digest`'s fingerprint was not seen before.
    fn insert(&mut self, digest: &[u8; 32]) -> bool {
        let mut fingerprint = [0; 16];
        fingerprint.copy_from_slice(&digest[..16]);
        let new = self.shards[usize::from(digest[0])].insert(fingerprint);
        self.len += usize::from(new);
        new
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// A credential found in the input as it is kept: what the answers and the vault's hash need,
/// never its secret.
struct Candidate {
    kind: Kind,
    /// The public id: base62, so ASCII.
    id: [u8; token::ID_LEN],
    /// The secret's last characters, for the masked form.
    tail: [u8; token::MASK_TAIL],
    /// SHA-256 of the secret, as the vault keeps it.
    secret_hash: [u8; 32],
}

impl Candidate {
    /// The size of one in the temporary file: kind, id, tail, hash.
    const SIZE: usize = 1 + token::ID_LEN + token::MASK_TAIL + 32;

    fn of(credential: &Credential) -> Candidate {
        let mut candidate = Candidate {
            kind: credential.kind(),
            id: [0; token::ID_LEN],
            tail: [0; token::MASK_TAIL],
            secret_hash: credential.secret_hash(),
        };
        candidate.id.copy_from_slice(credential.id().as_bytes());
        candidate
            .tail
            .copy_from_slice(credential.secret_tail().as_bytes());
        candidate
    }

    fn id(&self) -> &str {
        // Both come from a parsed credential: base62, so valid UTF-8.
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    /// `tk_<id>_…<tail>`, as [`token::mask_credential`] writes it.
    fn masked(&self) -> String {
        let tail = std::str::from_utf8(&self.tail).unwrap_or_default();
        format!("{}{}_…{tail}", self.kind.prefix(), self.id())
    }

    /// True when the secret hashes to `stored`, compared in constant time.
    fn matches(&self, stored: &[u8]) -> bool {
        self.secret_hash.as_slice().ct_eq(stored).into()
    }

    fn to_bytes(&self) -> [u8; Candidate::SIZE] {
        let mut bytes = [0; Candidate::SIZE];
        bytes[0] = u8::from(self.kind == Kind::SecretKey);
        let (id, rest) = bytes[1..].split_at_mut(token::ID_LEN);
        id.copy_from_slice(&self.id);
        let (tail, hash) = rest.split_at_mut(token::MASK_TAIL);
        tail.copy_from_slice(&self.tail);
        hash.copy_from_slice(&self.secret_hash);
        bytes
    }

    fn from_bytes(bytes: &[u8; Candidate::SIZE]) -> Candidate {
        let mut candidate = Candidate {
            kind: if bytes[0] == 1 {
                Kind::SecretKey
            } else {
                Kind::Token
            },
            id: [0; token::ID_LEN],
            tail: [0; token::MASK_TAIL],
            secret_hash: [0; 32],
        };
        let (id, rest) = bytes[1..].split_at(token::ID_LEN);
        candidate.id.copy_from_slice(id);
        let (tail, hash) = rest.split_at(token::MASK_TAIL);
        candidate.tail.copy_from_slice(tail);
        candidate.secret_hash.copy_from_slice(hash);
        candidate
    }
}

/// The most candidates kept in memory; more go to an unnamed temporary file.
const IN_MEMORY: usize = 8 * CHUNK;

/// The distinct credentials of the input, in the order first seen: in memory while few, then
/// in a temporary file no other process can open (it has no name), read back a chunk at a time.
#[derive(Default)]
struct Candidates {
    memory: Vec<Candidate>,
    file: Option<BufWriter<File>>,
    len: u64,
}

impl Candidates {
    fn push(&mut self, candidate: Candidate) -> Result<()> {
        self.len += 1;
        if self.file.is_none() && self.memory.len() < IN_MEMORY {
            self.memory.push(candidate);
            return Ok(());
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(BufWriter::new(temporary_file()?)),
        };
        for kept in self.memory.drain(..).chain(std::iter::once(candidate)) {
            file.write_all(&kept.to_bytes()).map_err(spill_error)?;
        }
        Ok(())
    }

    fn len(&self) -> u64 {
        self.len
    }

    /// Calls `visit` with each chunk of candidates in order, and the index of its first.
    fn for_each_chunk(
        &mut self,
        visit: &mut dyn FnMut(u64, &[Candidate]) -> Result<()>,
    ) -> Result<()> {
        let Some(writer) = &mut self.file else {
            for (number, chunk) in self.memory.chunks(CHUNK).enumerate() {
                visit((number * CHUNK) as u64, chunk)?;
            }
            return Ok(());
        };
        writer.flush().map_err(spill_error)?;
        let mut file = writer.get_ref();
        file.rewind().map_err(spill_error)?;
        let mut reader = BufReader::new(file);
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut first = 0;
        let mut bytes = [0; Candidate::SIZE];
        for _ in 0..self.len {
            reader.read_exact(&mut bytes).map_err(spill_error)?;
            chunk.push(Candidate::from_bytes(&bytes));
            if chunk.len() == CHUNK {
                visit(first, &chunk)?;
                first += CHUNK as u64;
                chunk.clear();
            }
        }
        if !chunk.is_empty() {
            visit(first, &chunk)?;
        }
        // Back to the end, where the next push would write.
        writer
            .get_ref()
            .seek(std::io::SeekFrom::End(0))
            .map_err(spill_error)?;
        Ok(())
    }
}

/// A file in the temporary folder (`TMPDIR`, else `/tmp`) with no name, readable by this user
/// only, gone when the process ends: where the candidates of a very long input are kept.
fn temporary_file() -> Result<File> {
    let folder = std::env::temp_dir();
    let unnamed = OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(&folder);
    match unnamed {
        Ok(file) => Ok(file),
        // A file system without O_TMPFILE: a fresh name, removed at once.
        Err(_) => {
            let path = folder.join(format!(
                ".tokens-leaked-{}-{}",
                std::process::id(),
                token::generate_id()
            ));
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .map_err(spill_error)?;
            std::fs::remove_file(&path).map_err(spill_error)?;
            Ok(file)
        }
    }
}

fn spill_error(error: std::io::Error) -> Error {
    Error::Other(anyhow::anyhow!(
        "could not keep the credentials found in a temporary file in {}: {error} (set TMPDIR to a \
         writable folder)",
        std::env::temp_dir().display()
    ))
}

/// One line (or one JSON record) per credential found, then a summary line. The JSON array is
/// written one record at a time, formatted as `serde_json`'s pretty printer would write it whole.
fn report(
    context: &Context,
    candidates: &mut Candidates,
    matched: &[Matched],
    near_misses: usize,
) -> Result<()> {
    let (mut revoked, mut already, mut unknown) = (0, 0, 0);
    let mut stdout = BufWriter::new(std::io::stdout().lock());
    let mut matched = matched.iter().peekable();
    let unknown_standing = Standing::Unknown;
    let total = candidates.len();
    if context.json {
        stdout.write_all(b"[")?;
    }
    candidates.for_each_chunk(&mut |first, chunk| {
        for (offset, candidate) in chunk.iter().enumerate() {
            let index = first + offset as u64;
            let standing = match matched.next_if(|hit| hit.index == index) {
                Some(hit) => &hit.standing,
                None => &unknown_standing,
            };
            match standing {
                Standing::Unknown => unknown += 1,
                Standing::AlreadyRevoked { .. } => already += 1,
                Standing::ToRevoke { .. } => revoked += 1,
            }
            context.notice(&line(candidate, standing));
            if context.json {
                let record = serde_json::to_string_pretty(&record(candidate, standing))
                    .map_err(anyhow::Error::from)?;
                stdout.write_all(if index == 0 { b"\n" } else { b",\n" })?;
                for (number, text) in record.lines().enumerate() {
                    if number > 0 {
                        stdout.write_all(b"\n")?;
                    }
                    write!(stdout, "  {text}")?;
                }
            }
        }
        Ok(())
    })?;
    if context.json {
        stdout.write_all(if total == 0 { b"]\n" } else { b"\n]\n" })?;
        stdout.flush()?;
    }
    let skipped = match near_misses {
        0 => String::new(),
        n => format!(
            "; skipped {n} near-miss{} (shaped like a token but with a wrong length or checksum)",
            if n == 1 { "" } else { "es" }
        ),
    };
    if total == 0 {
        context.notice(&format!(
            "No tokens or secret keys found in the input{skipped}."
        ));
    } else {
        context.notice(&format!(
            "Found {}: {revoked} revoked, {already} already revoked, {unknown} unknown{skipped}.",
            count(total as usize, "credential")
        ));
    }
    Ok(())
}

/// The line that says where `candidate` stands.
fn line(candidate: &Candidate, standing: &Standing) -> String {
    let masked = candidate.masked();
    let what = match candidate.kind {
        Kind::Token => "token",
        Kind::SecretKey => "secret key",
    };
    match standing {
        Standing::Unknown => {
            format!("{masked}: unknown (no {what} with this id and secret in this vault)")
        }
        Standing::AlreadyRevoked { record } => {
            format!("{masked}: {what} of {} already revoked", label(record))
        }
        Standing::ToRevoke { record, targets } => {
            let ended = match candidate.kind {
                Kind::Token => String::new(),
                Kind::SecretKey => format!(
                    " and its lineage: {}",
                    targets.iter().map(label).collect::<Vec<_>>().join(", ")
                ),
            };
            format!("{masked}: revoked {what} of {}{ended}", label(record))
        }
    }
}

/// The JSON record of `candidate` (SPEC §4).
fn record(candidate: &Candidate, standing: &Standing) -> serde_json::Value {
    let (status, record, targets): (&str, Option<&TokenRecord>, &[TokenRecord]) = match standing {
        Standing::Unknown => ("unknown", None, &[]),
        Standing::AlreadyRevoked { record } => ("already_revoked", Some(record), &[]),
        Standing::ToRevoke { record, targets } => ("revoked", Some(record), targets),
    };
    json!({
        "kind": match candidate.kind {
            Kind::Token => "token",
            Kind::SecretKey => "secret_key",
        },
        "id": candidate.id(),
        "masked": candidate.masked(),
        "status": status,
        "name": record.map(|record| &record.name),
        "revoked": targets.iter().map(|target| &target.id).collect::<Vec<_>>(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_keeps_what_the_answers_need_and_no_secret() {
        let credential = Credential::generate(Kind::SecretKey, &token::generate_id());
        let candidate = Candidate::of(&credential);
        assert_eq!(candidate.masked(), token::mask_credential(&credential));
        assert!(candidate.matches(&credential.secret_hash()));
        let bytes = candidate.to_bytes();
        let secret = &credential.expose()[4 + token::ID_LEN + 1..][..token::SECRET_LEN];
        let secret_head = &secret.as_bytes()[..8];
        assert!(!bytes.windows(8).any(|window| window == secret_head));
        let back = Candidate::from_bytes(&bytes);
        assert_eq!(back.masked(), candidate.masked());
        assert_eq!(back.kind, Kind::SecretKey);
        assert!(back.matches(&credential.secret_hash()));
    }

    #[test]
    fn candidates_past_the_memory_come_back_in_order_from_the_file() {
        let mut candidates = Candidates::default();
        let ids: Vec<String> = (0..IN_MEMORY + 2 * CHUNK + 7)
            .map(|_| token::generate_id())
            .collect();
        for id in &ids {
            candidates
                .push(Candidate::of(&Credential::generate(Kind::Token, id)))
                .unwrap();
        }
        assert!(candidates.file.is_some());
        for _ in 0..2 {
            let mut seen = Vec::new();
            candidates
                .for_each_chunk(&mut |first, chunk| {
                    assert_eq!(first, seen.len() as u64);
                    seen.extend(chunk.iter().map(|candidate| candidate.id().to_owned()));
                    Ok(())
                })
                .unwrap();
            assert_eq!(seen, ids);
        }
    }

    #[test]
    fn more_distinct_credentials_than_the_limit_are_refused() {
        let tokens: Vec<String> = (0..4)
            .map(|_| {
                Credential::generate(Kind::Token, &token::generate_id())
                    .expose()
                    .to_owned()
            })
            .collect();
        // The first with a character too few: its checksum cannot be right.
        let near_miss = &tokens[0][..tokens[0].len() - 1];
        // Three distinct, each twice, and a near-miss: four within a limit of four.
        let text = format!(
            "{0} {1}\n{2} {0}\n{1} {2} {near_miss}\n",
            tokens[0], tokens[1], tokens[2]
        );
        let (candidates, near_misses) = read_credentials(text.as_bytes(), 4).unwrap();
        assert_eq!((candidates.len(), near_misses), (3, 1));
        let text = format!("{text}{}\n", tokens[3]);
        match read_credentials(text.as_bytes(), 4) {
            Err(error @ Error::Usage(_)) => assert_eq!(
                error.to_string(),
                "the input holds more than 4 distinct credentials and near-misses, more than \
                 revoke --leaked reads at once; nothing changed: split it (e.g. with split -l) \
                 and give each part to revoke --leaked"
            ),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("read past the limit"),
        }
    }

    #[test]
    fn fingerprints_tell_repeats_apart() {
        let mut seen = Fingerprints::new();
        let one: [u8; 32] = Sha256::digest(b"one").into();
        let two: [u8; 32] = Sha256::digest(b"two").into();
        assert!(seen.insert(&one));
        assert!(seen.insert(&two));
        assert!(!seen.insert(&one));
        assert_eq!(seen.len(), 2);
    }
}
