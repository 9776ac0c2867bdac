//! A credential made from fuzzed parts parses back to itself, and changing any one character
//! of it to anything else is caught (by the checksum or the shape check).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokens::token::{Credential, Kind};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fuzz_target!(|data: &[u8]| {
    // 12 bytes of id, 32 of secret, then: kind, position, and 3 bytes for the new character.
    if data.len() < 12 + 32 + 5 {
        return;
    }
    let base62 = |bytes: &[u8]| -> String {
        bytes
            .iter()
            .map(|&b| char::from(BASE62[usize::from(b) % 62]))
            .collect()
    };
    let (id, secret) = (base62(&data[..12]), base62(&data[12..44]));
    let kind = if data[44] % 2 == 0 {
        Kind::Token
    } else {
        Kind::SecretKey
    };
    let credential = Credential::from_parts(kind, &id, &secret).expect("valid parts");
    assert_eq!(
        Credential::parse(kind, credential.expose()),
        Ok(credential.clone())
    );
    assert_eq!(credential.id(), id);

    let original: Vec<char> = credential.expose().chars().collect();
    let position = usize::from(data[45]) % original.len();
    let code = u32::from_le_bytes([data[46], data[47], data[48] % 0x11, 0]);
    let Some(replacement) = char::from_u32(code) else {
        return;
    };
    if replacement == original[position] {
        return;
    }
    let mut changed = original;
    changed[position] = replacement;
    let changed: String = changed.into_iter().collect();
    assert!(
        Credential::parse(kind, &changed).is_err(),
        "a change at {position} to {replacement:?} was not caught"
    );
});
