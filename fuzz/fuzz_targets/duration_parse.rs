//! Any input to the duration, expiry and since parsers gives an error or a value, never a
//! panic, and the values keep their promises: durations are between 0 and 1000 years, an
//! expiry lies in the future.
#![no_main]

use chrono::{DateTime, Duration, Utc};
use libfuzzer_sys::fuzz_target;
use tokens::duration::{parse_duration, parse_expiry, parse_since};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = DateTime::<Utc>::from_timestamp(1_795_000_000, 0).expect("a valid time");
    if let Ok(duration) = parse_duration(&text) {
        assert!(duration >= Duration::zero());
        assert!(duration <= Duration::days(1000 * 365));
    }
    match parse_expiry(&text, now) {
        Ok(Some(at)) => assert!(at > now),
        Ok(None) => assert!(["never", "none"].iter().any(|word| text.trim().eq_ignore_ascii_case(word))),
        Err(_) => {}
    }
    let _ = parse_since(&text, now);
});
