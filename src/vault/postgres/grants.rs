//! `tokens grants`: the SQL that gives a PostgreSQL role exactly what one kind of user needs
//! (SPEC §10), generated from one table ([`GRANTS`]): a new table or column is one line here.
//!
//! PostgreSQL's privileges decide who can hold up whom: UPDATE on any one column of a table
//! lets a role lock every row of it (`SELECT … FOR UPDATE`), and table-level UPDATE, DELETE,
//! INSERT or TRUNCATE lets it `LOCK TABLE`. So only admins get table-level grants; a verifier
//! gets column grants on what it reads and on the bookkeeping tables alone (`token_usage`,
//! `verify_failures`: admin commands never lock or wait on them), plus INSERT of the columns
//! a `verify_failed` event needs; a reader gets SELECT on what `list`, `show` and `log` read,
//! no hashes. Neither can lock a row of `tokens` or `tokens_vault` (whose row is the write
//! lock), nor take a table lock that conflicts with an admin's change. Nobody but the owner
//! migrates: schema changes need ownership.

use std::fmt::Write as _;

/// The kinds of role `tokens grants --kind` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Changes tokens (create, edit, rotate, revoke, refresh, migrate into the vault), and all a
    /// verifier and a reader do
    Admin,
    /// Verifies tokens and records last use and failed verifications; cannot change tokens or
    /// read secret-key hashes
    Verifier,
    /// Reads tokens and the event log (list, show, log), no hashes; cannot verify or change
    Reader,
}

use Kind::{Admin, Reader, Verifier};

/// One grant: `privilege` on `table` (its `columns`, or the whole table when empty) for the
/// `kinds` listed.
struct Grant {
    kinds: &'static [Kind],
    privilege: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
}

const fn grant(
    kinds: &'static [Kind],
    privilege: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
) -> Grant {
    Grant {
        kinds,
        privilege,
        table,
        columns,
    }
}

/// The vault's tables, in the order the SQL names them.
const TABLES: &[&str] = &[
    "tokens_vault",
    "tokens",
    "events",
    "token_usage",
    "verify_failures",
    "policy",
];

/// What each kind gets. Columns a verifier reads in `tokens` are those `find_for_verify`
/// names (postgres/store.rs); a reader's are those of a whole record but the hashes.
#[rustfmt::skip]
const GRANTS: &[Grant] = &[
    // The version row: everyone reads it; its row lock is the write lock (admins only).
    grant(&[Admin, Verifier, Reader], "SELECT", "tokens_vault", &[]),
    grant(&[Admin], "UPDATE", "tokens_vault", &[]),
    grant(&[Admin], "SELECT, INSERT, UPDATE", "tokens", &[]),

    grant(&[Verifier], "SELECT", "tokens", &[
        "id", "name", "app", "scopes", "secret_hash", "expires_at", "revoked_at",
        "waits_for", "first_use_ends", "disabled_at", "disable_reason", "uses_limit",
        "uses_epoch", "allow_from", "meta",
    ]),

    grant(&[Reader], "SELECT", "tokens", &[
        "seq", "id", "name", "app", "scopes", "note", "secret_tail", "has_secret_key",
        "created_at", "expires_at", "revoked_at", "revoke_reason", "secret_key_used_at",
        "rotated_from", "replaced_by", "lineage", "waits_for", "first_use_ends",
        "disabled_at", "disable_reason", "uses_limit", "uses_epoch", "allow_from", "meta",
        "refresh_window", "disabled_batch",
    ]),
    grant(&[Admin], "SELECT, INSERT", "events", &[]),
    grant(&[Verifier], "INSERT", "events", &["at", "token_id", "kind", "detail"]),
    grant(&[Reader], "SELECT", "events", &[]),
    // Bookkeeping: verifiers' tables.
    grant(&[Admin], "SELECT, INSERT, UPDATE", "token_usage", &[]),
    grant(&[Verifier], "SELECT", "token_usage", &[
        "token_id", "last_used_at", "first_used_at", "uses_spent", "uses_epoch",
    ]),
    grant(&[Verifier], "INSERT", "token_usage", &[
        "token_id", "last_used_at", "first_used_at", "uses_spent", "uses_epoch",
    ]),
    grant(&[Verifier], "UPDATE", "token_usage", &[
        "last_used_at", "first_used_at", "uses_spent", "uses_epoch",
    ]),
    grant(&[Reader], "SELECT", "token_usage", &[]),
    grant(&[Admin], "SELECT, INSERT, UPDATE", "verify_failures", &[]),

    grant(&[Verifier], "SELECT, INSERT", "verify_failures", &[
        "token_id", "reason", "failures", "first_at", "last_at", "unlogged", "logged_at",
    ]),

    grant(&[Verifier], "UPDATE", "verify_failures", &[
        "failures", "last_at", "unlogged", "logged_at",
    ]),
    grant(&[Reader], "SELECT", "verify_failures", &[]),
    // The vault's policy: admins set it and create under it; readers may show it.
    grant(&[Admin], "SELECT, INSERT, UPDATE", "policy", &[]),
    grant(&[Reader], "SELECT", "policy", &[]),
];

/// The identity sequences `tokens migrate` sets after copying numbered events (admins).
const SEQUENCES: &[&str] = &["tokens_seq_seq", "events_seq_seq"];

/// The SQL that gives `role` what `kind` needs and nothing more, in one transaction: first
/// every privilege it had on the vault's tables is revoked, so a role granted another kind
/// before keeps nothing of it.
pub fn sql(role: &str, kind: Kind) -> String {
    let role = identifier(role);
    let mut sql = format!(
        "-- tokens grants {role} --kind {} (vault schema {})\nBEGIN;\nREVOKE ALL ON {} FROM {role};\n",
        kind_name(kind),
        super::CURRENT_VERSION,
        TABLES.join(", ")
    );
    let _ = writeln!(
        sql,
        "REVOKE ALL ON SEQUENCE {} FROM {role};",
        SEQUENCES.join(", ")
    );
    for grant in GRANTS.iter().filter(|grant| grant.kinds.contains(&kind)) {
        let columns = if grant.columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", grant.columns.join(", "))
        };
        let privileges = grant
            .privilege
            .split(", ")
            .map(|privilege| format!("{privilege}{columns}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(sql, "GRANT {privileges} ON {} TO {role};", grant.table);
    }
    if kind == Admin {
        let _ = writeln!(
            sql,
            "GRANT USAGE, UPDATE ON SEQUENCE {} TO {role};",
            SEQUENCES.join(", ")
        );
    }
    sql.push_str("COMMIT;\n");
    sql
}

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Admin => "admin",
        Verifier => "verifier",
        Reader => "reader",
    }
}

/// `name` as a SQL identifier: as it is when PostgreSQL would take it so unquoted, else
/// double-quoted (its own double quotes doubled).
fn identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain && !is_reserved(name) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Words a role cannot be named unquoted (the ones a role name may plausibly be).
fn is_reserved(name: &str) -> bool {
    matches!(
        name,
        "user"
            | "all"
            | "public"
            | "select"
            | "table"
            | "grant"
            | "to"
            | "from"
            | "current_user"
            | "session_user"
            | "role"
            | "order"
            | "group"
            | "default"
            | "none"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_gets_column_grants_only_and_no_secret_key_hash() {
        let sql = sql("ci_verifier", Verifier);
        for line in sql.lines().filter(|line| line.starts_with("GRANT")) {
            let on = line.split(" ON ").nth(1).unwrap();
            assert!(
                line.contains('(') || on.starts_with("tokens_vault"),
                "a table-level grant: {line}"
            );
            assert!(
                !line.contains("UPDATE")
                    || on.starts_with("token_usage")
                    || on.starts_with("verify_failures"),
                "{line}"
            );
        }
        assert!(!sql.contains("secret_key_hash"));
        assert!(
            sql.contains("GRANT INSERT (at, token_id, kind, detail) ON events TO ci_verifier;")
        );
    }

    #[test]
    fn a_reader_reads_no_hash_and_changes_nothing() {
        let sql = sql("dash", Reader);
        assert!(!sql.contains("_hash"));
        for word in ["INSERT", "UPDATE", "DELETE"] {
            assert!(
                !sql.lines()
                    .any(|l| l.starts_with("GRANT") && l.contains(word)),
                "{sql}"
            );
        }
    }

    #[test]
    fn role_names_are_quoted_when_they_must_be() {
        assert_eq!(identifier("ci_verifier"), "ci_verifier");
        assert_eq!(identifier("CI"), "\"CI\"");
        assert_eq!(identifier("a\"b; DROP"), "\"a\"\"b; DROP\"");
        assert_eq!(identifier("user"), "\"user\"");
    }
}
