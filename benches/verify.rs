//! The in-process hot path of `tokens verify`: parse, hash, lookup, and the three together.
//!
//! `cargo bench --bench verify` (set `BENCH_TOKENS` for the vault size; 100,000 by default).
//! Whole-process figures, against the floor, come from `benches/compare.sh`.

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use tokens::token::{Credential, Kind};
use tokens::vault::{Access, Vault};

/// How many of the seeded tokens the lookups cycle through, so they do not all hit one cached page.
const SAMPLES: usize = 1_000;

fn hot_path(c: &mut Criterion) {
    let count: usize = std::env::var("BENCH_TOKENS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("vault.db");
    let mut vault = Vault::open(&tokens::vault::Location::File(path.clone()), Access::Write)
        .expect("a new vault");
    let tokens = tokens::seed::seed(&mut vault, count, SAMPLES, Utc::now()).expect("seeded");
    let texts: Vec<String> = tokens.iter().map(|t| t.expose().to_owned()).collect();
    let store = vault.store();
    let first = &tokens[0];
    let stored = first.secret_hash();

    c.bench_function("parse", |b| {
        b.iter(|| Credential::parse(Kind::Token, black_box(&texts[0])))
    });
    c.bench_function("hash and compare", |b| {
        b.iter(|| black_box(first).matches(black_box(&stored)))
    });
    let mut next = 0;
    c.bench_function(&format!("lookup in {count} tokens"), |b| {
        b.iter(|| {
            next = (next + 1) % tokens.len();
            store
                .find_for_verify(tokens[next].id())
                .expect("no vault error")
        })
    });
    c.bench_function(&format!("parse, lookup, compare in {count} tokens"), |b| {
        b.iter(|| {
            next = (next + 1) % texts.len();
            let token = Credential::parse(Kind::Token, &texts[next]).expect("well-formed");
            let record = store.find_for_verify(token.id()).expect("no vault error");
            record.is_some_and(|record| token.matches(&record.secret_hash))
        })
    });
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
