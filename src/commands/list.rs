//! `tokens list`: a table of tokens (or a JSON array), masked, never a secret.

use std::io::{self, Write};

use super::Context;
use crate::cli::{ListArgs, StatusArg};
use crate::error::Result;
use crate::output::{self, printable};
use crate::vault::{Access, ListFilter, Status};

pub fn run(context: &Context, args: ListArgs) -> Result<()> {
    let vault = context.open(Access::Read)?;
    let all = args.all;
    vault.may_read()?;
    let filter = ListFilter {
        all,
        app: args.app,
        scope: args.scope,
        status: args.status.map(|status| match status {
            StatusArg::Active => Status::Active,
            StatusArg::Rotating => Status::Rotating,
            StatusArg::Disabled => Status::Disabled,
            StatusArg::UsedUp => Status::UsedUp,
            StatusArg::Expired => Status::Expired,
            StatusArg::Revoked => Status::Revoked,
        }),
        expiring_before: args.expiring.map(|within| context.now + within),
        unused_since: args.unused.map(|unused| context.now - unused),
    };
    let now = context.now;
    // `--exit-code`: exit 8 when anything matched (the listing is printed first).
    let matched = |count: usize| {
        if args.exit_code && count > 0 {
            Err(crate::error::Error::Silent(super::EXIT_FOUND))
        } else {
            Ok(())
        }
    };

    if context.json {
        // Streamed: one element at a time, so a large vault never sits in memory.
        let mut stdout = io::BufWriter::new(io::stdout().lock());
        write!(stdout, "[")?;
        let mut first = true;
        vault.store().list(&filter, now, &mut |record| {
            let separator = if first { "\n  " } else { ",\n  " };
            first = false;
            stdout.write_all(separator.as_bytes())?;
            // Straight into the buffer: `write!` with a `Display` would pass every piece
            // through the formatting machinery (a sixth of the time over 1,000,000 tokens).
            serde_json::to_writer(&mut stdout, &output::TokenJson::of(&record, now))
                .map_err(io::Error::from)?;
            Ok(())
        })?;
        writeln!(stdout, "{}]", if first { "" } else { "\n" })?;
        stdout.flush()?;
        return matched(usize::from(!first));
    }

    let terminal = context.stdout_is_terminal;
    let mut rows = Vec::new();
    // USES (left/limit) only when a listed token has a limit.
    let mut uses = Vec::new();
    vault.store().list(&filter, now, &mut |record| {
        let plain = |text: &str| (printable(text).into_owned(), None);
        uses.push(output::uses_text(&record.controls));
        rows.push(vec![
            plain(&record.id),
            plain(&record.name),
            plain(record.app.as_deref().unwrap_or("-")),
            plain(&if record.scopes.is_empty() {
                "-".to_owned()
            } else {
                record.scopes.join(",")
            }),
            plain(&record.masked()),
            (
                output::time_field(Some(record.created_at), now, "-", terminal),
                None,
            ),
            output::expiry_cell(&record, now, terminal),
            (
                output::time_field(record.last_used_at, now, "never", terminal),
                None,
            ),
            output::status_cell(&record, now),
        ]);
        Ok(())
    })?;
    if rows.is_empty() {
        // An empty vault, a filter that matched nothing, or only revoked tokens left.
        let mut any = false;
        let everything = ListFilter {
            all: true,
            ..ListFilter::default()
        };
        // The walk stops at the first token: the error is only the way out of it.
        let _ = vault.store().list(&everything, now, &mut |_| {
            any = true;
            Err(crate::error::Error::Silent(0))
        });
        let hint = match (any, all) {
            (false, _) => "No tokens yet. Create one with: tokens create NAME",
            (true, false) => "No tokens match; revoked tokens are listed with --all.",
            (true, true) => "No tokens match.",
        };
        context.notice(hint);
        return Ok(());
    }
    let count = rows.len();
    let mut titles = vec![
        "ID",
        "NAME",
        "APP",
        "SCOPES",
        "TOKEN",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "STATUS",
    ];
    if uses.iter().any(Option::is_some) {
        let at = titles.len() - 1;
        titles.insert(at, "USES");
        for (row, uses) in rows.iter_mut().zip(uses) {
            row.insert(at, (uses.unwrap_or_else(|| "-".to_owned()), None));
        }
    }
    let table = output::table(
        &titles,
        // On a narrow terminal: `show` has these too, and the id is in the masked token.
        &["CREATED", "LAST USED", "TOKEN"],
        // Then long values are cut with `…`; ids, times and statuses never are.
        &["SCOPES", "APP", "NAME"],
        rows,
        context.color,
    );
    writeln!(io::stdout().lock(), "{table}")?;
    matched(count)
}
