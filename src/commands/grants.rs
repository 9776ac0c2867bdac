//! `tokens grants ROLE --kind admin|verifier|reader`: prints the SQL (vault/postgres/grants.rs).

use std::io::Write;

use super::Context;
use crate::cli::GrantsArgs;
use crate::error::Result;
use crate::vault::postgres::{connect, grants};
use crate::vault::{Access, Location, Vault};

/// The grants name the vault's schema: `schema=` in a PostgreSQL `--vault`, else `public`.
pub fn run(context: &Context, args: GrantsArgs) -> Result<()> {
    let schema = match context.location() {
        Ok(Location::Postgres(url)) => connect::requested_schema(&url),
        _ => None,
    };
    let schema = schema.as_deref().unwrap_or("public");
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(grants::sql(&args.role, args.kind, schema).as_bytes())?;
    stdout.flush()?;
    warn_while_public_has_temp(context);
    Ok(())
}

/// Until `tokens status` says it: when `--vault` names a PostgreSQL vault this user can reach,
/// a warning while PUBLIC may still create TEMP tables in its database. Silent when it cannot
/// tell: the SQL above is the answer either way.
fn warn_while_public_has_temp(context: &Context) {
    let Ok(location @ Location::Postgres(_)) = context.location() else {
        return;
    };
    let Ok(Vault::Postgres(vault)) = Vault::open_within(&location, Access::Read, context.timeout)
    else {
        return;
    };
    if vault.public_has_temp().unwrap_or(false) {
        context.notice(
            "warning: PUBLIC may still create TEMP tables in this database; run the block headed \
             \"-- as the database owner or a superuser\" as one of them",
        );
    }
}
