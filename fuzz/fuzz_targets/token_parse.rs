//! Any input to the token parser gives an error or a credential, never a panic; a credential
//! that parses is exactly its trimmed input and parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokens::token::{self, Credential, Kind};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for kind in [Kind::Token, Kind::SecretKey] {
        if let Ok(credential) = Credential::parse(kind, &text) {
            assert_eq!(credential.kind(), kind);
            assert_eq!(credential.expose(), text.trim());
            assert_eq!(
                Credential::parse(kind, credential.expose()),
                Ok(credential.clone())
            );
            assert!(credential.matches(&credential.secret_hash()));
            let masked = token::mask(credential.id(), &credential.secret_tail());
            assert!(!masked.contains(&credential.expose()[kind.prefix().len() + 13..][..8]));
        }
    }
    let _ = token::looks_like_id(&text);
    let _ = tokens::cli::looks_like_secret(&text);
});
