//! `tokens log`: the event log, for the whole vault or one token's lineage.
//!
//! Events are streamed from the vault, never all held at once: a log of millions of events is
//! printed in flat memory (SPEC §8). The table is laid out from its first page of rows; past
//! that page, rows are written as they arrive in the columns the first page set.

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Context;
use crate::cli::LogArgs;
use crate::duration::since_option;
use crate::error::{Error, Result};
use crate::output::{self, printable, relative, rfc3339};
use crate::vault::{Access, Event, EventFilter, Location, LogMark, LogWriter, Vault};

/// Rows laid out together as one table; a longer log streams on in the same columns.
const PAGE: usize = 1_000;

const TITLES: [&str; 6] = ["TIME", "WHEN", "TOKEN", "NAME", "EVENT", "DETAIL"];

pub fn run(context: &Context, args: LogArgs) -> Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|text| since_option(text, context.now))
        .transpose()
        .map_err(Error::Usage)?;
    if args.follow && args.after.is_some() && args.limit.is_some() {
        return Err(Error::Usage(
            "--after with --limit reads the next N events and stops; leave out --follow or --limit"
                .into(),
        ));
    }
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
        kind: args.event.clone(),
        ..EventFilter::default()
    };
    if args.jsonl {
        return stream_jsonl(context, vault, filter, &args);
    }
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

/// How often `--follow` asks for new events: well within the second SPEC §9 allows.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The most marks `--jsonl` keeps waiting to settle.
const PENDING_MARKS: usize = 64;

/// One line of `--jsonl` (SPEC §9), its fields in this order.
#[derive(Serialize)]
struct EventLine<'a> {
    seq: i64,
    at: String,
    token_id: Option<&'a str>,
    name: Option<&'a str>,
    event: &'a str,
    detail: &'a str,
}

/// `--jsonl`: one event a line, oldest first, streamed. Only events that have settled are
/// printed (see [`LogMark`]): on PostgreSQL an event's number is drawn when it is inserted, so
/// a transaction still running may yet commit an event numbered below one already visible;
/// printing past it would skip that event for good in a collector that resumes with `--after`.
/// Events numbered one after another are printed at once whoever is still writing (none can
/// come in between). Without `--follow` the command waits (at most `--timeout`) for the log as
/// it stood when it started to settle, prints it and ends; past `--timeout` it ends with what
/// it could print, naming on stderr the transaction that holds the rest back (exit 0: a
/// collector resumes with `--after`). With `--follow` it polls until interrupted, and names
/// such a transaction once it has held the log back for `--timeout`.
fn stream_jsonl(
    context: &Context,
    mut vault: Vault,
    mut filter: EventFilter,
    args: &LogArgs,
) -> Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    // The last event printed or passed over as settled: what the next read starts after.
    let mut after = args.after;
    if after.is_some() {
        filter.first = filter.last.take();
    }
    let mut left = filter.first;
    let mut pending = Pending::default();
    let mut target: Option<i64> = None;
    let mut settled_upto = i64::MIN;
    let started = Instant::now();
    let mut held = HeldBack::default();
    let followed = vault_file(context);
    loop {
        // A vault file removed or replaced under a follower would be followed no more: its
        // events go to another file (or nowhere) while this one waits for ever.
        if args.follow && vault_file(context) != followed {
            return Err(Error::Other(anyhow::anyhow!(
                "the vault file was removed or replaced while following it; start again{}",
                after.map_or(String::new(), |seq| format!(" with --after {seq}"))
            )));
        }
        vault.keep_current()?;
        let mark = vault.store().log_mark()?;
        target.get_or_insert(mark.seq);
        if let Some(seq) = pending.observe(&mark) {
            settled_upto = settled_upto.max(seq);
        }
        if !pending.is_empty() {
            // Past the settled marks, numbers one after another are committed whoever still
            // writes: none can come in between.
            let from = settled_upto.max(after.unwrap_or(0));
            settled_upto = vault.store().events_committed_through(from)?;
            pending.forget_through(settled_upto);
        }
        let upto = settled_upto;
        if upto != i64::MIN && after.is_none_or(|after| upto > after) {
            let read = EventFilter {
                after,
                upto: Some(upto),
                first: left,
                ..filter.clone()
            };
            let mut printed = 0u64;
            vault.store().events(&read, &mut |event| {
                serde_json::to_writer(
                    &mut out,
                    &EventLine {
                        seq: event.seq,
                        at: rfc3339(event.at),
                        token_id: event.token_id.as_deref(),
                        name: event.name.as_deref(),
                        event: &event.kind,
                        detail: &event.detail,
                    },
                )
                .map_err(io::Error::from)?;
                out.write_all(b"\n")?;
                printed += 1;
                Ok(())
            })?;
            out.flush()?;
            // The newest N apply to the backlog only; what follows is printed whole.
            filter.last = None;
            after = Some(upto);
            held.since = None;
            if let Some(left) = left.as_mut() {
                *left = left.saturating_sub(printed);
                if *left == 0 {
                    return Ok(());
                }
            }
        }
        if !args.follow && target.is_some_and(|target| settled_upto >= target) {
            return Ok(());
        }
        // Held back: a committed event waits behind one a running transaction may yet commit.
        let blockers = pending.blockers(&mark);
        let through = after.unwrap_or(0);
        if !args.follow && started.elapsed() >= context.timeout {
            context.notice(&format!(
                "warning: the events after {through} are held back by {}; printed the log \
                 up to {through}: run again with --after {through} once it ends",
                described(&blockers)
            ));
            return Ok(());
        }
        if args.follow {
            held.follow(context, &blockers, through);
        }
        // A reader that went away (`| head -1`, a collector that died) ends the follow now,
        // not at the next event, which may be hours away.
        if args.follow && reader_gone() {
            return Err(io::Error::from(io::ErrorKind::BrokenPipe).into());
        }
        vault.rest();
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// The marks read and not settled yet, oldest first (see [`LogMark`]).
#[derive(Default)]
struct Pending {
    marks: VecDeque<LogMark>,
}

impl Pending {
    /// Takes in `now`, the log's mark as just read; returns the highest number it settles.
    fn observe(&mut self, now: &LogMark) -> Option<i64> {
        // Marks of one number: the oldest is kept, unless this one has settled already.
        match self.marks.back_mut() {
            Some(last) if last.seq == now.seq => {
                if now.writers.is_empty() {
                    *last = now.clone();
                }
            }
            _ => self.marks.push_back(now.clone()),
        }
        // Flat memory however long a transaction holds the log back while events come in: a
        // mark dropped from the middle only delays what it would have let through (the next
        // mark's writers include every one of its writers still running), it never skips.
        if self.marks.len() > PENDING_MARKS {
            self.marks.remove(1);
        }
        let mut settled = None;
        while let Some(oldest) = self.marks.front()
            && oldest.settled_by(now)
        {
            settled = Some(oldest.seq);
            self.marks.pop_front();
        }
        settled
    }

    /// Forgets the marks up to `seq`, which is settled.
    fn forget_through(&mut self, seq: i64) {
        while self.marks.front().is_some_and(|oldest| oldest.seq <= seq) {
            self.marks.pop_front();
        }
    }

    fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// The transactions, as `now` shows them, that keep the oldest mark from settling.
    fn blockers<'a>(&self, now: &'a LogMark) -> Vec<&'a LogWriter> {
        match self.marks.front() {
            Some(oldest) => now.writers.iter().filter(|w| oldest.runs(w)).collect(),
            None => Vec::new(),
        }
    }
}

/// What `--follow` has said about transactions holding the log back.
#[derive(Default)]
struct HeldBack {
    /// Since when the log has been held back without printing anything.
    since: Option<Instant>,
    /// The transactions named so far (each is named once).
    named: Vec<String>,
}

impl HeldBack {
    /// Names, once the log has been held back for `--timeout`, each transaction holding it;
    /// says when the log moves on again.
    fn follow(&mut self, context: &Context, blockers: &[&LogWriter], through: i64) {
        if blockers.is_empty() {
            self.since = None;
            if !self.named.is_empty() {
                self.named.clear();
                context.notice(&format!(
                    "the transaction that held the log back ended; following on after {through}"
                ));
            }
            return;
        }
        let since = *self.since.get_or_insert_with(Instant::now);
        let new: Vec<&LogWriter> = blockers
            .iter()
            .copied()
            .filter(|writer| !self.named.contains(&writer.transaction))
            .collect();
        if since.elapsed() < context.timeout || new.is_empty() {
            return;
        }
        self.named
            .extend(new.iter().map(|writer| writer.transaction.clone()));
        context.notice(&format!(
            "warning: the events after {through} are held back by {}; still following: they \
             are printed once it ends",
            described(&new)
        ));
    }
}

/// `a transaction still running (pid 4242, role fleet_verifier, open since …)`, or several.
fn described(writers: &[&LogWriter]) -> String {
    let each: Vec<String> = writers
        .iter()
        .map(|writer| {
            let mut facts = vec![match writer.pid {
                Some(pid) => format!("pid {pid}"),
                None => "a prepared transaction".to_owned(),
            }];
            facts.extend(writer.role.as_ref().map(|role| format!("role {role}")));
            facts.extend(writer.since.map(|at| format!("open since {}", rfc3339(at))));
            facts.join(", ")
        })
        .collect();
    match each.len() {
        0 => "a transaction still running".to_owned(),
        1 => format!("a transaction still running ({})", each[0]),
        n => format!("{n} transactions still running ({})", each.join("; ")),
    }
}

/// The device and inode of the vault's file (`None` on PostgreSQL, or when it is gone).
fn vault_file(context: &Context) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    match context.location().ok()? {
        Location::File(path) => std::fs::metadata(path)
            .ok()
            .map(|meta| (meta.dev(), meta.ino())),
        Location::Postgres(_) => None,
    }
}

/// True when stdout is a pipe or socket whose reading end is closed (poll says so at once).
fn reader_gone() -> bool {
    let mut stdout = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, and a zero timeout: poll only reads and writes `stdout`.
    let ready = unsafe { libc::poll(&mut stdout, 1, 0) };
    ready == 1 && stdout.revents & (libc::POLLERR | libc::POLLHUP) != 0
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
            // Piped, one field a time: the WHEN column is left out (see print_page).
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
        let terminal = self.context.stdout_is_terminal;
        let rows = self
            .page
            .iter()
            .map(|cells| {
                cells
                    .iter()
                    .enumerate()
                    // Piped, "3d ago" would be two fields for awk; TIME says it exactly.
                    .filter(|(column, _)| terminal || TITLES[*column] != "WHEN")
                    .map(|(_, cell)| (cell.clone(), None))
                    .collect()
            })
            .collect();
        let titles: Vec<&str> = TITLES
            .iter()
            .copied()
            .filter(|title| terminal || *title != "WHEN")
            .collect();
        let table = output::table(
            &titles,
            &["WHEN"],
            &["NAME", "DETAIL"],
            rows,
            self.context.color,
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(transaction: &str) -> LogWriter {
        LogWriter {
            transaction: transaction.to_owned(),
            pid: Some(1),
            role: None,
            since: None,
        }
    }

    fn mark(seq: i64, writers: &[&str]) -> LogMark {
        LogMark {
            seq,
            writers: writers.iter().map(|name| writer(name)).collect(),
        }
    }

    #[test]
    fn marks_without_writers_settle_at_once() {
        let mut pending = Pending::default();
        assert_eq!(pending.observe(&mark(3, &[])), Some(3));
        assert_eq!(pending.observe(&mark(5, &[])), Some(5));
        assert!(pending.is_empty());
    }

    #[test]
    fn a_mark_settles_once_its_writers_end_whoever_writes_after() {
        let mut pending = Pending::default();
        assert_eq!(pending.observe(&mark(3, &["a"])), None);
        assert_eq!(pending.observe(&mark(4, &["a", "b"])), None);
        assert_eq!(pending.blockers(&mark(4, &["a", "b"])).len(), 1);
        // `a` ended: up to 3 is settled; 4 waits for `b`, which began after 3 was read.
        assert_eq!(pending.observe(&mark(4, &["b"])), Some(3));
        assert_eq!(pending.blockers(&mark(4, &["b"]))[0].transaction, "b");
        assert_eq!(pending.observe(&mark(4, &[])), Some(4));
        assert!(pending.is_empty());
    }

    #[test]
    fn a_long_hold_keeps_few_marks_and_skips_nothing() {
        let mut pending = Pending::default();
        // `a` holds the log while 1,000 events commit, each seen by a poll.
        for seq in 1..=1_000 {
            assert_eq!(pending.observe(&mark(seq, &["a"])), None, "{seq}");
            assert!(pending.marks.len() <= PENDING_MARKS);
        }
        assert_eq!(pending.marks.front().map(|oldest| oldest.seq), Some(1));
        // A short writer `b` comes and goes: nothing settles while `a` runs.
        assert_eq!(pending.observe(&mark(1_001, &["a", "b"])), None);
        assert_eq!(pending.observe(&mark(1_001, &["a"])), None);
        assert_eq!(pending.observe(&mark(1_001, &[])), Some(1_001));
        assert!(pending.is_empty());
    }

    #[test]
    fn marks_settled_otherwise_are_forgotten() {
        let mut pending = Pending::default();
        pending.observe(&mark(3, &["a"]));
        pending.observe(&mark(6, &["a"]));
        pending.forget_through(4);
        assert_eq!(pending.marks.front().map(|oldest| oldest.seq), Some(6));
        assert!(pending.blockers(&mark(6, &["a"])).len() == 1);
        pending.forget_through(6);
        assert!(pending.is_empty());
        assert!(pending.blockers(&mark(6, &["a"])).is_empty());
    }
}
