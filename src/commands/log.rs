//! `tokens log`: the event log, for the whole vault or one token's lineage.

use std::io::{self, Write};

use comfy_table::Cell;

use super::Context;
use crate::cli::LogArgs;
use crate::duration::parse_since;
use crate::error::{Error, Result};
use crate::output::{self, printable, relative, rfc3339};
use crate::vault::{Access, EventFilter};

pub fn run(context: &Context, args: LogArgs) -> Result<()> {
    let since = args
        .since
        .map(|text| parse_since(&text, context.now))
        .transpose()
        .map_err(|why| Error::Usage(format!("invalid --since: {why}")))?;
    let vault = context.open(Access::Read)?;
    let lineage = match &args.token {
        Some(token) => Some(context.resolve(&vault, token)?.lineage),
        None => None,
    };
    let events = vault.store().events(&EventFilter {
        lineage,
        since,
        last: None,
    })?;
    if context.json {
        let array: Vec<_> = events.iter().map(output::event_json).collect();
        output::print_json(&serde_json::Value::Array(array))?;
        return Ok(());
    }
    if events.is_empty() {
        context.notice("No events match.");
        return Ok(());
    }
    let rows = events
        .iter()
        .map(|event| {
            vec![
                Cell::new(rfc3339(event.at)),
                Cell::new(relative(event.at, context.now)),
                Cell::new(printable(event.token_id.as_deref().unwrap_or("-"))),
                Cell::new(printable(event.name.as_deref().unwrap_or("-"))),
                Cell::new(printable(&event.kind)),
                Cell::new(printable(&event.detail)),
            ]
        })
        .collect();
    let table = output::table(
        &["TIME", "WHEN", "TOKEN", "NAME", "EVENT", "DETAIL"],
        &["WHEN", "NAME"],
        rows,
        context.color,
    );
    writeln!(io::stdout().lock(), "{table}")?;
    Ok(())
}
