//! `tokens grants`: the SQL that gives a PostgreSQL role exactly what one kind of user needs
//! (SPEC §10), generated from one table ([`GRANTS`]): a new table or column is one line here.
//!
//! PostgreSQL's privileges decide who can hold up whom: UPDATE on any one column of a table
//! lets a role lock every row of it (`SELECT … FOR UPDATE`), and table-level UPDATE, DELETE,
//! INSERT or TRUNCATE lets it `LOCK TABLE`. So only admins get table-level grants and write
//! any table; a verifier reads the version row and runs the vault's functions (schema.rs:
//! `lookup` and the bookkeeping, which act only for the holder of a presented secret and only
//! forward), and reads no table else, no hash; a reader gets SELECT on what `list`, `show` and
//! `log` read, no hashes. Neither can lock a row, nor take a table lock that conflicts with an
//! admin's change, nor write an event. Nobody but the owner migrates: schema changes need
//! ownership.
//!
//! The output is three blocks (SPEC §10): one transaction the vault's owner runs; then what
//! only the database owner or a superuser can do (PUBLIC's TEMP on the database: a TEMP table
//! cannot fool the vault's statements, which pin their search path, but it is a right nobody
//! needs); then a check that fails while PUBLIC still has TEMP.

use std::fmt::Write as _;

/// The kinds of role `tokens grants --kind` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Changes tokens (create, edit, rotate, revoke, refresh, migrate into the vault), and all a
    /// verifier and a reader do
    Admin,
    /// Verifies tokens through the vault's functions, which record last use and failed
    /// verifications; reads no hash, writes no table, cannot change tokens
    Verifier,
    /// Reads tokens and the event log (list, show, log), no hashes; cannot verify or change
    Reader,
    /// Refreshes tokens (a holder's token and secret key for a new pair) through the vault's
    /// refresh function, which applies every refresh rule; nothing else
    Refresher,
}

use Kind::{Admin, Reader, Refresher, Verifier};

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
    grant(&[Admin, Verifier, Reader, Refresher], "SELECT", "tokens_vault", &[]),
    grant(&[Admin], "UPDATE", "tokens_vault", &[]),
    grant(&[Admin], "SELECT, INSERT, UPDATE", "tokens", &[]),

    grant(&[Reader], "SELECT", "tokens", &[
        "seq", "id", "name", "app", "scopes", "note", "secret_tail", "has_secret_key",
        "created_at", "expires_at", "revoked_at", "revoke_reason", "secret_key_used_at",
        "rotated_from", "replaced_by", "lineage", "waits_for", "first_use_ends",
        "disabled_at", "disable_reason", "uses_limit", "uses_epoch", "allow_from", "meta",
        "refresh_window", "disabled_batch",
    ]),
    grant(&[Admin], "SELECT, INSERT", "events", &[]),
    grant(&[Reader], "SELECT", "events", &[]),
    // Bookkeeping: written by the vault's functions (and admins' imports).
    grant(&[Admin], "SELECT, INSERT, UPDATE", "token_usage", &[]),
    grant(&[Reader], "SELECT", "token_usage", &[]),
    grant(&[Admin], "SELECT, INSERT, UPDATE", "verify_failures", &[]),
    grant(&[Reader], "SELECT", "verify_failures", &[]),
    // The vault's policy: admins set it and create under it; readers may show it.
    grant(&[Admin], "SELECT, INSERT, UPDATE", "policy", &[]),
    grant(&[Reader], "SELECT", "policy", &[]),
];

/// The identity sequences `tokens migrate` sets after copying numbered events (admins).
const SEQUENCES: &[&str] = &["tokens_seq_seq", "events_seq_seq"];

/// The vault's functions (schema.rs) and the kinds that may run them. (`note_failures` is
/// internal: nobody runs it directly.)
const FUNCTIONS: &[(&str, &[Kind])] = &[
    ("lookup(text, bytea)", &[Admin, Verifier]),
    ("spend_use(text, bytea, bigint)", &[Admin, Verifier]),
    ("touch_last_use(text, bytea)", &[Admin, Verifier]),
    ("record_first_use(text, bytea)", &[Admin, Verifier]),
    (
        "count_failures(text, bytea, text, bigint)",
        &[Admin, Verifier],
    ),
    (
        "refresh(text, bytea, bytea, text, bytea, text, bytea)",
        &[Refresher],
    ),
];

/// `names` each qualified with `schema`, comma separated.
fn qualified(schema: &str, names: impl IntoIterator<Item = &'static str>) -> String {
    names
        .into_iter()
        .map(|name| format!("{schema}.{name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SQL that gives `role` what `kind` needs and nothing more on the vault in `schema`:
/// one transaction for the vault's owner (first every privilege the role had on the vault's
/// tables and functions is revoked, so a role granted another kind before keeps nothing of
/// it), then the database owner's block and the check (see the module's comment).
pub fn sql(role: &str, kind: Kind, schema: &str) -> String {
    let role = identifier(role);
    let schema = super::schema::quoted(schema);
    let mut sql = format!(
        "-- tokens grants {role} --kind {} (vault schema {}, in schema {schema})\n\
         -- as the vault's owner:\nBEGIN;\nREVOKE ALL ON {} FROM {role};\n",
        kind_name(kind),
        super::CURRENT_VERSION,
        qualified(&schema, TABLES.iter().copied())
    );
    let _ = writeln!(
        sql,
        "REVOKE ALL ON SEQUENCE {} FROM {role};",
        qualified(&schema, SEQUENCES.iter().copied())
    );
    let _ = writeln!(
        sql,
        "REVOKE ALL ON FUNCTION {} FROM {role};",
        qualified(&schema, FUNCTIONS.iter().map(|(function, _)| *function))
    );
    // Every kind names the schema's objects (PUBLIC has USAGE on `public`, not on others).
    let _ = writeln!(sql, "GRANT USAGE ON SCHEMA {schema} TO {role};");
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
        let _ = writeln!(
            sql,
            "GRANT {privileges} ON {schema}.{} TO {role};",
            grant.table
        );
    }
    let functions: Vec<&str> = FUNCTIONS
        .iter()
        .filter(|(_, kinds)| kinds.contains(&kind))
        .map(|(function, _)| *function)
        .collect();
    if !functions.is_empty() {
        let _ = writeln!(
            sql,
            "GRANT EXECUTE ON FUNCTION {} TO {role};",
            qualified(&schema, functions)
        );
    }
    if kind == Admin {
        let _ = writeln!(
            sql,
            "GRANT USAGE, UPDATE ON SEQUENCE {} TO {role};",
            qualified(&schema, SEQUENCES.iter().copied())
        );
    }
    sql.push_str("COMMIT;\n");
    let _ = write!(
        sql,
        "\n-- as the database owner or a superuser (the vault's owner may not be able to):\n\
         -- nobody needs TEMP tables here; the idle timeout is hygiene, not a defence (a role \
         can change its own; the pooler's idle_transaction_timeout is one: README)\n\
         DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', \
         current_database()); END $$;\n\
         ALTER ROLE {role} SET idle_in_transaction_session_timeout = '10s';\n\
         \n-- the check: fails while PUBLIC may still create TEMP tables in this database\n\
         DO $$ BEGIN IF has_database_privilege('public', current_database(), 'TEMPORARY') THEN \
         RAISE EXCEPTION 'PUBLIC may still create TEMP tables in database %: run the block \
         above as the database owner or a superuser', current_database(); END IF; END $$;\n"
    );
    sql
}

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Admin => "admin",
        Verifier => "verifier",
        Reader => "reader",
        Refresher => "refresher",
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
    fn a_verifier_reads_the_version_row_and_runs_the_functions_only() {
        let sql = sql("ci_verifier", Verifier, "public");
        let grants: Vec<&str> = sql.lines().filter(|l| l.starts_with("GRANT")).collect();
        assert_eq!(
            grants,
            [
                "GRANT USAGE ON SCHEMA \"public\" TO ci_verifier;",
                "GRANT SELECT ON \"public\".tokens_vault TO ci_verifier;",
                "GRANT EXECUTE ON FUNCTION \"public\".lookup(text, bytea), \
                 \"public\".spend_use(text, bytea, bigint), \"public\".touch_last_use(text, bytea), \
                 \"public\".record_first_use(text, bytea), \
                 \"public\".count_failures(text, bytea, text, bigint) TO ci_verifier;",
            ]
        );
        assert!(sql.contains("REVOKE ALL ON FUNCTION \"public\".lookup(text, bytea),"));
    }

    #[test]
    fn the_output_is_the_owners_transaction_then_the_database_owners_block_then_the_check() {
        let sql = sql("ci_verifier", Verifier, "vault");
        let owner = sql.find("-- as the vault's owner:\nBEGIN;").unwrap();
        let commit = sql.find("COMMIT;\n").unwrap();
        let superuser = sql.find("-- as the database owner or a superuser").unwrap();
        let check = sql.find("RAISE EXCEPTION").unwrap();
        assert!(
            owner < commit && commit < superuser && superuser < check,
            "{sql}"
        );
        assert!(sql.contains("REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC"));
        assert!(sql[owner..commit].contains("\"vault\".tokens_vault"));
    }

    #[test]
    fn a_reader_reads_no_hash_and_changes_nothing() {
        let sql = sql("dash", Reader, "public");
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
