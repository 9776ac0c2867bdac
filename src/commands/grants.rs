//! `tokens grants ROLE --kind admin|verifier|reader`: prints the SQL (vault/postgres/grants.rs).

use std::io::Write;

use super::Context;
use crate::cli::GrantsArgs;
use crate::error::Result;
use crate::vault::Location;
use crate::vault::postgres::{connect, grants};

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
    Ok(())
}
