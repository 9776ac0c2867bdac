//! Test data: a vault of many tokens, made in one transaction, for benchmarks and scale tests.
//!
//! Each token is a real one (CSPRNG secret, SHA-256 hash, a secret key), as `create` would make
//! it, so lookups and verdicts cost what they cost in production. The few tokens asked for are
//! handed back, so a benchmark can present them; the others' secrets are gone when this returns.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::token::{Credential, Kind, generate_id};
use crate::vault::{NewToken, Vault};

/// How many apps the seeded tokens are spread over (`app-0` … `app-99`).
const APPS: usize = 100;

/// Adds `count` active tokens named `seed-0000000`, `seed-0000001`, … to `vault` in one
/// transaction, and returns `sample` of them (spread at random over the vault, in random order).
/// Every token has the scope `read`, every third also `deploy:prod`; each lives 30 days from `now`.
pub fn seed(
    vault: &mut Vault,
    count: usize,
    sample: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Credential>> {
    let sample = sample.min(count);
    // Position in the returned list of each sampled token, by its place in the vault.
    let picked: HashMap<usize, usize> = rand::seq::index::sample(&mut rand::rng(), count, sample)
        .into_iter()
        .enumerate()
        .map(|(position, index)| (index, position))
        .collect();
    let mut samples: Vec<Option<Credential>> = vec![None; sample];
    vault.write(|store| {
        for index in 0..count {
            let (row, token) = new_token(index, now);
            store.insert(&row)?;
            if let Some(&position) = picked.get(&index) {
                samples[position] = Some(token);
            }
        }
        Ok(())
    })?;
    // Every position was filled: `picked` maps `sample` distinct indices below `count` onto 0..sample.
    Ok(samples.into_iter().flatten().collect())
}

/// The row of seeded token number `index`, and its token.
fn new_token(index: usize, now: DateTime<Utc>) -> (NewToken, Credential) {
    let id = generate_id();
    let token = Credential::generate(Kind::Token, &id);
    let secret_key = Credential::generate(Kind::SecretKey, &id);
    let mut scopes = vec!["read".to_owned()];
    if index.is_multiple_of(3) {
        scopes.push("deploy:prod".to_owned());
    }
    let row = NewToken {
        name: format!("seed-{index:07}"),
        app: Some(format!("app-{}", index % APPS)),
        scopes,
        note: None,
        secret_hash: token.secret_hash(),
        secret_tail: token.secret_tail(),
        secret_key_hash: Some(secret_key.secret_hash()),
        created_at: now,
        expires_at: Some(now + chrono::Duration::days(30)),
        rotated_from: None,
        lineage: id.clone(),
        first_use_ends: None,
        id,
        controls: Default::default(),
    };
    (row, token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Access;

    #[test]
    fn seeds_count_tokens_and_returns_distinct_samples_that_are_in_the_vault() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.db");
        let mut vault =
            Vault::open(&crate::vault::Location::File(path.clone()), Access::Write).unwrap();
        let now = Utc::now();
        let samples = seed(&mut vault, 50, 10, now).unwrap();
        assert_eq!(samples.len(), 10);
        let mut ids: Vec<&str> = samples.iter().map(Credential::id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 10);
        let store = vault.store();
        for token in &samples {
            let record = store.find_by_id(token.id()).unwrap().unwrap();
            assert!(token.matches(&record.secret_hash));
        }
        let mut count = 0;
        store
            .list(&Default::default(), now, &mut |_| {
                count += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(count, 50);
    }
}
