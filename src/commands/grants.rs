//! `tokens grants ROLE --kind admin|verifier|reader`: prints the SQL (vault/postgres/grants.rs).

use std::io::Write;

use crate::cli::GrantsArgs;
use crate::error::Result;
use crate::vault::postgres::grants;

pub fn run(args: GrantsArgs) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(grants::sql(&args.role, args.kind).as_bytes())?;
    stdout.flush()?;
    Ok(())
}
