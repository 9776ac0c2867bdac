//! A vault of 20,000 tokens (seeded through the library, as the benchmarks' is): verify,
//! `verify --batch` and `list --json --all` still give the right answers, in order, for every row.
//! Timings live in benches/ and docs/PERFORMANCE.md, not here.

mod common;

use std::collections::HashSet;

use chrono::{Duration, Utc};
use common::*;
use serde_json::Value;
use tokens::token::{Credential, Kind};
use tokens::vault::{Access, Edit, Vault};

const COUNT: usize = 20_000;
const SAMPLE: usize = 300;

/// A seeded vault; of the sampled tokens, the first is revoked and the second has expired.
fn seeded() -> (Sandbox, Vec<String>) {
    let sandbox = Sandbox::new();
    let now = Utc::now();
    let mut vault = Vault::open(&sandbox.vault_location(), Access::Write).unwrap();
    let sample = tokens::seed::seed(&mut vault, COUNT, SAMPLE, now).unwrap();
    vault
        .write(|store| {
            store.set_revoked(sample[0].id(), now - Duration::minutes(1), "test", None)?;
            let expired = Edit {
                expires_at: Some(Some(now - Duration::hours(1))),
                ..Edit::default()
            };
            store.apply_edit(sample[1].id(), &expired)
        })
        .unwrap();
    let texts = sample.iter().map(|t| t.expose().to_owned()).collect();
    (sandbox, texts)
}

fn id_of(token: &str) -> &str {
    &token["tk_".len().."tk_".len() + 12]
}

#[test]
fn verify_batch_and_list_are_right_over_20000_tokens() {
    let (sandbox, sample) = seeded();
    let forged = Credential::generate(Kind::Token, id_of(&sample[2]))
        .expose()
        .to_owned();

    // One at a time, as CI calls it.
    assert_eq!(sandbox.verify(&sample[2], &[]).0, 0);
    assert_eq!(sandbox.verify(&sample[2], &["--scope", "read"]).0, 0);
    assert_eq!(sandbox.verify(&sample[0], &[]).0, 5);
    assert_eq!(sandbox.verify(&sample[1], &[]).0, 4);
    assert_eq!(sandbox.verify(&forged, &[]).0, 3);

    // Every sampled token, with a forged and a malformed line in between, in one batch.
    let mut lines: Vec<(&str, &str)> = Vec::new(); // (line, expected reason)
    for (index, token) in sample.iter().enumerate() {
        let reason = match index {
            0 => "revoked",
            1 => "expired",
            _ => "ok",
        };
        lines.push((token, reason));
        if index == SAMPLE / 2 {
            lines.push((&forged, "invalid"));
            lines.push(("tk_not_a_token", "malformed"));
        }
    }
    let input: String = lines.iter().map(|(line, _)| format!("{line}\n")).collect();
    let output = sandbox.run(&["verify", "--batch"], &input);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let answers: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers.len(), lines.len());
    for ((line, reason), answer) in lines.iter().zip(&answers) {
        assert_eq!(answer["reason"], *reason, "{answer}");
        assert_eq!(answer["valid"], *reason == "ok");
        if *reason != "malformed" {
            assert_eq!(answer["id"], id_of(line));
        }
    }
    // The batch recorded the last use of the good ones.
    let used: i64 = sandbox.query("SELECT count(*) FROM token_usage");
    assert_eq!(used, SAMPLE as i64 - 2);

    // Every row, once, in creation order; without --all the revoked one is left out.
    let output = sandbox.run(&["--json", "list", "--all"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rows = json(&output);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), COUNT);
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..COUNT).map(|i| format!("seed-{i:07}")).collect();
    assert_eq!(names, expected);
    let ids: HashSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), COUNT);
    assert!(sample.iter().all(|token| ids.contains(id_of(token))));
    let output = sandbox.run(&["--json", "list"], "");
    assert_eq!(json(&output).as_array().unwrap().len(), COUNT - 1);
}
