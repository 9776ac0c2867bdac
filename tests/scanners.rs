//! The secret-scanner rules in scanners/, run by the real scanners (installed, pinned, by
//! `.ci/scanners` into target/scanners, or $TOKENS_SCANNERS) over a tree of config files, shell
//! scripts, JSON and `.env` files holding real tokens and secret keys from a real vault, and
//! near-misses. Each scanner must report exactly the well-formed credentials, by our names; one
//! that cannot check the CRC-32 (a regex only) also reports the near-misses whose check digits
//! merely look right, and those false hits are counted. Then its report, piped as it is into
//! `tokens revoke --leaked --yes`, must revoke exactly the leaked tokens and secret keys'
//! lineages, and nothing else.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use tokens::token::{Credential, Kind, generate_id};

const API_TOKEN: &str = "tokens API token";
const SECRET_KEY: &str = "tokens secret key";

/// Where `.ci/scanners` put the scanners, or `None` (after [`skip`], which fails under CI).
fn scanners() -> Option<PathBuf> {
    let dir = std::env::var_os("TOKENS_SCANNERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/scanners"));
    let needed = [
        "venv/bin/detect-secrets",
        "venv/bin/trufflehog3",
        "venv/bin/python",
        "gitleaks/usr/bin/gitleaks",
        "npm/node_modules/.bin/secretlint",
        "stamp",
    ];
    match needed.iter().find(|tool| !dir.join(tool).exists()) {
        None => Some(dir),
        Some(missing) => {
            skip(&format!(
                "{} is missing: run .ci/scanners to install the secret scanners",
                dir.join(missing).display()
            ));
            None
        }
    }
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `credential` with its last check digit changed: the checksum is wrong, but the first check
/// digit (the only one a regex can judge) still looks right.
fn wrong_last_digit(credential: &str) -> String {
    let (body, last) = credential.split_at(credential.len() - 1);
    format!("{body}{}", if last == "0" { '1' } else { '0' })
}

/// A vault with tokens in every state, and a tree of files that leaks some of them.
struct Leak {
    sandbox: Sandbox,
    /// The scanned tree.
    tree: PathBuf,
    /// Leaked token of a live token: revoked.
    web: Issued,
    /// The lineage whose current secret key leaked: the token rotated away (still in its
    /// grace) and its successor are both revoked.
    ci_old: Issued,
    ci_new: Issued,
    /// Leaked token of a token revoked before: already revoked, left as it was.
    bot: Issued,
    /// Leaked secret key of a live token (its token not leaked): revoked.
    batch: Issued,
    /// Never leaked, only near-missed (mistyped, truncated) and forged: stays live.
    safe: Issued,
    /// Nowhere in the tree: stays live.
    quiet: Issued,
    /// Well-formed, checksum right, but no token of this vault's: reported, unknown.
    forged: String,
    foreign: String,
    /// Near-misses that only a regex takes for credentials (their first check digit is right).
    lookalike_token: String,
    lookalike_key: String,
}

impl Leak {
    fn new() -> Leak {
        let sandbox = Sandbox::new();
        let web = sandbox.create("web", &["--scope", "read"]);
        let ci_old = sandbox.create("ci", &["--app", "ci"]);
        let rotated = sandbox.run(&["rotate", "ci", "--grace", "1h", "--yes"], "");
        assert_eq!(code(&rotated), 0, "{}", stderr(&rotated));
        let ci_new = parse_issued(&rotated);
        let bot = sandbox.create("bot", &[]);
        let revoked = sandbox.run(&["revoke", "bot", "--yes"], "");
        assert_eq!(code(&revoked), 0, "{}", stderr(&revoked));
        let batch = sandbox.create("batch", &[]);
        let safe = sandbox.create("safe", &[]);
        let quiet = sandbox.create("quiet", &[]);
        let secret: String = generate_id().repeat(3)[..32].to_owned();
        let forged = Credential::from_parts(Kind::Token, &safe.id(), &secret)
            .unwrap()
            .expose()
            .to_owned();
        let foreign = Credential::generate(Kind::Token, &generate_id())
            .expose()
            .to_owned();
        let lookalike_token = wrong_last_digit(&safe.token);
        let lookalike_key = wrong_last_digit(safe.secret_key.as_deref().unwrap());

        let tree = sandbox.path("repo");
        let write = |path: &str, text: String| {
            let path = tree.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let ci_key = ci_new.secret_key.clone().unwrap();
        let batch_key = batch.secret_key.clone().unwrap();
        let safe_token = &safe.token;
        let out_of_range = {
            // The first check digit outside 0-4: no CRC-32 gives it, and no rule matches it.
            let at = safe_token.len() - 6;
            format!("{}Z{}", &safe_token[..at], &safe_token[at + 1..])
        };
        write(
            "config/app.yaml",
            format!(
                "server:\n  port: 8080\n  api_token: {}\n  timeout: 30s\n",
                web.token
            ),
        );
        write(
            "deploy.sh",
            format!(
                "#!/bin/sh\nset -eu\nexport TOKENS_TOKEN=\"{}\"\ncurl -fsS -H \"Authorization: Bearer $TOKENS_TOKEN\" https://deploy.example.invalid/\n",
                web.token
            ),
        );
        write(
            ".env",
            format!(
                "CI_SECRET_KEY={ci_key}\nBOT_TOKEN={}\nOLD_TOKEN={lookalike_token}\n",
                bot.token
            ),
        );
        write(
            "config/settings.json",
            format!(
                "{{\n  \"batch\": {{\"secret_key\": \"{batch_key}\"}},\n  \"partner\": \"{foreign}\",\n  \"upstream\": \"{forged}\"\n}}\n"
            ),
        );
        write(
            "docs/notes.md",
            format!(
                "# Notes\n\nOur tokens start with tk_ and their secret keys with tks_; tk_ci is only a name.\n\
                 A truncated one: {}\nA longer one: {safe_token}x\nA mistyped key: {lookalike_key}\n\
                 A check no CRC-32 gives: {out_of_range}\n",
                &safe_token[..safe_token.len() - 3]
            ),
        );
        Leak {
            sandbox,
            tree,
            web,
            ci_old,
            ci_new,
            bot,
            batch,
            safe,
            quiet,
            forged,
            foreign,
            lookalike_token,
            lookalike_key,
        }
    }

    /// What a scanner that checks the CRC-32 must report: each well-formed credential, by name.
    fn well_formed(&self) -> BTreeSet<(String, String)> {
        [
            (API_TOKEN, self.web.token.clone()),
            (SECRET_KEY, self.ci_new.secret_key.clone().unwrap()),
            (API_TOKEN, self.bot.token.clone()),
            (SECRET_KEY, self.batch.secret_key.clone().unwrap()),
            (API_TOKEN, self.forged.clone()),
            (API_TOKEN, self.foreign.clone()),
        ]
        .into_iter()
        .map(|(name, secret)| (name.to_owned(), secret))
        .collect()
    }

    /// What a regex-only scanner reports: the well-formed ones and its 2 false hits.
    fn regex_hits(&self) -> BTreeSet<(String, String)> {
        let mut hits = self.well_formed();
        hits.insert((API_TOKEN.to_owned(), self.lookalike_token.clone()));
        hits.insert((SECRET_KEY.to_owned(), self.lookalike_key.clone()));
        hits
    }

    /// The revocation reason of the token with `id` (`None`: live).
    fn reason(&self, id: &str) -> Option<String> {
        self.sandbox.query(&format!(
            "SELECT CASE WHEN revoked_at <= {} THEN revoke_reason END FROM tokens WHERE id = '{id}'",
            now_secs()
        ))
    }

    fn assert_before(&self) {
        for live in [
            &self.web,
            &self.ci_old,
            &self.ci_new,
            &self.batch,
            &self.safe,
            &self.quiet,
        ] {
            assert_eq!(self.sandbox.verify(&live.token, &[]).0, 0, "{}", live.id());
        }
        for id in [
            self.web.id(),
            self.ci_old.id(),
            self.ci_new.id(),
            self.batch.id(),
        ] {
            assert_eq!(self.reason(&id), None, "{id} is live before");
        }
        assert_eq!(self.reason(&self.bot.id()).as_deref(), Some("revoked"));
        assert_eq!(self.sandbox.verify(&self.bot.token, &[]).0, 5);
    }

    /// Pipes `report` into `revoke --leaked --yes --json` and checks what it did.
    fn revoke_from(&self, report: &[u8], near_misses: usize) {
        let output = self
            .sandbox
            .cmd(&["revoke", "--leaked", "--yes", "--json"])
            .write_stdin(report.to_vec())
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            !tokens::token::holds_credential(&all),
            "a secret was echoed: {all}"
        );
        let records = json(&output);
        let status = |secret: &str| -> (String, Vec<String>) {
            let credential = tokens::token::find_all(secret);
            let Some(tokens::token::Found::Credential(credential)) = credential.first() else {
                panic!("not a credential");
            };
            let masked = tokens::token::mask_credential(credential);
            let record = records
                .as_array()
                .unwrap()
                .iter()
                .find(|record| record["masked"] == masked.as_str())
                .unwrap_or_else(|| panic!("no record for {masked}: {records}"));
            let mut revoked: Vec<String> = record["revoked"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_owned())
                .collect();
            revoked.sort();
            (record["status"].as_str().unwrap().to_owned(), revoked)
        };
        assert_eq!(records.as_array().unwrap().len(), 6, "{records}");
        assert_eq!(
            status(&self.web.token),
            ("revoked".into(), vec![self.web.id()])
        );
        let mut lineage = vec![self.ci_old.id(), self.ci_new.id()];
        lineage.sort();
        assert_eq!(
            status(self.ci_new.secret_key.as_deref().unwrap()),
            ("revoked".into(), lineage)
        );
        assert_eq!(
            status(&self.bot.token),
            ("already_revoked".into(), Vec::new())
        );
        assert_eq!(
            status(self.batch.secret_key.as_deref().unwrap()),
            ("revoked".into(), vec![self.batch.id()])
        );
        assert_eq!(status(&self.forged), ("unknown".into(), Vec::new()));
        assert_eq!(status(&self.foreign), ("unknown".into(), Vec::new()));
        let skipped = match near_misses {
            0 => String::new(),
            n => format!(
                "; skipped {n} near-misses (shaped like a token but with a wrong length or checksum)"
            ),
        };
        assert!(
            stderr(&output).ends_with(&format!(
                "Found 6 credentials: 3 revoked, 1 already revoked, 2 unknown{skipped}.\n"
            )),
            "{}",
            stderr(&output)
        );

        // The vault after: exactly the leaked tokens and the leaked secret keys' lineages.
        for revoked in [&self.web, &self.ci_old, &self.ci_new, &self.batch] {
            assert_eq!(
                self.sandbox.verify(&revoked.token, &[]).0,
                5,
                "{}",
                revoked.id()
            );
        }
        for id in [
            self.web.id(),
            self.ci_old.id(),
            self.ci_new.id(),
            self.batch.id(),
        ] {
            assert_eq!(self.reason(&id).as_deref(), Some("leaked"), "{id}");
        }
        assert_eq!(self.reason(&self.bot.id()).as_deref(), Some("revoked"));
        for live in [&self.safe, &self.quiet] {
            assert_eq!(self.sandbox.verify(&live.token, &[]).0, 0, "{}", live.id());
            assert_eq!(self.reason(&live.id()), None);
        }
        let leaked_events: i64 = self
            .sandbox
            .query("SELECT count(*) FROM events WHERE kind = 'revoked' AND detail LIKE 'leaked%'");
        assert_eq!(leaked_events, 4);
        self.sandbox.assert_intact();
    }
}

/// Runs `program` in `cwd`, asserting it ran (exit 0, or `found_code`: how the scanner says it
/// found something).
fn run(program: &Path, args: &[&str], cwd: &Path, found_code: i32) -> Output {
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_remove("CI")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let code = code(&output);
    assert!(
        code == 0 || code == found_code,
        "{} exited {code}: {}",
        program.display(),
        stderr(&output)
    );
    output
}

fn only_ours(hits: impl IntoIterator<Item = (String, String)>) -> BTreeSet<(String, String)> {
    hits.into_iter()
        .filter(|(name, _)| name == API_TOKEN || name == SECRET_KEY)
        .collect()
}

/// Every rule file matches the format of src/token.rs: the id, secret and check lengths, and
/// the check's first digit (0 to 4: see `a_checks_first_digit_is_0_to_4` there).
#[test]
fn every_rule_matches_the_token_format() {
    use tokens::token::{CHECK_LEN, ID_LEN, SECRET_LEN};
    let body = format!(
        "_[A-Za-z0-9]{{{ID_LEN}}}_[A-Za-z0-9]{{{SECRET_LEN}}}[0-4][A-Za-z0-9]{{{}}}",
        CHECK_LEN - 1
    );
    for file in [
        "scanners/gitleaks.toml",
        "scanners/trufflehog3-rules.yml",
        "scanners/secretlintrc.json",
    ] {
        let text = std::fs::read_to_string(repo_file(file)).unwrap();
        for prefix in ["tk", "tks"] {
            assert!(
                text.contains(&format!("{prefix}{body}")),
                "{file}: {prefix}"
            );
        }
        for name in [API_TOKEN, SECRET_KEY] {
            assert!(text.contains(name), "{file}: {name}");
        }
    }
    let plugin = std::fs::read_to_string(repo_file("scanners/detect_secrets_tokens.py")).unwrap();
    for constant in [
        format!("_ID_LEN = {ID_LEN}\n"),
        format!("_SECRET_LEN = {SECRET_LEN}\n"),
        format!("_CHECK_LEN = {CHECK_LEN}\n"),
        format!("secret_type = \"{API_TOKEN}\""),
        format!("secret_type = \"{SECRET_KEY}\""),
    ] {
        assert!(plugin.contains(&constant), "{constant}");
    }
}

#[test]
fn detect_secrets_plugin_reports_exactly_the_real_credentials_and_its_report_revokes_them() {
    let Some(scanners) = scanners() else { return };
    let leak = Leak::new();
    leak.assert_before();
    let plugin = repo_file("scanners/detect_secrets_tokens.py");
    let plugin = plugin.to_str().unwrap();
    let scan = run(
        &scanners.join("venv/bin/detect-secrets"),
        &["scan", "--all-files", "--plugin", plugin],
        &leak.tree,
        0,
    );
    let baseline = leak.sandbox.path("secrets.baseline");
    std::fs::write(&baseline, &scan.stdout).unwrap();
    // The baseline keeps hashes only; the plugin file prints `audit --report` (detect-secrets
    // 1.5.0's own fails on a plugin of one's own: Yelp/detect-secrets#611).
    let report = run(
        &scanners.join("venv/bin/python"),
        &[plugin, baseline.to_str().unwrap()],
        &leak.tree,
        0,
    );
    let parsed: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let hits = parsed["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|result| {
            let secret = result["secrets"].as_str().unwrap().to_owned();
            result["types"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |name| (name.as_str().unwrap().to_owned(), secret.clone()))
        });
    // It checks the CRC-32: no false hit.
    assert_eq!(only_ours(hits), leak.well_formed());
    leak.revoke_from(&report.stdout, 0);
}

#[test]
fn trufflehog3_rules_report_the_real_credentials_and_two_false_hits_and_its_report_revokes_them() {
    let Some(scanners) = scanners() else { return };
    let leak = Leak::new();
    leak.assert_before();
    let rules = repo_file("scanners/trufflehog3-rules.yml");
    let report = run(
        &scanners.join("venv/bin/trufflehog3"),
        &[
            "--no-history",
            "--rules",
            rules.to_str().unwrap(),
            "--format",
            "json",
            ".",
        ],
        &leak.tree,
        2,
    );
    let parsed: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let hits = parsed.as_array().unwrap().iter().map(|issue| {
        (
            issue["rule"]["message"].as_str().unwrap().to_owned(),
            issue["secret"].as_str().unwrap().to_owned(),
        )
    });
    let hits: BTreeSet<_> = hits.collect();
    // A regex cannot check the CRC-32: the two lookalikes are its false hits.
    assert_eq!(hits, leak.regex_hits());
    leak.revoke_from(&report.stdout, 2);
}

#[test]
fn secretlint_pattern_rule_reports_the_real_credentials_and_two_false_hits_and_its_report_revokes_them()
 {
    let Some(scanners) = scanners() else { return };
    let leak = Leak::new();
    leak.assert_before();
    let config = repo_file("scanners/secretlintrc.json");
    // The unix format lists findings only (the JSON one carries every scanned file's text).
    let report = run(
        &scanners.join("npm/node_modules/.bin/secretlint"),
        &[
            "--secretlintrc",
            config.to_str().unwrap(),
            "--format",
            "unix",
            "--no-maskSecrets",
            "--no-color",
            "**/*",
        ],
        &leak.tree,
        1,
    );
    let hits: BTreeSet<(String, String)> = stdout(&report)
        .lines()
        .filter_map(|line| {
            let found = line.split_once("found matching ")?.1;
            let (name, rest) = found.split_once(": ")?;
            let secret = rest.split_whitespace().next()?;
            Some((name.to_owned(), secret.to_owned()))
        })
        .collect();
    assert_eq!(hits, leak.regex_hits(), "{}", stdout(&report));
    leak.revoke_from(&report.stdout, 2);
}

#[test]
fn gitleaks_rules_report_the_real_credentials_and_two_false_hits_and_its_report_revokes_them() {
    let Some(scanners) = scanners() else { return };
    let leak = Leak::new();
    leak.assert_before();
    let report_path = leak.sandbox.path("gitleaks.json");
    run(
        &scanners.join("gitleaks/usr/bin/gitleaks"),
        &[
            "detect",
            "--no-git",
            "--no-banner",
            "--source",
            ".",
            "--config",
            repo_file("scanners/gitleaks.toml").to_str().unwrap(),
            "--report-format",
            "json",
            "--report-path",
            report_path.to_str().unwrap(),
        ],
        &leak.tree,
        1,
    );
    let report = std::fs::read(&report_path).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&report).unwrap();
    let findings = parsed.as_array().unwrap();
    let hits = findings.iter().map(|finding| {
        (
            finding["Description"].as_str().unwrap().to_owned(),
            finding["Secret"].as_str().unwrap().to_owned(),
        )
    });
    // gitleaks' own rules ([extend] useDefault) may flag other things; ours are exact.
    assert_eq!(only_ours(hits), leak.regex_hits(), "{parsed}");
    // The web token is in two files: reported twice, revoked once.
    let web_findings = findings
        .iter()
        .filter(|finding| finding["Secret"] == leak.web.token.as_str())
        .count();
    assert_eq!(web_findings, 2);
    leak.revoke_from(&report, 2);
}
