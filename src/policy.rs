//! The vault's rules (SPEC §9, `tokens policy`): kept in the vault, so on PostgreSQL one
//! `policy set` binds every admin. Pure: the checks take `now` and the token's fields.

pub use crate::duration::format_duration;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// What a vault without rules gives a new token when `--expires` is left out.
pub const BUILT_IN_LIFETIME: Duration = Duration::days(30);

/// The rules; the default is no rule at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The longest a token may have ahead of it (at creation, edit, rotation); `None`: any.
    pub max_lifetime: Option<Duration>,
    /// What `create` gives without `--expires`; `None`: [`BUILT_IN_LIFETIME`].
    pub default_lifetime: Option<Duration>,
    /// Every token must name an app.
    pub require_app: bool,
    /// The only scopes a token may have; `None`: any.
    pub scopes: Option<Vec<String>>,
    /// The longest refresh window a token may have (create, edit; capped at rotate and
    /// refresh); `None`: any, `never` included.
    pub max_refresh_window: Option<Duration>,
    /// The refresh window `create` gives; `None`: the maximum, else no limit.
    pub default_refresh_window: Option<Duration>,
}

/// A rule a token breaks, said in one line that names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// `max-lifetime`, `require-app` or `scopes`: the `policy set` option that made the rule.
    pub rule: &'static str,
    /// Why a token with these fields is refused (create, edit).
    pub why: String,
    /// What is wrong with a token that exists, in a few words (`policy check`).
    pub found: String,
    /// The `tokens edit` options that make the token keep the rule: `--expires 90d`.
    pub fix: String,
}

impl Policy {
    /// The lifetime `create` gives when `--expires` is left out.
    pub fn default_lifetime(&self) -> Duration {
        let lifetime = self.default_lifetime.unwrap_or(BUILT_IN_LIFETIME);
        self.max_lifetime.map_or(lifetime, |max| lifetime.min(max))
    }

    /// Refuses (exit 2, naming the first rule broken) a token these fields would make.
    pub fn enforce(
        &self,
        app: Option<&str>,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> crate::error::Result<()> {
        match self
            .breaches(app, scopes, expires_at, now)
            .into_iter()
            .next()
        {
            Some(breach) => Err(crate::error::Error::Usage(breach.why)),
            None => Ok(()),
        }
    }

    /// The rules a token with these fields breaks at `now` (the first of each rule).
    pub fn breaches(
        &self,
        app: Option<&str>,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Vec<Breach> {
        let mut breaches = Vec::new();
        if let Some(breach) = self.lifetime_breach(expires_at, now) {
            breaches.push(breach);
        }
        if self.require_app && app.is_none() {
            breaches.push(Breach {
                rule: "require-app",
                why: "the vault's policy requires an app (require-app); give one with --app".into(),
                found: "it has no app, and the policy requires one".into(),
                fix: "--app APP".into(),
            });
        }
        if let Some(allowed) = &self.scopes {
            let refused: Vec<&str> = scopes
                .iter()
                .filter(|scope| !allowed.contains(scope))
                .map(String::as_str)
                .collect();
            if let Some(scope) = refused.first() {
                let allowed = if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(",")
                };
                breaches.push(Breach {
                    rule: "scopes",
                    why: format!(
                        "the scope \"{scope}\" is not allowed by the vault's policy (scopes: \
                         {allowed}); leave it out"
                    ),
                    found: format!("the policy allows only the scopes {allowed}"),
                    fix: format!("--remove-scope {}", refused.join(",")),
                });
            }
        }
        breaches
    }

    /// The lifetime rule alone: an expiry further from `now` than the maximum, or none at all.
    pub fn lifetime_breach(
        &self,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<Breach> {
        let max = self.max_lifetime?;
        let too_long = match expires_at {
            None => true,
            Some(at) => at - now > max,
        };
        let max = format_duration(max);
        too_long.then(|| Breach {
            rule: "max-lifetime",
            why: format!(
                "the vault's policy allows a lifetime of at most {max} (max-lifetime) and {}; \
                 give --expires {max} or less",
                match expires_at {
                    None => "this token would never expire".to_owned(),
                    Some(at) => format!("this one would last {}", format_length(at - now)),
                },
            ),
            found: format!(
                "{}, and the policy allows at most {max}",
                match expires_at {
                    None => "it never expires".to_owned(),
                    Some(at) => format!("it has {} left", format_length(at - now)),
                }
            ),
            fix: format!("--expires {max}"),
        })
    }

    /// The refresh window `create` gives a token with a secret key when `--refresh-window` is
    /// left out: the default, else the maximum, else none (`None`: no limit).
    pub fn default_refresh_window(&self) -> Option<Duration> {
        let window = self.default_refresh_window.or(self.max_refresh_window)?;
        Some(
            self.max_refresh_window
                .map_or(window, |max| window.min(max)),
        )
    }

    /// The refresh-window rule alone: a window longer than the maximum, or no limit at all.
    pub fn refresh_window_breach(&self, window: Option<Duration>) -> Option<Breach> {
        let limit = self.max_refresh_window?;
        let shown = window.map_or("never".to_owned(), format_duration);
        let max = format_duration(limit);
        window.is_none_or(|window| window > limit).then(|| Breach {
            rule: "max-refresh-window",
            why: format!(
                "the vault's policy allows a refresh window of at most {max} \
                 (max-refresh-window) and this one would be {shown}; give --refresh-window {max} or less",
            ),
            found: format!(
                "its refresh window is {shown}, and the policy allows at most {max}"
            ),
            fix: format!("--refresh-window {max}"),
        })
    }

    /// The refresh window rotate and refresh carry over to the next token (never refused):
    /// `window`, cut to the maximum.
    pub fn cap_refresh_window(&self, window: Option<Duration>) -> Option<Duration> {
        match (self.max_refresh_window, window) {
            (Some(max), Some(window)) => Some(window.min(max)),
            (max, window) => window.or(max),
        }
    }

    /// What rotate and refresh give the next token (never refused: an incident rotation must
    /// not be blocked): `wanted`, cut to the maximum lifetime from `now`.
    pub fn cap(&self, wanted: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match (self.max_lifetime, wanted) {
            (None, wanted) => wanted,
            (Some(max), Some(at)) if at - now <= max => Some(at),
            (Some(max), _) => Some(now + max),
        }
    }
}

/// How long a token would last, for a message: exact when a whole unit divides it (`91d`),
/// else in whole days or hours (`more than 26329d`), not `2274841644s`.
fn format_length(duration: Duration) -> String {
    let exact = format_duration(duration);
    match duration.num_seconds() {
        seconds if !exact.ends_with('s') || seconds < 3_600 => exact,
        seconds if seconds < 86_400 => format!("more than {}h", seconds / 3_600),
        seconds => format!("more than {}d", seconds / 86_400),
    }
}

/// `tokens policy --json`: the rules, durations as `--max-lifetime` reads them (and in seconds).
#[derive(Serialize)]
pub struct PolicyJson {
    pub max_lifetime: Option<String>,
    pub max_lifetime_seconds: Option<i64>,
    pub default_lifetime: String,
    pub default_lifetime_seconds: i64,
    pub require_app: bool,
    /// `null`: any scope.
    pub scopes: Option<Vec<String>>,
    /// `null`: no maximum.
    pub max_refresh_window: Option<String>,
    pub max_refresh_window_seconds: Option<i64>,
    /// What create gives; `null`: never (no limit).
    pub default_refresh_window: Option<String>,
    pub default_refresh_window_seconds: Option<i64>,
}

impl PolicyJson {
    pub fn of(policy: &Policy) -> PolicyJson {
        PolicyJson {
            max_lifetime: policy.max_lifetime.map(format_duration),
            max_lifetime_seconds: policy.max_lifetime.map(|max| max.num_seconds()),
            default_lifetime: format_duration(policy.default_lifetime()),
            default_lifetime_seconds: policy.default_lifetime().num_seconds(),
            require_app: policy.require_app,
            scopes: policy.scopes.clone(),
            max_refresh_window: policy.max_refresh_window.map(format_duration),
            max_refresh_window_seconds: policy.max_refresh_window.map(|max| max.num_seconds()),
            default_refresh_window: policy.default_refresh_window().map(format_duration),
            default_refresh_window_seconds: policy
                .default_refresh_window()
                .map(|window| window.num_seconds()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn no_rule_breaks_nothing_and_caps_nothing() {
        let policy = Policy::default();
        assert!(policy.breaches(None, &["x".into()], None, now()).is_empty());
        assert_eq!(policy.cap(None, now()), None);
        assert_eq!(policy.default_lifetime(), Duration::days(30));
    }

    #[test]
    fn each_rule_is_named() {
        let policy = Policy {
            max_lifetime: Some(Duration::days(90)),
            default_lifetime: None,
            require_app: true,
            scopes: Some(vec!["read".into()]),
            ..Policy::default()
        };
        let rules: Vec<&str> = policy
            .breaches(None, &["read".into(), "write".into()], None, now())
            .iter()
            .map(|breach| breach.rule)
            .collect();
        assert_eq!(rules, ["max-lifetime", "require-app", "scopes"]);
        let fine = policy.breaches(
            Some("ci"),
            &["read".into()],
            Some(now() + Duration::days(90)),
            now(),
        );
        assert!(fine.is_empty(), "{fine:?}");
        assert_eq!(
            policy.cap(None, now()),
            Some(now() + Duration::days(90)),
            "never is capped"
        );
        assert_eq!(
            policy.cap(Some(now() + Duration::days(10)), now()),
            Some(now() + Duration::days(10))
        );
    }

    #[test]
    fn refresh_windows_default_to_the_max_and_are_capped_by_it() {
        let days = Duration::days;
        assert_eq!(Policy::default().default_refresh_window(), None, "never");
        assert_eq!(Policy::default().refresh_window_breach(None), None);
        assert_eq!(Policy::default().cap_refresh_window(None), None);
        let bounded = Policy {
            max_refresh_window: Some(days(7)),
            ..Policy::default()
        };
        assert_eq!(bounded.default_refresh_window(), Some(days(7)));
        assert_eq!(bounded.cap_refresh_window(None), Some(days(7)));
        assert_eq!(bounded.cap_refresh_window(Some(days(30))), Some(days(7)));
        assert_eq!(bounded.cap_refresh_window(Some(days(1))), Some(days(1)));
        assert_eq!(bounded.refresh_window_breach(Some(days(7))), None);
        for too_long in [None, Some(days(8))] {
            let breach = bounded.refresh_window_breach(too_long).unwrap();
            assert_eq!(breach.rule, "max-refresh-window");
        }
        let with_default = Policy {
            default_refresh_window: Some(days(1)),
            ..bounded
        };
        assert_eq!(with_default.default_refresh_window(), Some(days(1)));
    }

    #[test]
    fn a_length_in_a_message_is_in_days_or_hours() {
        assert_eq!(format_length(Duration::days(91)), "91d");
        assert_eq!(
            format_length(Duration::seconds(2_274_841_644)),
            "more than 26329d"
        );
        assert_eq!(format_length(Duration::seconds(7_201)), "more than 2h");
        assert_eq!(format_length(Duration::seconds(90)), "90s");
    }
}
