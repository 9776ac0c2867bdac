//! The vault's schema and its migrations, versioned with `PRAGMA user_version`.

use rusqlite::Connection;

/// Marks a SQLite file as a tokens vault (`PRAGMA application_id`, "tkns").
pub const APPLICATION_ID: i64 = 0x746B_6E73;

/// Migration `n` (1-based) brings a vault from schema `n - 1` to schema `n`.
const MIGRATIONS: &[&str] = &[
    // 1: tokens (hashed secrets only) and the event log.
    "CREATE TABLE tokens (
        id                 TEXT PRIMARY KEY NOT NULL,
        name               TEXT NOT NULL,
        app                TEXT,
        scopes             TEXT NOT NULL DEFAULT '',  -- space separated; scopes have no spaces
        note               TEXT,
        secret_hash        BLOB NOT NULL,             -- SHA-256 of the secret
        secret_tail        TEXT NOT NULL,             -- last 4 characters of the secret, for the masked form
        secret_key_hash    BLOB,                      -- SHA-256 of the secret key's secret, if one was issued
        created_at         INTEGER NOT NULL,          -- Unix seconds, UTC
        expires_at         INTEGER,                   -- NULL: never
        last_used_at       INTEGER,
        revoked_at         INTEGER,                   -- may lie in the future while a rotation's grace runs
        revoke_reason      TEXT,
        secret_key_used_at INTEGER,                   -- set by refresh; a second use revokes the lineage
        rotated_from       TEXT,
        replaced_by        TEXT,
        lineage            TEXT NOT NULL              -- id of the first token of the chain
    );
    CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_at IS NULL;
    CREATE INDEX tokens_name ON tokens(name, created_at);
    CREATE INDEX tokens_app ON tokens(app);
    CREATE INDEX tokens_lineage ON tokens(lineage);
    CREATE INDEX tokens_expires ON tokens(expires_at);
    CREATE TABLE events (
        seq      INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        token_id TEXT,
        kind     TEXT NOT NULL,
        detail   TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_token ON events(token_id, seq);
    CREATE INDEX events_at ON events(at);",
    // 2: bookkeeping in narrow tables of its own (SPEC §8): the last use, written by verifiers
    // (a batch updating 100,000 of them no longer rewrites 100,000 scattered token rows), and
    // failed verifications of known tokens counted per token and reason instead of one event each.
    "CREATE TABLE token_usage (
        token_id     TEXT PRIMARY KEY NOT NULL,
        last_used_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO token_usage (token_id, last_used_at)
        SELECT id, last_used_at FROM tokens WHERE last_used_at IS NOT NULL;
    ALTER TABLE tokens DROP COLUMN last_used_at;
    CREATE TABLE verify_failures (
        token_id  TEXT NOT NULL,
        reason    TEXT NOT NULL,               -- the verdict: invalid (wrong secret), revoked, expired, forbidden
        failures  INTEGER NOT NULL,            -- failures ever
        first_at  INTEGER NOT NULL,
        last_at   INTEGER NOT NULL,
        unlogged  INTEGER NOT NULL,            -- failures since the last verify_failed event for them
        logged_at INTEGER,                     -- when that event was logged
        PRIMARY KEY (token_id, reason)
    ) WITHOUT ROWID;",
    // governance: the vault's policy (one row, absent until the first `policy set`), and
    // `rotate --until-used`: the old token waits for its successor's first use, which
    // verifiers record in token_usage (they never write tokens).
    "CREATE TABLE policy (
        singleton        INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 1),
        max_lifetime     INTEGER,              -- seconds; NULL: any
        default_lifetime INTEGER,              -- seconds; NULL: 30 days
        require_app      INTEGER NOT NULL DEFAULT 0,
        scopes           TEXT                  -- space separated; NULL: any
    );
    ALTER TABLE tokens ADD COLUMN waits_for TEXT;       -- the successor whose first use ends it
    ALTER TABLE tokens ADD COLUMN first_use_ends TEXT;  -- the token its own first use ends
    ALTER TABLE token_usage ADD COLUMN first_used_at INTEGER;",
    // controls: verify-time controls (SPEC §9). Admin columns on tokens; the uses spent are
    // bookkeeping, in token_usage with the last use, counted under the epoch they were spent in:
    // `edit --uses N` raises tokens.uses_epoch and never touches a verifier's row.
    "ALTER TABLE tokens ADD COLUMN disabled_at INTEGER;          -- set by disable, cleared by enable
    ALTER TABLE tokens ADD COLUMN disable_reason TEXT;
    ALTER TABLE tokens ADD COLUMN uses_limit INTEGER;           -- NULL: unlimited
    ALTER TABLE tokens ADD COLUMN uses_epoch INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tokens ADD COLUMN allow_from TEXT;              -- CIDRs, comma separated; NULL: any address
    ALTER TABLE tokens ADD COLUMN meta TEXT;                    -- a JSON object of strings; NULL: none
    ALTER TABLE token_usage ADD COLUMN uses_spent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE token_usage ADD COLUMN uses_epoch INTEGER NOT NULL DEFAULT 0;",
    // roles: the marks of SPEC §10 (vault/mod.rs, `Marks`): the oldest schema of tokens that
    // may read, verify and write this vault; this migration's own version (user_version is
    // still the one before it) until a later write or migration raises them.
    "CREATE TABLE vault_marks (
        read_mark   INTEGER NOT NULL,
        verify_mark INTEGER NOT NULL,
        write_mark  INTEGER NOT NULL
    );
    INSERT INTO vault_marks (read_mark, verify_mark, write_mark)
        SELECT user_version + 1, user_version + 1, user_version + 1 FROM pragma_user_version;",
    // lineages: a token's refresh window (its secret key works until expires_at plus it) and
    // the command that disabled it (`enable NAME` re-enables older tokens of the lineage only
    // when the same `disable` did), with the policy's bounds on the window. Only the write
    // mark rises to this version: an older refresh would ignore the windows, but older readers
    // and verifiers lose nothing, so a fleet keeps verifying while its hosts upgrade.
    "ALTER TABLE tokens ADD COLUMN refresh_window INTEGER;     -- seconds; NULL: no limit
    ALTER TABLE tokens ADD COLUMN disabled_batch TEXT;         -- one id per disable command
    ALTER TABLE policy ADD COLUMN max_refresh_window INTEGER;      -- seconds; NULL: any
    ALTER TABLE policy ADD COLUMN default_refresh_window INTEGER;  -- seconds; NULL: the max
    UPDATE vault_marks SET write_mark = max(write_mark, (SELECT user_version + 1 FROM pragma_user_version));",
    // trust: the PostgreSQL vault's functions (postgres/schema.rs); a private file has no
    // roles, so no table changes here. Its marks are raised to this version as the PostgreSQL
    // vault's are (the same numbers on both backends: a vault is marked with its own version).
    "UPDATE vault_marks SET
        read_mark = max(read_mark, (SELECT user_version + 1 FROM pragma_user_version)),
        verify_mark = max(verify_mark, (SELECT user_version + 1 FROM pragma_user_version)),
        write_mark = max(write_mark, (SELECT user_version + 1 FROM pragma_user_version));",
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations after `from`, in the caller's transaction.
pub fn migrate(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        conn.execute_batch(sql)?;
        conn.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    Ok(())
}
