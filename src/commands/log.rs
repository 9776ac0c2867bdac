//! `tokens log`: the event log, for the whole vault or one token's lineage.
//!
//! Events are streamed from the vault, never all held at once: a log of millions of events is
//! printed in flat memory (SPEC §8). The table is laid out from its first page of rows; past
//! that page, rows are written as they arrive in the columns the first page set.

use std::io::{self, BufWriter, Write};

use comfy_table::Cell;

use super::Context;
use crate::cli::LogArgs;
use crate::duration::parse_since;
use crate::error::{Error, Result};
use crate::output::{self, printable, relative, rfc3339};
use crate::vault::{Access, Event, EventFilter};

/// Rows laid out together as one table; a longer log streams on in the same columns.
const PAGE: usize = 1_000;

const TITLES: [&str; 6] = ["TIME", "WHEN", "TOKEN", "NAME", "EVENT", "DETAIL"];

pub fn run(context: &Context, args: LogArgs) -> Result<()> {
    let since = args
        .since
        .map(|text| parse_since(&text, context.now))
        .transpose()
        .map_err(|why| Error::Usage(format!("invalid --since: {why}")))?;
    let vault = context.open(Access::Read)?;
    vault.may_read()?;
    let lineage = match &args.token {
        Some(token) => Some(context.resolve(&vault, token)?.lineage),
        None => None,
    };
    let filter = EventFilter {
        lineage,
        since,
        last: args.limit,
        lifecycle_only: false,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    if context.json {
        // One JSON array, written an element at a time.
        let mut count = 0u64;
        out.write_all(b"[")?;
        vault.store().events(&filter, &mut |event| {
            out.write_all(if count == 0 { b"\n  " } else { b",\n  " })?;
            serde_json::to_writer(&mut out, &output::event_json(&event))
                .map_err(io::Error::from)?;
            count += 1;
            Ok(())
        })?;
        out.write_all(if count == 0 { b"]\n" } else { b"\n]\n" })?;
        out.flush()?;
        return Ok(());
    }

    let mut table = Streamed::new(context);
    vault
        .store()
        .events(&filter, &mut |event| table.add(&mut out, &event))?;
    table.finish(&mut out)?;
    out.flush()?;
    if table.rows == 0 {
        context.notice("No events match.");
    }
    Ok(())
}

/// The log as a table: the first [`PAGE`] rows laid out by comfy-table, the rest streamed in
/// the columns that layout chose.
struct Streamed<'a> {
    context: &'a Context,
    page: Vec<[String; 6]>,
    /// Set once the first page is out: each column's width and whether it is shown.
    widths: Option<Vec<Option<usize>>>,
    rows: u64,
}

impl<'a> Streamed<'a> {
    fn new(context: &'a Context) -> Streamed<'a> {
        Streamed {
            context,
            page: Vec::new(),
            widths: None,
            rows: 0,
        }
    }

    fn cells(&self, event: &Event) -> [String; 6] {
        [
            rfc3339(event.at),
            relative(event.at, self.context.now),
            printable(event.token_id.as_deref().unwrap_or("-")).into_owned(),
            printable(event.name.as_deref().unwrap_or("-")).into_owned(),
            printable(&event.kind).into_owned(),
            printable(&event.detail).into_owned(),
        ]
    }

    fn add(&mut self, out: &mut impl Write, event: &Event) -> Result<()> {
        self.rows += 1;
        let cells = self.cells(event);
        match &self.widths {
            Some(widths) => write_row(out, widths, &cells)?,
            None => {
                self.page.push(cells);
                if self.page.len() == PAGE {
                    self.print_page(out)?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut impl Write) -> Result<()> {
        if self.widths.is_none() && !self.page.is_empty() {
            self.print_page(out)?;
        }
        Ok(())
    }

    /// Prints the first page as a table and keeps its column widths for the rows after it.
    fn print_page(&mut self, out: &mut impl Write) -> Result<()> {
        let rows = self
            .page
            .iter()
            .map(|cells| cells.iter().map(Cell::new).collect())
            .collect();
        let table = output::table(&TITLES, &["WHEN", "NAME"], rows, self.context.color);
        writeln!(out, "{table}")?;
        // The widest content of each column comfy-table kept (it pads each by one either side).
        let shown: Vec<String> = table.header().map_or_else(Vec::new, |header| {
            header.cell_iter().map(|cell| cell.content()).collect()
        });
        let widths = table.column_max_content_widths();
        let mut kept = widths.iter();
        self.widths = Some(
            TITLES
                .iter()
                .map(|title| {
                    shown
                        .iter()
                        .any(|name| name == title)
                        .then(|| kept.next().map_or(0, |width| usize::from(*width)))
                })
                .collect(),
        );
        self.page = Vec::new();
        Ok(())
    }
}

/// One row past the first page, in the first page's columns (a longer value pushes the rest
/// of its row right rather than being cut).
fn write_row(out: &mut impl Write, widths: &[Option<usize>], cells: &[String; 6]) -> Result<()> {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        let Some(width) = width else { continue };
        line.push(' ');
        line.push_str(cell);
        let used = cell.chars().count();
        line.extend(std::iter::repeat_n(' ', width.saturating_sub(used) + 1));
    }
    writeln!(out, "{}", line.trim_end())?;
    Ok(())
}
