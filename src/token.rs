//! The token format (SPEC §2): generate, parse, checksum, hash and mask.
//!
//! Pure: no I/O and no clock. A token is `tk_<id>_<secret><check>`, its refresh credential
//! `tks_<id>_<secret><check>`. The id and the secret are base62, so a token survives shells,
//! URLs and environment variables, and scanners can match `tk_[A-Za-z0-9]+_[A-Za-z0-9]+`.
//! The check is CRC32 over everything before it, in six base62 digits.

use std::borrow::Cow;
use std::fmt;

use rand::TryRngCore;
use rand::distr::{Alphanumeric, Distribution};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Length of the public id, in base62 characters (~71 bits: collisions are checked on insert).
pub const ID_LEN: usize = 12;
/// Length of the secret, in base62 characters: 32 × log2(62) ≈ 190 bits from the OS CSPRNG.
pub const SECRET_LEN: usize = 32;
/// Length of the checksum: 62^6 > 2^32, so any CRC32 fits.
pub const CHECK_LEN: usize = 6;
/// How many characters of the secret the masked form shows.
pub const MASK_TAIL: usize = 4;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Which of the two credentials a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tk_…`: the bearer token a client presents.
    Token,
    /// `tks_…`: the secret key, used only by `refresh`.
    SecretKey,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Token => "tk_",
            Kind::SecretKey => "tks_",
        }
    }

    /// How a message names it: `token (tk_…)`.
    pub fn described(self) -> &'static str {
        match self {
            Kind::Token => "token (tk_…)",
            Kind::SecretKey => "secret key (tks_…)",
        }
    }
}

/// Why a string is not a well-formed credential. Never contains the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("it does not start with {0}")]
    Prefix(&'static str),
    /// The other kind of credential where this one goes: a secret key given to `verify`, or
    /// `refresh`'s two lines swapped.
    #[error("it is a {found}, not a {expected}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("it has the wrong shape (expected {0}<id>_<secret>)")]
    Shape(&'static str),
    #[error("its checksum does not match (mistyped or truncated?)")]
    Checksum,
}

/// A parsed credential. The full text is secret: `Debug` is redacted, equality is decided in
/// constant time, and the memory is wiped on drop.
#[derive(Clone)]
pub struct Credential {
    kind: Kind,
    text: Zeroizing<String>,
}

impl PartialEq for Credential {
    fn eq(&self, other: &Credential) -> bool {
        self.kind == other.kind && bool::from(self.text.as_bytes().ct_eq(other.text.as_bytes()))
    }
}

impl Eq for Credential {}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credential({}{}_[redacted])",
            self.kind.prefix(),
            self.id()
        )
    }
}

impl Credential {
    /// Draws a new credential for `id` from the operating system's CSPRNG.
    pub fn generate(kind: Kind, id: &str) -> Credential {
        let mut rng = OsRng.unwrap_err();
        let mut secret: Zeroizing<String> = Zeroizing::new(String::with_capacity(SECRET_LEN));
        for _ in 0..SECRET_LEN {
            secret.push(char::from(Alphanumeric.sample(&mut rng)));
        }
        Credential::assemble(kind, id, &secret)
    }

    /// Formats a credential from its id and secret (each base62, of the documented length):
    /// the inverse of [`Credential::parse`], for tests and fuzzing.
    pub fn from_parts(kind: Kind, id: &str, secret: &str) -> Result<Credential, FormatError> {
        if !(looks_like_id(id) && secret.len() == SECRET_LEN && is_base62(secret)) {
            return Err(FormatError::Shape(kind.prefix()));
        }
        Ok(Credential::assemble(kind, id, secret))
    }

    fn assemble(kind: Kind, id: &str, secret: &str) -> Credential {
        let mut text = Zeroizing::new(String::with_capacity(
            kind.prefix().len() + id.len() + 1 + secret.len() + CHECK_LEN,
        ));
        text.push_str(kind.prefix());
        text.push_str(id);
        text.push('_');
        text.push_str(secret);
        let check = checksum(&text);
        text.push_str(&check);
        Credential { kind, text }
    }

    /// Parses `input` (surrounding whitespace ignored) as a credential of `kind`.
    pub fn parse(kind: Kind, input: &str) -> Result<Credential, FormatError> {
        let input = input.trim();
        let prefix = kind.prefix();
        let other = match kind {
            Kind::Token => Kind::SecretKey,
            Kind::SecretKey => Kind::Token,
        };
        if input.starts_with(other.prefix()) && !input.starts_with(prefix) {
            return Err(FormatError::WrongKind {
                expected: kind.described(),
                found: other.described(),
            });
        }
        let body = input
            .strip_prefix(prefix)
            .ok_or(FormatError::Prefix(prefix))?;
        let (id, rest) = body.split_once('_').ok_or(FormatError::Shape(prefix))?;
        let well_formed = id.len() == ID_LEN
            && rest.len() == SECRET_LEN + CHECK_LEN
            && is_base62(id)
            && is_base62(rest);
        if !well_formed {
            return Err(FormatError::Shape(prefix));
        }
        let (before, check) = input.split_at(input.len() - CHECK_LEN);
        if checksum(before)
            .as_bytes()
            .ct_eq(check.as_bytes())
            .unwrap_u8()
            != 1
        {
            return Err(FormatError::Checksum);
        }
        Ok(Credential {
            kind,
            text: Zeroizing::new(input.to_owned()),
        })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The public id.
    pub fn id(&self) -> &str {
        let start = self.kind.prefix().len();
        &self.text[start..start + ID_LEN]
    }

    /// The secret part (no checksum).
    fn secret(&self) -> &str {
        let start = self.kind.prefix().len() + ID_LEN + 1;
        &self.text[start..start + SECRET_LEN]
    }

    /// The whole credential, to be shown exactly once.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// SHA-256 of the secret: the only thing the vault keeps of it.
    pub fn secret_hash(&self) -> [u8; 32] {
        Sha256::digest(self.secret().as_bytes()).into()
    }

    /// The last characters of the secret, kept so the masked form can be shown later.
    pub fn secret_tail(&self) -> String {
        self.secret()[SECRET_LEN - MASK_TAIL..].to_owned()
    }

    /// True when this credential's secret hashes to `stored`, compared in constant time.
    pub fn matches(&self, stored: &[u8]) -> bool {
        let mut hash = self.secret_hash();
        let equal = hash.as_slice().ct_eq(stored).into();
        hash.zeroize();
        equal
    }
}

/// A fresh random id for a token.
pub fn generate_id() -> String {
    let mut rng = OsRng.unwrap_err();
    (0..ID_LEN)
        .map(|_| char::from(Alphanumeric.sample(&mut rng)))
        .collect()
}

/// True when `text` has the shape of a token id (used to tell ids from names).
pub fn looks_like_id(text: &str) -> bool {
    text.len() == ID_LEN && is_base62(text)
}

/// True when `text` has the shape of a token or secret key, checksum right or not:
/// `tk_`/`tks_`, an id, `_`, and at least 8 characters of secret. Such a text must never be
/// echoed back (names like `tk_ci` are fine).
pub fn looks_like_credential(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix(Kind::SecretKey.prefix())
        .or_else(|| text.strip_prefix(Kind::Token.prefix()))
    else {
        return false;
    };
    match rest.split_at_checked(ID_LEN) {
        Some((id, tail)) => {
            is_base62(id)
                && tail
                    .strip_prefix('_')
                    .is_some_and(|secret| secret.len() >= 8 && is_base62(secret))
        }
        None => false,
    }
}

/// The credential that starts at byte `start` of `text`, if one does (checksum right or not, as
/// [`looks_like_credential`] tells): the length of its `tk_<id>_` (or `tks_<id>_`) and its
/// whole length in bytes.
fn credential_at(text: &[u8], start: usize) -> Option<(usize, usize)> {
    let rest = &text[start..];
    let prefix = [Kind::SecretKey, Kind::Token]
        .into_iter()
        .map(Kind::prefix)
        .find(|prefix| rest.starts_with(prefix.as_bytes()))?;
    let id = rest.get(prefix.len()..prefix.len() + ID_LEN)?;
    let head = prefix.len() + ID_LEN + 1;
    if !(id.iter().all(u8::is_ascii_alphanumeric) && rest.get(head - 1) == Some(&b'_')) {
        return None;
    }
    let secret = rest[head..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    (secret >= 8).then_some((head, head + secret))
}

/// True when `text` holds something shaped like a token or secret key anywhere in it, whatever
/// surrounds it (`--scope=x,tk_…`, `see tk_…`).
pub fn holds_credential(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|start| bytes[start] == b't' && credential_at(bytes, start).is_some())
}

/// `text` with everything shaped like a token or secret key replaced by its masked form with
/// no part of the secret: `tk_<id>_…` (`tks_<id>_…`). For messages, whatever they quote.
pub fn redact(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut redacted = String::new();
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        match (bytes[at] == b't')
            .then(|| credential_at(bytes, at))
            .flatten()
        {
            // Both ends lie next to ASCII bytes (`t`, base62), so they are char boundaries.
            Some((head, length)) => {
                redacted.push_str(&text[copied..at + head]);
                redacted.push('…');
                at += length;
                copied = at;
            }
            None => at += 1,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    redacted.push_str(&text[copied..]);
    Cow::Owned(redacted)
}

/// What [`find_all`] found at one place of a text.
#[derive(Debug)]
pub enum Found {
    /// A well-formed token or secret key, its checksum right.
    Credential(Credential),
    /// Something shaped like one (`tk_<id>_` and 8 or more characters) whose length or
    /// checksum is wrong: a near-miss, mistyped, truncated or made up. Only its kind and the
    /// SHA-256 of its text (to tell repeats apart) are kept.
    NearMiss { kind: Kind, fingerprint: [u8; 32] },
}

/// Every token, secret key and near-miss in `text`, in the order they appear, whatever
/// surrounds them (a scanner's JSON report, a log line, `TOKEN=tk_…`). Credentials never span
/// lines, so a caller may feed a long text a line at a time.
pub fn find_all(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some((_, length)) = (bytes[at] == b't')
            .then(|| credential_at(bytes, at))
            .flatten()
        else {
            at += 1;
            continue;
        };
        // Both ends lie next to ASCII bytes (`t`, base62), so they are char boundaries.
        let candidate = &text[at..at + length];
        let kind = if candidate.starts_with(Kind::SecretKey.prefix()) {
            Kind::SecretKey
        } else {
            Kind::Token
        };
        found.push(match Credential::parse(kind, candidate) {
            Ok(credential) => Found::Credential(credential),
            Err(_) => Found::NearMiss {
                kind,
                fingerprint: Sha256::digest(candidate.as_bytes()).into(),
            },
        });
        at += length;
    }
    found
}

/// The masked form of a credential found in a text: `tk_<id>_…<last 4>` or `tks_<id>_…<last 4>`.
pub fn mask_credential(credential: &Credential) -> String {
    format!(
        "{}{}_…{}",
        credential.kind().prefix(),
        credential.id(),
        credential.secret_tail()
    )
}

/// The masked form shown after creation: `tk_<id>_…<last 4 of secret>`.
pub fn mask(id: &str, secret_tail: &str) -> String {
    format!("tk_{id}_…{secret_tail}")
}

fn is_base62(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// CRC32 of `text`, as six base62 digits.
fn checksum(text: &str) -> String {
    let mut value = u64::from(crc32(text.as_bytes()));
    let mut digits = [b'0'; CHECK_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    // Every byte comes from BASE62, which is ASCII.
    String::from_utf8(digits.to_vec()).expect("base62 digits are ASCII")
}

/// CRC-32 (IEEE 802.3, the one zlib computes), a table lookup a byte.
///
/// Computed here rather than by a crate that picks a SIMD kernel at run time: the pick probes the
/// CPU (CPUID), which costs more than the whole checksum of a 54-byte token: under a hypervisor,
/// where CPUID traps, about 3% of a whole `verify` process (docs/PERFORMANCE.md).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc = CRC32_TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// The remainders of every byte value, for the reflected polynomial 0xEDB88320; built at compile time.
const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut index = 0;
    while index < 256 {
        let mut crc = index as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[index] = crc;
        index += 1;
    }
    table
};

#[cfg(test)]
mod tests {

    #[test]
    fn credentials_are_told_from_names() {
        let token = Credential::generate(Kind::Token, &generate_id());
        let key = Credential::generate(Kind::SecretKey, &generate_id());
        assert!(looks_like_credential(token.expose()));
        assert!(looks_like_credential(key.expose()));
        let mistyped = format!("{}x", &token.expose()[..token.expose().len() - 1]);
        assert!(
            looks_like_credential(&mistyped),
            "a bad checksum still hides a secret"
        );
        for name in [
            "tk_ci",
            "tks_bot",
            "ci-deploy",
            "tk_abcdefghijkl",
            "tk_abcdefghijkl_short",
        ] {
            assert!(!looks_like_credential(name), "{name}");
        }
    }
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn credentials_are_redacted_wherever_they_are() {
        let token = Credential::generate(Kind::Token, &generate_id());
        let key = Credential::generate(Kind::SecretKey, token.id());
        let (t, k) = (token.expose(), key.expose());
        let id = token.id();
        for (text, expected) in [
            (t.to_owned(), format!("tk_{id}_…")),
            (k.to_owned(), format!("tks_{id}_…")),
            (format!("--scope=x,{t}"), format!("--scope=x,tk_{id}_…")),
            (
                format!("see {t}. and {k}!"),
                format!("see tk_{id}_…. and tks_{id}_…!"),
            ),
            (format!("é{t}é{t}"), format!("étk_{id}_…étk_{id}_…")),
            (format!("xtk_{t}"), format!("xtk_tk_{id}_…")),
            (format!("{}x", &t[..t.len() - 1]), format!("tk_{id}_…")),
        ] {
            assert_eq!(redact(&text), expected, "{text}");
            assert!(holds_credential(&text), "{text}");
        }
        for text in [
            "tk_ci",
            "tks_bot",
            "tk_abcdefghijkl",
            "tk_abcdefghijkl_short",
            "t",
            "",
            "é",
        ] {
            assert!(matches!(redact(text), Cow::Borrowed(_)), "{text}");
            assert!(!holds_credential(text), "{text}");
        }
    }

    proptest! {
        #[test]
        fn redacted_text_holds_no_secret(before in "\\PC{0,8}", after in "\\PC{0,8}") {
            let token = Credential::generate(Kind::Token, &generate_id());
            let text = format!("{before}{}{after}", token.expose());
            let redacted = redact(&text);
            prop_assert!(!redacted.contains(token.secret()));
            prop_assert!(!holds_credential(&redacted));
            let masked = format!("tk_{}_…", token.id());
            prop_assert!(redacted.contains(&masked));
        }
    }

    #[test]
    fn find_all_finds_credentials_in_any_text() {
        let token = Credential::generate(Kind::Token, &generate_id());
        let key = Credential::generate(Kind::SecretKey, token.id());
        let (t, k) = (token.expose(), key.expose());
        let wrong_check = format!(
            "{}{}",
            &t[..t.len() - 1],
            if t.ends_with('A') { 'B' } else { 'A' }
        );
        let short = &t[..t.len() - 3];
        let longer = format!("{t}x");
        let text = format!(
            "{{\"Secret\":\"{t}\",\"k\":\"{k}\"}}\nTOKEN={t}\n{wrong_check} {short} {longer} \
             the tk_ prefix, tk_ci, tk_abcdefghijkl_short, é{k}é"
        );
        let found = find_all(&text);
        let credentials: Vec<&Credential> = found
            .iter()
            .filter_map(|found| match found {
                Found::Credential(credential) => Some(credential),
                Found::NearMiss { .. } => None,
            })
            .collect();
        assert_eq!(credentials, [&token, &key, &token, &key]);
        let near_misses = found
            .iter()
            .filter(|found| {
                matches!(
                    found,
                    Found::NearMiss {
                        kind: Kind::Token,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(near_misses, 3, "wrong check, short, longer");
        assert_eq!(found.len(), 7);
        assert_eq!(
            mask_credential(&key),
            format!("tks_{}_…{}", key.id(), key.secret_tail())
        );
    }

    fn sample() -> Credential {
        Credential::generate(Kind::Token, &generate_id())
    }

    #[test]
    fn generated_token_has_the_documented_shape() {
        let token = sample();
        let text = token.expose();
        assert!(text.starts_with("tk_"));
        assert_eq!(text.len(), 3 + ID_LEN + 1 + SECRET_LEN + CHECK_LEN);
        let (id, rest) = text[3..].split_once('_').unwrap();
        assert_eq!(id, token.id());
        assert!(is_base62(id) && is_base62(rest));
    }

    #[test]
    fn generated_token_parses_back() {
        let token = sample();
        let parsed = Credential::parse(Kind::Token, token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.secret_hash(), token.secret_hash());
    }

    #[test]
    fn secret_key_and_token_are_not_interchangeable() {
        let id = generate_id();
        let key = Credential::generate(Kind::SecretKey, &id);
        assert!(key.expose().starts_with("tks_"));
        assert_eq!(key.id(), id);
        assert_eq!(
            Credential::parse(Kind::Token, key.expose())
                .unwrap_err()
                .to_string(),
            "it is a secret key (tks_…), not a token (tk_…)"
        );
        let token = Credential::generate(Kind::Token, &id);
        assert_eq!(
            Credential::parse(Kind::SecretKey, token.expose())
                .unwrap_err()
                .to_string(),
            "it is a token (tk_…), not a secret key (tks_…)"
        );
    }

    #[test]
    fn two_tokens_never_share_a_secret() {
        assert_ne!(sample().secret_hash(), sample().secret_hash());
    }

    #[test]
    fn truncated_token_is_rejected() {
        let token = sample();
        let text = token.expose();
        assert!(Credential::parse(Kind::Token, &text[..text.len() - 1]).is_err());
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let token = sample();
        let padded = format!("  {}\r\n", token.expose());
        assert_eq!(Credential::parse(Kind::Token, &padded).unwrap(), token);
    }

    #[test]
    fn matches_only_its_own_hash() {
        let token = sample();
        assert!(token.matches(&token.secret_hash()));
        assert!(!token.matches(&sample().secret_hash()));
        assert!(!token.matches(&[]));
    }

    #[test]
    fn mask_shows_id_and_last_four_only() {
        let token = sample();
        let masked = mask(token.id(), &token.secret_tail());
        assert_eq!(
            masked,
            format!("tk_{}_…{}", token.id(), &token.secret()[28..])
        );
    }

    #[test]
    fn debug_is_redacted() {
        let token = sample();
        let debug = format!("{token:?}");
        assert!(!debug.contains(token.secret()));
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn checksum_is_six_base62_digits() {
        assert_eq!(checksum("").len(), CHECK_LEN);
        assert_eq!(checksum("tk_abc_def").len(), CHECK_LEN);
        assert!(is_base62(&checksum("anything")));
    }

    #[test]
    fn the_largest_crc32_has_first_digit_4() {
        let mut value = u64::from(u32::MAX);
        for _ in 1..CHECK_LEN {
            value /= 62;
        }
        assert_eq!(value, 4);
    }

    #[test]
    fn crc32_gives_the_standard_check_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    /// Every single-character change anywhere in a token, to every character a token may hold
    /// and a few it may not, is caught by the checksum (or the shape check): exhaustively, for
    /// a few tokens and secret keys.
    #[test]
    fn every_single_character_change_is_caught() {
        let alphabet: Vec<char> = BASE62
            .iter()
            .map(|&b| char::from(b))
            .chain(['_', '-', ' ', '…'])
            .collect();
        for kind in [Kind::Token, Kind::SecretKey] {
            for _ in 0..10 {
                let credential = Credential::generate(kind, &generate_id());
                let original: Vec<char> = credential.expose().chars().collect();
                for position in 0..original.len() {
                    for &replacement in &alphabet {
                        if replacement == original[position] {
                            continue;
                        }
                        let mut changed = original.clone();
                        changed[position] = replacement;
                        let changed: String = changed.into_iter().collect();
                        assert!(
                            Credential::parse(kind, &changed).is_err(),
                            "change at {position} to {replacement:?} not caught"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn equality_compares_the_whole_credential() {
        let token = sample();
        assert_eq!(token, token.clone());
        assert_ne!(token, sample());
        let key = Credential::assemble(Kind::SecretKey, token.id(), token.secret());
        assert_ne!(token, key);
    }

    proptest! {
        #[test]
        fn crc32_agrees_with_crc32fast(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(crc32(&bytes), crc32fast::hash(&bytes));
        }

        /// The scanner rules (scanners/) match the check's first digit as `[0-4]`.
        #[test]
        fn a_checks_first_digit_is_0_to_4(text in "\\PC{0,60}") {
            prop_assert!(('0'..='4').contains(&checksum(&text).chars().next().unwrap()));
        }

        #[test]
        fn any_input_parses_or_errs_without_panic(input in "\\PC*") {
            let _ = Credential::parse(Kind::Token, &input);
            let _ = Credential::parse(Kind::SecretKey, &input);
        }

        #[test]
        fn near_tokens_parse_or_err_without_panic(tail in "[A-Za-z0-9_…é]{0,50}") {
            let _ = Credential::parse(Kind::Token, &format!("tk_{tail}"));
        }

        #[test]
        fn format_and_parse_round_trip(
            id in "[A-Za-z0-9]{12}",
            secret in "[A-Za-z0-9]{32}",
            secret_key in any::<bool>(),
            padding in "[ \t\r\n]{0,3}",
        ) {
            let kind = if secret_key { Kind::SecretKey } else { Kind::Token };
            let made = Credential::from_parts(kind, &id, &secret).unwrap();
            let text = made.expose();
            prop_assert!(text.starts_with(kind.prefix()));
            prop_assert_eq!(text.len(), kind.prefix().len() + ID_LEN + 1 + SECRET_LEN + CHECK_LEN);
            let parsed = Credential::parse(kind, &format!("{padding}{text}{padding}")).unwrap();
            prop_assert_eq!(parsed.kind(), kind);
            prop_assert_eq!(parsed.id(), id.as_str());
            prop_assert_eq!(parsed.secret(), secret.as_str());
            prop_assert_eq!(parsed.expose(), text);
            prop_assert!(parsed.matches(&made.secret_hash()));
            prop_assert_eq!(mask(parsed.id(), &parsed.secret_tail()), format!("tk_{id}_…{}", &secret[28..]));
        }

        #[test]
        fn any_single_character_change_is_caught(pos in 0usize..(3 + ID_LEN + 1 + SECRET_LEN + CHECK_LEN), replacement in "[A-Za-z0-9_]") {
            let token = sample();
            let mut bytes = token.expose().as_bytes().to_vec();
            let new = replacement.as_bytes()[0];
            prop_assume!(bytes[pos] != new);
            bytes[pos] = new;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Credential::parse(Kind::Token, &changed).is_err());
        }
    }
}
