//! Durations (`30d`, `12h`) and expiry specifications (`30d`, `2027-01-31`, RFC 3339, `never`).
//!
//! Pure: the caller passes `now`, so expiry logic is testable without a clock.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A duration written as a whole number and a unit: `90s`, `15m` or `15min`, `12h`, `30d`, `2w`,
/// `1y` (365 days). A lifetime ([`parse_expiry`]) refuses `m`, which reads as months there.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("\"{text}\" has no unit (use s, min, h, d, w or y, e.g. 30d)"))?;
    let (number, unit) = text.split_at(unit_at);
    let count: i64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" does not start with a number (e.g. 30d)"))?;
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => {
            return Err(format!(
                "\"{text}\" has an unknown unit \"{unit}\" (use s, min, h, d, w or y)"
            ));
        }
    };
    // Bounded so that `now + duration` never overflows a timestamp.
    const MAX_SECONDS: i64 = 1_000 * 365 * 86_400;
    count
        .checked_mul(seconds_per_unit)
        .filter(|seconds| *seconds <= MAX_SECONDS)
        .map(Duration::seconds)
        .ok_or_else(|| format!("\"{text}\" is too long (at most 1000y)"))
}

/// When a token expires: at a time, or never.
pub type Expiry = Option<DateTime<Utc>>;

/// The longest lifetime a token can be given: beyond it, `never` says what is meant.
pub const MAX_LIFETIME_YEARS: i64 = 100;

/// Parses `--expires`: a duration from `now`, a date (00:00 UTC that day), an RFC 3339 time, or `never`.
/// The result must lie in the future and within [`MAX_LIFETIME_YEARS`]. `6m` is refused: minutes
/// where months were meant would end a token within the hour.
pub fn parse_expiry(text: &str, now: DateTime<Utc>) -> Result<Expiry, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let at = if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        date.and_hms_opt(0, 0, 0)
            .map(|naive| naive.and_utc())
            .ok_or_else(|| format!("\"{text}\" is not a valid date"))?
    } else if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        time.with_timezone(&Utc)
    } else if text.starts_with(|c: char| c.is_ascii_digit()) && !text.contains('-') {
        if let Some(count) = text.strip_suffix('m')
            && count.bytes().all(|byte| byte.is_ascii_digit())
        {
            return Err(format!(
                "\"{text}\" is ambiguous as a lifetime: write {count}min for minutes, or months as days or weeks (e.g. {}d)",
                count.parse::<i64>().unwrap_or(1).saturating_mul(30)
            ));
        }
        now + parse_duration(text)?
    } else {
        return Err(format!(
            "\"{text}\" is not a lifetime (use 30d, 12h, 2027-01-31, 2027-01-31T12:00:00Z or never)"
        ));
    };
    if at <= now {
        return Err(format!("\"{text}\" is in the past"));
    }
    if at - now > Duration::days(365 * MAX_LIFETIME_YEARS) {
        return Err(format!(
            "\"{text}\" is more than {MAX_LIFETIME_YEARS} years away; use never for a token that does not expire"
        ));
    }
    Ok(Some(at))
}

/// Parses `--since`: a duration back from `now` (`7d`), a date, or an RFC 3339 time.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(naive) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(naive.and_utc());
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    parse_duration(text)
        .map(|duration| now - duration)
        .map_err(|_| format!("\"{text}\" is not a time (use 7d, 2027-01-31 or an RFC 3339 time)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::seconds(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::minutes(15)));
        assert_eq!(parse_duration("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_duration("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_duration("2w"), Ok(Duration::days(14)));
        assert_eq!(parse_duration("1y"), Ok(Duration::days(365)));
        assert_eq!(parse_duration("0s"), Ok(Duration::zero()));
    }

    #[test]
    fn lifetimes_refuse_m_and_centuries() {
        assert_eq!(
            parse_expiry("6m", now()).unwrap_err(),
            "\"6m\" is ambiguous as a lifetime: write 6min for minutes, or months as days or weeks (e.g. 180d)"
        );
        assert_eq!(
            parse_expiry("90min", now()),
            Ok(Some(now() + Duration::minutes(90)))
        );
        assert_eq!(
            parse_expiry("1000y", now()).unwrap_err(),
            "\"1000y\" is more than 100 years away; use never for a token that does not expire"
        );
        assert!(parse_expiry("3000-01-01", now()).is_err());
        assert!(parse_expiry("100y", now()).is_ok());
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("d").unwrap_err().contains("number"));
        assert!(parse_duration("3x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("1.5d").unwrap_err().contains("unknown unit"));
        assert!(
            parse_duration("99999999999999y")
                .unwrap_err()
                .contains("too long")
        );
        assert!(parse_duration("").is_err());
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
    fn expiry_in_the_past_is_refused() {
        assert!(
            parse_expiry("2020-01-01", now())
                .unwrap_err()
                .contains("past")
        );
        assert!(parse_expiry("0s", now()).unwrap_err().contains("past"));
        assert!(
            parse_expiry("tomorrow", now())
                .unwrap_err()
                .contains("not a lifetime")
        );
        assert!(parse_expiry("2027-02-30", now()).is_err());
    }

    #[test]
    fn since_forms() {
        assert_eq!(parse_since("7d", now()), Ok(now() - Duration::days(7)));
        assert_eq!(
            parse_since("2026-11-01", now()),
            Ok(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap())
        );
        assert!(parse_since("yesterday", now()).is_err());
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panic(text in "\\PC*") {
            let _ = parse_duration(&text);
            let _ = parse_expiry(&text, now());
            let _ = parse_since(&text, now());
        }

        #[test]
        fn number_and_unit_round_trip(count in 0i64..1_000, unit in "[smhdwy]") {
            let seconds = match unit.as_str() {
                "s" => 1, "m" => 60, "h" => 3600, "d" => 86_400, "w" => 604_800, _ => 31_536_000,
            };
            prop_assert_eq!(parse_duration(&format!("{count}{unit}")), Ok(Duration::seconds(count * seconds)));
        }
    }
}
