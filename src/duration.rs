//! The one duration grammar (SPEC §3): durations (`30d`, `90min`), expiry specifications (`30d`,
//! `2027-01-31`, RFC 3339, `never`), the table of every option that takes one ([`OPTIONS`]),
//! and how durations are written back ([`format_duration`]).
//!
//! Pure: the caller passes `now`, so expiry logic is testable without a clock.

use std::ffi::OsStr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::builder::TypedValueParser;
use clap::parser::ValueSource;

/// The units a duration is written in, and their length in seconds. `m` is not one: it reads
/// as minutes to some and months to others, so it is refused everywhere ([`read`]).
const UNITS: [(&str, i64); 6] = [
    ("s", 1),
    ("min", 60),
    ("h", 3_600),
    ("d", 86_400),
    ("w", 7 * 86_400),
    ("y", 365 * 86_400),
];

/// The longest duration any option reads, so that `now + duration` never overflows a timestamp.
const MAX_SECONDS: i64 = 1_000 * 365 * 86_400;

/// The longest lifetime a token can be given: beyond it, `never` says what is meant.
pub const MAX_LIFETIME_YEARS: i64 = 100;

/// When a token expires: at a time, or never.
pub type Expiry = Option<DateTime<Utc>>;

/// What one option or environment variable accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepts {
    /// The shortest duration.
    pub min: Duration,
    /// The longest duration.
    pub max: Duration,
    /// `never` and `none` mean "no limit".
    pub never: bool,
    /// A date (`2027-01-31`) or an RFC 3339 time.
    pub times: bool,
    /// Shown in messages: `e.g. 30d`.
    pub example: &'static str,
}

/// An option (and the environment variable that sets it, if any) that takes a duration or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationOption {
    /// The long name, without `--`.
    pub long: &'static str,
    pub env: Option<&'static str>,
    pub accepts: Accepts,
}

const fn accepts(min: Duration, max: Duration, example: &'static str) -> Accepts {
    Accepts {
        min,
        max,
        never: false,
        times: false,
        example,
    }
}

const ZERO: Duration = Duration::zero();
const SECOND: Duration = Duration::seconds(1);
const DAY: Duration = Duration::seconds(86_400);
const LONGEST: Duration = Duration::seconds(MAX_SECONDS);
const LIFETIME: Duration = Duration::seconds(MAX_LIFETIME_YEARS * 365 * 86_400);

/// `--expires`: a lifetime from now, a date or time, or never.
const EXPIRES: Accepts = Accepts {
    never: true,
    times: true,
    ..accepts(SECOND, LIFETIME, "30d")
};

/// `--since`: a duration back from now, a date or time.
const SINCE: Accepts = Accepts {
    times: true,
    ..accepts(ZERO, LONGEST, "7d")
};

/// Every option that takes a duration or a time, and what each accepts: the one place to add a
/// new one (then give its clap field `value_parser = duration::length("name")`, [`limit`],
/// [`std_length`] or [`time_text`]; tests/durations.rs checks every such option against this
/// table, read off the clap definition).
pub const OPTIONS: &[DurationOption] = &[
    DurationOption {
        long: "timeout",
        env: Some("TOKENS_TIMEOUT"),
        accepts: accepts(SECOND, DAY, "10s"),
    },
    DurationOption {
        long: "clear-after",
        env: None,
        accepts: accepts(SECOND, DAY, "45s"),
    },
    DurationOption {
        long: "expires",
        env: None,
        accepts: EXPIRES,
    },
    DurationOption {
        long: "grace",
        env: None,
        accepts: accepts(ZERO, LONGEST, "1h"),
    },
    DurationOption {
        long: "expiring",
        env: None,
        accepts: accepts(ZERO, LONGEST, "7d"),
    },
    DurationOption {
        long: "unused",
        env: None,
        accepts: accepts(ZERO, LONGEST, "90d"),
    },
    DurationOption {
        long: "since",
        env: None,
        accepts: SINCE,
    },
    DurationOption {
        long: "max-lifetime",
        env: None,
        accepts: Accepts {
            never: true,
            ..accepts(SECOND, LIFETIME, "90d")
        },
    },
    DurationOption {
        long: "default-lifetime",
        env: None,
        accepts: accepts(SECOND, LIFETIME, "30d"),
    },
    // How long after its expiry a secret key still refreshes the token (0s: until it expires).
    DurationOption {
        long: "refresh-window",
        env: None,
        accepts: Accepts {
            never: true,
            ..accepts(ZERO, LIFETIME, "7d")
        },
    },
    DurationOption {
        long: "max-refresh-window",
        env: None,
        accepts: Accepts {
            never: true,
            ..accepts(ZERO, LIFETIME, "30d")
        },
    },
    DurationOption {
        long: "default-refresh-window",
        env: None,
        accepts: Accepts {
            never: true,
            ..accepts(ZERO, LIFETIME, "7d")
        },
    },
];

/// The entry of [`OPTIONS`] for `--long`.
pub fn option(long: &str) -> Option<&'static DurationOption> {
    OPTIONS.iter().find(|option| option.long == long)
}

/// What a duration-taking value reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// `never` or `none`: no limit.
    Never,
    Length(Duration),
    At(DateTime<Utc>),
}

/// Reads `text` as `accepts` allows, or says what to write instead (the reason only: the caller
/// names the option, [`refusal`]).
pub fn read(accepts: &Accepts, text: &str) -> Result<Reading, String> {
    let text = text.trim();
    if accepts.never && (text.eq_ignore_ascii_case("never") || text.eq_ignore_ascii_case("none")) {
        return Ok(Reading::Never);
    }
    if accepts.times {
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return date
                .and_hms_opt(0, 0, 0)
                .map(|naive| Reading::At(naive.and_utc()))
                .ok_or_else(|| "not a valid date".to_owned());
        }
        if let Ok(time) = DateTime::parse_from_rfc3339(text) {
            return Ok(Reading::At(time.with_timezone(&Utc)));
        }
        // `2027-02-30`: shaped like a date, so said as one (not "unknown unit -02-30").
        if let [year @ .., b'-'] = text.as_bytes().get(..5).unwrap_or_default()
            && year.iter().all(u8::is_ascii_digit)
        {
            return Err(
                "not a valid date or time (e.g. 2027-01-31 or 2027-01-31T12:00:00Z)".into(),
            );
        }
    }
    if let Some(count) = text.strip_suffix('m')
        && !count.is_empty()
        && count.bytes().all(|byte| byte.is_ascii_digit())
    {
        return Err(minutes_or_months(accepts, count));
    }
    let length = parse_duration(text).map_err(|why| match why {
        Unreadable::Shape => forms(accepts),
        Unreadable::Unit(unit) => format!(
            "unknown unit \"{}\" ({})",
            crate::output::printable(&unit),
            forms(accepts)
        ),
        Unreadable::TooLong => range(accepts),
    })?;
    if length < accepts.min || length > accepts.max {
        return Err(range(accepts));
    }
    Ok(Reading::Length(length))
}

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Not a whole number followed by a unit.
    Shape,
    /// A number and an unknown unit (`m` among them).
    Unit(String),
    /// More than 1000 years.
    TooLong,
}

/// A duration written as a whole number and a unit: `90s`, `15min`, `12h`, `30d`, `2w`, `1y`
/// (365 days), at most 1000 years. Bare `m` is refused (an unknown unit).
pub fn parse_duration(text: &str) -> Result<Duration, Unreadable> {
    let text = text.trim();
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or(Unreadable::Shape)?;
    let (number, unit) = text.split_at(unit_at);
    if number.is_empty() {
        return Err(Unreadable::Shape);
    }
    let seconds_per_unit = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, seconds)| *seconds)
        .ok_or_else(|| Unreadable::Unit(unit.to_owned()))?;
    number
        .parse::<i64>()
        .ok()
        .and_then(|count| count.checked_mul(seconds_per_unit))
        .filter(|seconds| *seconds <= MAX_SECONDS)
        .map(Duration::seconds)
        .ok_or(Unreadable::TooLong)
}

/// Said for `6m`: the minutes and the months it may have meant, of those the option accepts.
fn minutes_or_months(accepts: &Accepts, count: &str) -> String {
    let number: i64 = count.parse().unwrap_or(i64::MAX);
    let fits = |length: Option<Duration>| {
        length.is_some_and(|length| length >= accepts.min && length <= accepts.max)
    };
    let minutes = fits(Duration::try_minutes(number)).then(|| format!("{number}min for minutes"));
    let days = number.checked_mul(30).unwrap_or(i64::MAX);
    let months =
        (number >= 1 && accepts.max >= Duration::days(30) && fits(Duration::try_days(days)))
            .then(|| format!("{days}d for {}", months_in_words(number)));
    match (minutes, months) {
        (Some(minutes), Some(months)) => format!("write {minutes}, or {months}"),
        (Some(only), None) | (None, Some(only)) => format!("write {only}"),
        (None, None) => format!("m is not a unit; {}", range(accepts)),
    }
}

fn months_in_words(count: i64) -> String {
    const WORDS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    match usize::try_from(count) {
        Ok(1) => "one month".to_owned(),
        Ok(n @ 2..=12) => format!("{} months", WORDS[n - 1]),
        _ => format!("{count} months"),
    }
}

/// The forms an option takes, for a message.
fn forms(accepts: &Accepts) -> String {
    let mut forms = format!("use a duration such as {}", accepts.example);
    if accepts.times {
        forms.push_str(", a date (2027-01-31), an RFC 3339 time");
    }
    if accepts.never {
        forms.push_str(", or never");
    }
    forms.push_str("; units: s, min, h, d, w, y");
    forms
}

/// The range an option takes, for a message.
fn range(accepts: &Accepts) -> String {
    let never = if accepts.never { ", or never" } else { "" };
    if accepts.min <= Duration::zero() {
        format!(
            "use a duration of at most {}{never} (e.g. {})",
            format_duration(accepts.max),
            accepts.example
        )
    } else {
        format!(
            "use a duration from {} to {}{never} (e.g. {})",
            format_duration(accepts.min),
            format_duration(accepts.max),
            accepts.example
        )
    }
}

/// The one-line refusal of a value: `invalid --timeout "1m" (from TOKENS_TIMEOUT): write 1min
/// for minutes`. `from` names the environment variable the value came from, if it did.
pub fn refusal(long: &str, text: &str, from: Option<&str>, why: &str) -> String {
    // Escaped here: clap's rendering would drop a control character silently.
    let text = crate::output::printable(text);
    match from {
        Some(variable) => format!("invalid --{long} \"{text}\" (from {variable}): {why}"),
        None => format!("invalid --{long} \"{text}\": {why}"),
    }
}

/// `90d`, `12h`, `15min`, `1y`: the largest unit that divides the duration (weeks said in days),
/// as every duration-taking option reads it back.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.num_seconds();
    for (unit, size) in [
        ("y", 365 * 86_400),
        ("d", 86_400),
        ("h", 3_600),
        ("min", 60),
    ] {
        if seconds != 0 && seconds % size == 0 {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

/// [`format_duration`] of a `std::time::Duration`, in whole seconds.
pub fn format_std(duration: std::time::Duration) -> String {
    let seconds = i64::try_from(duration.as_secs()).unwrap_or(MAX_SECONDS);
    format_duration(Duration::seconds(seconds))
}

/// Parses `--expires`: a duration from `now`, a date (00:00 UTC that day), an RFC 3339 time, or
/// `never` (or `none`). The result must lie in the future and within [`MAX_LIFETIME_YEARS`].
pub fn parse_expiry(text: &str, now: DateTime<Utc>) -> Result<Expiry, String> {
    let at = match read(&EXPIRES, text)? {
        Reading::Never => return Ok(None),
        Reading::Length(length) => now + length,
        Reading::At(at) => at,
    };
    if at <= now {
        return Err("it is in the past".into());
    }
    if at - now > Duration::days(365 * MAX_LIFETIME_YEARS) {
        return Err(format!(
            "it is more than {MAX_LIFETIME_YEARS} years away; use never for a token that does not expire"
        ));
    }
    Ok(Some(at))
}

/// [`parse_expiry`] under a policy's `max-lifetime`: a bare `m` is answered with only what the
/// policy lets through (`6m` under 90d: `write 6min for minutes`, not `or 180d`), so the
/// advice is never refused in turn.
pub fn parse_expiry_within(
    text: &str,
    now: DateTime<Utc>,
    max: Option<Duration>,
) -> Result<Expiry, String> {
    if let Some(max) = max
        && text
            .trim()
            .strip_suffix('m')
            .is_some_and(|count| !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()))
    {
        let within = Accepts {
            never: false,
            max: max.min(LIFETIME),
            ..EXPIRES
        };
        read(&within, text)?;
    }
    parse_expiry(text, now)
}

/// `--expires TEXT` as a command reads it when it runs, refused in the one line of [`refusal`].
pub fn expires_option(text: &str, now: DateTime<Utc>) -> Result<Expiry, String> {
    parse_expiry(text, now).map_err(|why| refusal("expires", text, None, &why))
}

/// `--since TEXT` as `log` reads it when it runs, refused in the one line of [`refusal`].
pub fn since_option(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    parse_since(text, now).map_err(|why| refusal("since", text, None, &why))
}

/// Parses `--since`: a duration back from `now` (`7d`), a date, or an RFC 3339 time.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    match read(&SINCE, text)? {
        Reading::Length(length) => Ok(now - length),
        Reading::At(at) => Ok(at),
        // Not read: SINCE takes no `never`.
        Reading::Never => Err(forms(&SINCE)),
    }
}

/// A limit that can be lifted: `Limit(None)` is `never`/`none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<Duration>);

/// The clap value parser of one [`OPTIONS`] entry: reads the value by the entry's grammar and
/// refuses it in one line that names the option and, for a value from the environment, the
/// variable ([`refusal`]).
#[derive(Clone, Copy)]
pub struct OptionParser<T> {
    option: &'static DurationOption,
    convert: fn(Reading, &str) -> T,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for OptionParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        self.parse_ref_(cmd, arg, value, ValueSource::CommandLine)
    }

    fn parse_ref_(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
        source: ValueSource,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        let from = match source {
            ValueSource::EnvVariable => self.option.env,
            _ => None,
        };
        read(&self.option.accepts, &text)
            .map(|reading| (self.convert)(reading, &text))
            .map_err(|why| {
                let line = refusal(self.option.long, &text, from, &why);
                // A raw error: printed as this one line (cli::one_line_usage_error).
                clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{line}\n"))
            })
    }
}

/// The parser for `--long`, which must be in [`OPTIONS`]: clap builds every parser on every
/// run, so a missing entry fails every test at once.
fn parser<T>(long: &str, convert: fn(Reading, &str) -> T) -> OptionParser<T> {
    let option = option(long)
        .unwrap_or_else(|| panic!("--{long} takes a duration: add it to duration::OPTIONS"));
    OptionParser { option, convert }
}

/// A duration (the option takes no `never` and no time).
pub fn length(long: &str) -> OptionParser<Duration> {
    parser(long, |reading, _| match reading {
        Reading::Length(length) => length,
        // Not read: the entry takes neither.
        Reading::Never | Reading::At(_) => Duration::zero(),
    })
}

/// [`length`] as a `std::time::Duration` (never negative: every minimum is 0s or more).
pub fn std_length(long: &str) -> OptionParser<std::time::Duration> {
    parser(long, |reading, _| match reading {
        Reading::Length(length) => length.to_std().unwrap_or_default(),
        Reading::Never | Reading::At(_) => std::time::Duration::ZERO,
    })
}

/// A duration or `never`/`none`.
pub fn limit(long: &str) -> OptionParser<Limit> {
    parser(long, |reading, _| match reading {
        Reading::Length(length) => Limit(Some(length)),
        Reading::Never | Reading::At(_) => Limit(None),
    })
}

/// A value read against `now` when the command runs (`--expires`, `--since`): checked here,
/// kept as written.
pub fn time_text(long: &str) -> OptionParser<String> {
    parser(long, |_, text| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn accepts_of(long: &str) -> Accepts {
        option(long).unwrap().accepts
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::seconds(90)));
        assert_eq!(parse_duration("15min"), Ok(Duration::minutes(15)));
        assert_eq!(parse_duration("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_duration("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_duration("2w"), Ok(Duration::days(14)));
        assert_eq!(parse_duration("1y"), Ok(Duration::days(365)));
        assert_eq!(parse_duration("0s"), Ok(Duration::zero()));
        assert_eq!(parse_duration("15m"), Err(Unreadable::Unit("m".into())));
    }

    #[test]
    fn bare_m_is_refused_with_what_the_option_takes() {
        assert_eq!(
            read(&accepts_of("timeout"), "1m").unwrap_err(),
            "write 1min for minutes"
        );
        assert_eq!(
            read(&accepts_of("expires"), "6m").unwrap_err(),
            "write 6min for minutes, or 180d for six months"
        );
        assert_eq!(
            read(&accepts_of("max-lifetime"), "1m").unwrap_err(),
            "write 1min for minutes, or 30d for one month"
        );
        assert_eq!(
            read(&accepts_of("timeout"), "2000m").unwrap_err(),
            "m is not a unit; use a duration from 1s to 1d (e.g. 10s)"
        );
        assert_eq!(
            read(&accepts_of("grace"), "99999999999999999999m").unwrap_err(),
            "m is not a unit; use a duration of at most 1000y (e.g. 1h)"
        );
    }

    #[test]
    fn never_and_none_only_where_no_limit_is_meant() {
        for text in ["never", "none", "NEVER"] {
            assert_eq!(read(&accepts_of("max-lifetime"), text), Ok(Reading::Never));
            assert_eq!(read(&accepts_of("expires"), text), Ok(Reading::Never));
            assert!(read(&accepts_of("grace"), text).is_err());
            assert!(read(&accepts_of("timeout"), text).is_err());
        }
    }

    #[test]
    fn lifetimes_refuse_centuries_and_the_past() {
        assert_eq!(
            parse_expiry("6m", now()).unwrap_err(),
            "write 6min for minutes, or 180d for six months"
        );
        assert_eq!(
            parse_expiry("90min", now()),
            Ok(Some(now() + Duration::minutes(90)))
        );
        assert_eq!(
            parse_expiry("1000y", now()).unwrap_err(),
            "use a duration from 1s to 100y, or never (e.g. 30d)"
        );
        assert_eq!(
            parse_expiry("3000-01-01", now()).unwrap_err(),
            "it is more than 100 years away; use never for a token that does not expire"
        );
        assert!(parse_expiry("100y", now()).is_ok());
        assert_eq!(parse_expiry("none", now()), Ok(None));
        assert_eq!(
            parse_expiry("2020-01-01", now()).unwrap_err(),
            "it is in the past"
        );
        assert!(parse_expiry("0s", now()).is_err());
        assert!(
            parse_expiry("tomorrow", now())
                .unwrap_err()
                .starts_with("use a duration such as 30d, a date")
        );
        assert_eq!(
            parse_expiry("2027-02-30", now()).unwrap_err(),
            "not a valid date or time (e.g. 2027-01-31 or 2027-01-31T12:00:00Z)"
        );
        assert_eq!(
            read(&accepts_of("grace"), "0m").unwrap_err(),
            "write 0min for minutes"
        );
    }

    #[test]
    fn bad_durations_say_why() {
        let timeout = accepts_of("timeout");
        assert_eq!(
            read(&timeout, "30").unwrap_err(),
            "use a duration such as 10s; units: s, min, h, d, w, y"
        );
        assert!(
            read(&timeout, "3x")
                .unwrap_err()
                .contains("unknown unit \"x\"")
        );
        assert!(read(&timeout, "1.5d").unwrap_err().contains("unknown unit"));
        assert_eq!(
            read(&timeout, "2d").unwrap_err(),
            "use a duration from 1s to 1d (e.g. 10s)"
        );
        assert!(read(&timeout, "99999999999999y").is_err());
        assert!(read(&timeout, "").is_err());
        assert!(read(&timeout, "d").is_err());
    }

    #[test]
    fn expiry_forms() {
        assert_eq!(parse_expiry("never", now()), Ok(None));
        assert_eq!(
            parse_expiry("30d", now()),
            Ok(Some(now() + Duration::days(30)))
        );
        assert_eq!(
            parse_expiry("2027-01-31", now()),
            Ok(Some(Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap()))
        );
        assert_eq!(
            parse_expiry("2027-01-31T12:30:00+02:00", now()),
            Ok(Some(Utc.with_ymd_and_hms(2027, 1, 31, 10, 30, 0).unwrap()))
        );
    }

    #[test]
    fn since_forms() {
        assert_eq!(parse_since("7d", now()), Ok(now() - Duration::days(7)));
        assert_eq!(
            parse_since("2026-11-01", now()),
            Ok(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap())
        );
        assert!(parse_since("yesterday", now()).is_err());
        assert!(parse_since("never", now()).is_err());
        assert!(parse_since("5m", now()).unwrap_err().contains("5min"));
        assert_eq!(
            parse_expiry_within("6m", now(), Some(Duration::days(90))).unwrap_err(),
            "write 6min for minutes"
        );
        assert_eq!(
            parse_expiry_within("6m", now(), Some(Duration::days(365))).unwrap_err(),
            "write 6min for minutes, or 180d for six months"
        );
        assert_eq!(
            parse_expiry_within("6m", now(), None).unwrap_err(),
            "write 6min for minutes, or 180d for six months"
        );
    }

    #[test]
    fn the_refusal_names_the_option_and_the_variable() {
        assert_eq!(
            refusal(
                "timeout",
                "1m",
                Some("TOKENS_TIMEOUT"),
                "write 1min for minutes"
            ),
            "invalid --timeout \"1m\" (from TOKENS_TIMEOUT): write 1min for minutes"
        );
        assert_eq!(
            refusal("grace", "6m", None, "write 6min for minutes"),
            "invalid --grace \"6m\": write 6min for minutes"
        );
    }

    #[test]
    fn durations_read_back_as_written() {
        for text in ["90d", "1y", "14d", "12h", "15min", "90s", "1d"] {
            let duration = parse_duration(text).unwrap();
            assert_eq!(format_duration(duration), text);
        }
        assert_eq!(format_duration(Duration::minutes(5)), "5min");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panic(text in "\\PC*") {
            let _ = parse_duration(&text);
            let _ = parse_expiry(&text, now());
            let _ = parse_since(&text, now());
            for option in OPTIONS {
                let _ = read(&option.accepts, &text);
            }
        }

        #[test]
        fn number_and_unit_round_trip(count in 0i64..1_000, unit in "s|min|h|d|w|y") {
            let seconds = UNITS.iter().find(|(name, _)| *name == unit).unwrap().1;
            prop_assert_eq!(parse_duration(&format!("{count}{unit}")), Ok(Duration::seconds(count * seconds)));
        }

        #[test]
        fn what_is_printed_reads_back(seconds in 0i64..MAX_SECONDS) {
            let duration = Duration::seconds(seconds);
            prop_assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
        }
    }
}
