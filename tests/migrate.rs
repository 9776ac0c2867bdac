//! `tokens migrate`: a vault copied whole into another, typically a file into the shared
//! PostgreSQL vault. The destination is `Sandbox::new()`, so these run file-to-file on SQLite and
//! file-to-PostgreSQL when the suite runs against a server (`TOKENS_TEST_POSTGRES`).

mod common;

use common::*;

/// `tokens migrate --from FROM --to TO` (with `--json` when asked), run from `sandbox`'s home.
fn migrate(sandbox: &Sandbox, from: &str, to: &str, json: bool) -> std::process::Output {
    let mut args = vec!["migrate", "--from", from, "--to", to];
    if json {
        args.insert(0, "--json");
    }
    sandbox.cmd(&args).output().unwrap()
}

#[test]
fn migrate_copies_a_file_vault_and_tokens_keep_working() {
    // Into PostgreSQL when the suite runs against it, else into another file.
    let target = Sandbox::new();
    let source = Sandbox::sqlite();
    let ci = source.create(
        "ci",
        &["--app", "ci", "--scope", "read", "--note", "deploys"],
    );
    let bot = source.create("bot", &[]);
    let bot2 = parse_issued(&source.run(
        &["refresh"],
        &format!("{}\n{}\n", bot.token, bot.secret_key.clone().unwrap()),
    ));
    let gone = source.create("gone", &["--no-secret-key"]);
    source.run(&["revoke", "gone", "--yes"], "");
    let graced = parse_issued(&source.run(&["rotate", "ci", "--grace", "1h"], ""));
    source.verify(&bot2.token, &[]);
    // A well-formed token no vault ever issued: its failed check is logged under an unknown id.
    let stranger = tokens::token::Credential::generate(tokens::token::Kind::Token, "AAAAAAAAAAAA");
    assert_eq!(source.verify(stranger.expose(), &[]).0, 3);

    let output = migrate(&source, &source.location, &target.location, true);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["tokens"], 5);
    assert_eq!(report["verified"], true);
    assert_eq!(report["to"], target.shown(), "the password is masked");
    assert_eq!(report["from"], source.shown());
    assert_eq!(
        report["events"],
        source.query::<i64>("SELECT count(*) FROM events")
    );

    // The same listing and the same log, field for field, from either vault.
    for args in [vec!["list", "--all", "--json"], vec!["log", "--json"]] {
        assert_eq!(
            json(&source.run(&args, "")),
            json(&target.run(&args, "")),
            "{args:?} differs"
        );
    }
    // The tokens people hold keep working against the copy; dead ones stay dead.
    assert_eq!(target.verify(&ci.token, &[]).0, 0, "in its rotation grace");
    assert_eq!(target.verify(&graced.token, &["--scope", "read"]).0, 0);
    assert_eq!(target.verify(&bot2.token, &[]).0, 0);
    assert_eq!(target.verify(&bot.token, &[]).0, 5);
    assert_eq!(target.verify(&gone.token, &[]).0, 5);
    // The spent secret key is still spent: presenting it again is caught.
    let reuse = target.run(
        &["refresh"],
        &format!("{}\n{}\n", bot.token, bot.secret_key.clone().unwrap()),
    );
    assert_eq!(code(&reuse), 5, "{}", stderr(&reuse));
    // New events are numbered after the copied ones, which keep their numbers.
    let copied_last: i64 = source.query("SELECT max(seq) FROM events");
    let newest: i64 = target.query("SELECT max(seq) FROM events");
    assert!(newest > copied_last, "{newest} after {copied_last}");
    let kinds: i64 = target.query(&format!(
        "SELECT count(*) FROM events WHERE seq <= {copied_last}"
    ));
    assert_eq!(kinds, source.query::<i64>("SELECT count(*) FROM events"));
}

#[test]
fn migrate_refuses_a_vault_that_is_not_empty_and_changes_nothing() {
    let target = Sandbox::new();
    let source = Sandbox::sqlite();
    source.create("a", &[]);
    target.create("already-here", &[]);
    let output = migrate(&source, &source.location, &target.location, false);
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "tokens: {} already holds tokens or events; migrate copies into an empty vault only\n",
            target.shown()
        )
    );
    assert_eq!(target.query::<i64>("SELECT count(*) FROM tokens"), 1);

    // A missing source: nothing is made at the destination.
    let empty = Sandbox::new();
    let output = migrate(
        &source,
        &source.path("nope.db").display().to_string(),
        &empty.location,
        false,
    );
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).starts_with("tokens: no vault at "),
        "{}",
        stderr(&output)
    );
    assert!(!empty.vault_exists());
}

#[test]
fn migrate_back_into_a_file_and_refuse_copying_a_vault_onto_itself() {
    let source = Sandbox::new();
    let kept = source.create("kept", &["--scope", "read"]);
    let target = Sandbox::sqlite();
    let output = migrate(&source, &source.location, &target.location, false);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "Copied 1 token and 1 event from {} to {}; the copy reads back identical.\n",
            source.shown(),
            target.shown()
        )
    );
    assert_eq!(target.verify(&kept.token, &["--scope", "read"]).0, 0);
    assert_eq!(mode(&target.vault), 0o600, "a new file vault is private");

    let output = migrate(&source, &source.location, &source.location, false);
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokens: --from and --to name the same vault; migrate copies one vault into another\n"
    );
}

/// Every table and column of `sandbox`'s vault (made by a command before): from
/// `sqlite_master` on a file, from `information_schema` (the vault's schema) on PostgreSQL.
fn tables_and_columns(sandbox: &Sandbox) -> Vec<(String, String)> {
    if sandbox.is_postgres() {
        let rows = sandbox
            .pg()
            .query(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = (SELECT n.nspname FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.oid = 'tokens_vault'::regclass) ORDER BY 1, 2",
                &[],
            )
            .unwrap();
        return rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    }
    let db = sandbox.db();
    let mut statement = db
        .prepare(
            "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2",
        )
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Issue 22: `migrate` copies everything a vault holds. A table or column a schema migration
/// adds, on either backend, fails here until `COPIED_TABLES` (src/commands/migrate.rs) lists
/// it, which says that `migrate` copies and compares it.
#[test]
fn every_table_and_column_of_a_vault_is_one_migrate_knows() {
    let mut sandboxes = vec![Sandbox::sqlite()];
    let shared = Sandbox::new();
    if shared.is_postgres() {
        sandboxes.push(shared);
    }
    for sandbox in &sandboxes {
        sandbox.create("first", &[]);
        let found = tables_and_columns(sandbox);
        let tables: std::collections::BTreeSet<&str> =
            found.iter().map(|(table, _)| table.as_str()).collect();
        assert!(
            tables.len() >= 6 && tables.contains("tokens") && tables.contains("policy"),
            "{tables:?}"
        );
        let missed: Vec<String> = found
            .iter()
            .filter(|(table, column)| {
                !tokens::commands::COPIED_TABLES
                    .iter()
                    .any(|(known, columns)| known == table && columns.contains(&column.as_str()))
            })
            .map(|(table, column)| format!("{table}.{column}"))
            .collect();
        assert!(
            missed.is_empty(),
            "{}: migrate does not copy {missed:?}: copy and compare them in \
             src/commands/migrate.rs, then list them in COPIED_TABLES",
            sandbox.location
        );
    }
}

/// Every row of every table of a file vault, each value as text, rows sorted. A token's
/// `revoked_at` is read as when it stops: an `--until-used` predecessor's is its successor's
/// first use once that came (the copy stores that, not the grace end it cut short).
fn dump(sandbox: &Sandbox) -> std::collections::BTreeMap<String, Vec<String>> {
    let db = sandbox.db();
    let mut dump = std::collections::BTreeMap::new();
    for (table, columns) in group(tables_and_columns(sandbox)) {
        let select: Vec<String> = columns
            .iter()
            .map(|column| match (table.as_str(), column.as_str()) {
                ("tokens", "revoked_at") => "(CASE WHEN tokens.waits_for IS NULL THEN \
                    tokens.revoked_at ELSE coalesce((SELECT min(u.first_used_at, \
                    tokens.revoked_at) FROM token_usage u WHERE u.token_id = tokens.waits_for \
                    AND u.first_used_at IS NOT NULL), tokens.revoked_at) END)"
                    .to_owned(),
                _ => format!("\"{column}\""),
            })
            .collect();
        let mut statement = db
            .prepare(&format!("SELECT {} FROM \"{table}\"", select.join(", ")))
            .unwrap();
        let mut rows: Vec<String> = statement
            .query_map([], |row| {
                Ok((0..columns.len())
                    .map(|at| {
                        format!(
                            "{}={:?}",
                            columns[at],
                            row.get::<_, rusqlite::types::Value>(at).unwrap()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" "))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        dump.insert(table, rows);
    }
    dump
}

fn group(pairs: Vec<(String, String)>) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut tables = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (table, column) in pairs {
        tables.entry(table).or_default().push(column);
    }
    tables
}

fn ok(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let output = sandbox.run(args, "");
    assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    output
}

/// Issue 22: `migrate` copies the policy and everything else a vault holds (bookkeeping with
/// an `--until-used` successor's first use, uses spent under an old epoch, failure counters,
/// marks), in its one transaction, and its comparison covers them. A file vault copied into
/// the vault under test and from there into a new file holds, row for row and column for
/// column, what the original held; the copy's log claims no rule the copy does not keep.
#[test]
fn migrate_copies_every_table_and_back_row_for_row() {
    let source = Sandbox::sqlite();
    ok(
        &source,
        &[
            "policy",
            "set",
            "--max-lifetime",
            "90d",
            "--scopes",
            "read,write",
            "--require-app",
            "--max-refresh-window",
            "14d",
            "--default-refresh-window",
            "2d",
        ],
    );
    source.create("windowed", &["--app", "a", "--refresh-window", "3d"]);
    let limited = source.create("limited", &["--app", "a", "--scope", "read", "--uses", "5"]);
    assert_eq!(source.verify(&limited.token, &[]).0, 0);
    ok(&source, &["edit", "limited", "--uses", "4"]);
    assert_eq!(source.verify(&limited.token, &[]).0, 0);
    let bound = source.create(
        "bound",
        &[
            "--app",
            "a",
            "--allow-from",
            "10.0.0.0/8",
            "--meta",
            "team=x",
        ],
    );
    assert_eq!(
        source.verify(&bound.token, &["--client-ip", "10.1.1.1"]).0,
        0
    );
    source.create("held", &["--app", "a"]);
    ok(&source, &["disable", "held", "--reason", "leaked"]);
    let windows: String = source.query(
        "SELECT group_concat(coalesce(refresh_window, '-') || ' ' || \
         coalesce(disabled_batch IS NOT NULL, 0), ',') FROM tokens",
    );
    assert!(
        windows.contains("259200 0") && windows.contains("172800 1"),
        "{windows}"
    );
    source.create("old", &["--app", "a"]);
    let new = parse_issued(&ok(&source, &["rotate", "old", "--until-used", "--yes"]));
    assert_eq!(source.verify(&new.token, &[]).0, 0);
    let mistyped = source.create("mistyped", &["--app", "a"]);
    // Its id with another secret: a wrong secret, counted.
    let wrong = tokens::token::Credential::generate(tokens::token::Kind::Token, &mistyped.id());
    assert_eq!(source.verify(wrong.expose(), &[]).0, 3);
    let refreshed = source.create("refreshed", &["--app", "a"]);
    ok(&source, &["revoke", "limited", "--yes"]);
    let output = source.run(
        &["refresh"],
        &format!("{}\n{}\n", refreshed.token, refreshed.secret_key.unwrap()),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let counters: i64 = source.query("SELECT count(*) FROM verify_failures");
    let first_uses: i64 =
        source.query("SELECT count(*) FROM token_usage WHERE first_used_at IS NOT NULL");
    assert!(counters >= 1 && first_uses >= 1, "{counters} {first_uses}");

    // Into the vault under test (PostgreSQL on that pass), and from there into a new file.
    let shared = Sandbox::new();
    let output = migrate(&source, &source.location, &shared.location, false);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(" and the policy from "),
        "{}",
        stderr(&output)
    );
    let back = Sandbox::sqlite();
    let output = migrate(&source, &shared.location, &back.location, false);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(dump(&back), dump(&source), "the copy of the copy differs");

    // The copy keeps the rules its log says were set, and enforces them.
    for copy in [&shared, &back] {
        assert_eq!(
            json(&copy.run(&["policy", "--json"], "")),
            json(&source.run(&["policy", "--json"], ""))
        );
        let output = copy.run(&["create", "no-app"], "");
        assert_eq!(code(&output), 2, "{}", stderr(&output));
        // The until-used rotation ended with the successor's first use, and stays ended.
        assert_eq!(copy.verify(&new.token, &[]).0, 0);
    }
    // No more `revoked` events in the copy than in the original: the predecessor's end was
    // not logged again by the successor's next use.
    assert_eq!(
        back.query::<i64>("SELECT count(*) FROM events WHERE kind = 'revoked'"),
        source.query::<i64>("SELECT count(*) FROM events WHERE kind = 'revoked'")
    );
}

/// Issue 21: `migrate` keeps events' original times, file to the vault under test and back.
#[test]
fn migrate_keeps_the_events_original_times_both_ways() {
    let source = Sandbox::sqlite();
    source.create("a", &[]);
    ok(&source, &["edit", "a", "--note", "x"]);
    ok(&source, &["revoke", "a", "--yes"]);
    // Times long past, each its own: 2017-06-01 plus a day per event.
    source
        .db()
        .execute("UPDATE events SET at = 1496275200 + seq * 86400", [])
        .unwrap();
    let times = |sandbox: &Sandbox| -> Vec<serde_json::Value> {
        json(&sandbox.run(&["log", "--json"], ""))
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event["at"].clone())
            .collect()
    };
    let original = times(&source);
    assert_eq!(original.len(), 3);
    assert_eq!(original[0], "2017-06-02T00:00:00Z");
    let shared = Sandbox::new();
    let output = migrate(&source, &source.location, &shared.location, false);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let in_shared = times(&shared);
    let back = Sandbox::sqlite();
    let output = migrate(&source, &shared.location, &back.location, false);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // The copy's own log gains nothing: not even a note of the migration, dated today.
    assert_eq!(in_shared, original);
    assert_eq!(times(&back), original);
    let raw = "SELECT group_concat(at, ',') FROM (SELECT at FROM events ORDER BY seq) e";
    assert_eq!(back.query::<String>(raw), source.query::<String>(raw));
}

/// The copy is never readable by an older `tokens` than the original: its marks (SPEC §10) are
/// raised to the source's. And a source from a newer `tokens`, which may hold what this one
/// does not know of, is refused (exit 1, "upgrade tokens"), the destination left empty.
#[test]
fn migrate_keeps_the_marks_and_refuses_a_newer_source() {
    let current = tokens::vault::CURRENT_VERSION;
    let source = Sandbox::sqlite();
    source.create("a", &[]);
    // A fresh vault's own marks: a schema change that older readers lose nothing by (the
    // refresh windows) raises only the write mark, so the read mark may lag the version.
    let (read, write): (i64, i64) = source
        .db()
        .query_row("SELECT read_mark, write_mark FROM vault_marks", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    source.execute(&format!(
        "UPDATE vault_marks SET verify_mark = {}; PRAGMA wal_checkpoint(TRUNCATE);",
        current + 1
    ));
    let target = Sandbox::new();
    let output = migrate(&source, &source.location, &target.location, false);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let marks = "SELECT read_mark || ' ' || verify_mark || ' ' || write_mark FROM ";
    let table = if target.is_postgres() {
        "tokens_vault"
    } else {
        "vault_marks"
    };
    assert_eq!(
        target.query::<String>(&format!("{marks}{table}")),
        format!("{read} {} {write}", current + 1)
    );

    let newer = Sandbox::sqlite();
    newer.create("a", &[]);
    newer.execute(&format!(
        "UPDATE vault_marks SET verify_mark = {current}; PRAGMA user_version = {}; \
         PRAGMA wal_checkpoint(TRUNCATE);",
        current + 1
    ));
    let empty = Sandbox::new();
    let output = migrate(&newer, &newer.location, &empty.location, false);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).ends_with("; upgrade tokens\n"),
        "{}",
        stderr(&output)
    );
    assert!(!empty.vault_exists(), "nothing made at the destination");
}
