//! One duration grammar (SPEC §3): every option and environment variable that takes a duration
//! or a time, read off the clap definition, refuses a bare `m` in one line that names it and
//! says what to write, takes `min`, `h`, `d`, `w` and `y`, takes `never` and `none` where no
//! limit is meant, and reads back what the tool prints.

mod common;

use clap::{CommandFactory, Parser};
use common::{Sandbox, code, json, stderr, stdout};
use tokens::cli::Cli;
use tokens::duration::{Accepts, OPTIONS};

/// One duration-taking option as clap defines it: the subcommands before it and its long name.
#[derive(Debug)]
struct Found {
    path: Vec<String>,
    long: String,
    positionals: usize,
}

/// Every option of every user-facing (sub)command that looks like it takes a duration or a
/// time: its value name says so, its help gives a duration, or the table lists it.
fn duration_options() -> Vec<Found> {
    fn walk(command: &clap::Command, path: &mut Vec<String>, found: &mut Vec<Found>) {
        let positionals = command.get_positionals().count();
        for arg in command.get_arguments() {
            // A fixed set of values (--color WHEN) is no duration.
            let Some(long) = arg
                .get_long()
                .filter(|_| arg.get_possible_values().is_empty())
            else {
                continue;
            };
            let value_name = arg
                .get_value_names()
                .map(|names| names.join(" "))
                .unwrap_or_default();
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let says_duration = value_name.contains("DURATION")
                || value_name.contains("WHEN")
                || help.to_lowercase().contains("duration")
                || help
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|word| {
                        word.len() > 1
                            && word.starts_with(|c: char| c.is_ascii_digit())
                            && ["s", "min", "h", "d", "w", "y", "m"]
                                .contains(&word.trim_start_matches(|c: char| c.is_ascii_digit()))
                    });
            if says_duration || tokens::duration::option(long).is_some() {
                found.push(Found {
                    path: path.clone(),
                    long: long.to_owned(),
                    positionals,
                });
            }
        }
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            path.push(sub.get_name().to_owned());
            walk(sub, path, found);
            path.pop();
        }
    }
    let mut found = Vec::new();
    walk(&Cli::command(), &mut Vec::new(), &mut found);
    found
}

fn accepts(long: &str) -> Accepts {
    tokens::duration::option(long)
        .unwrap_or_else(|| panic!("--{long} takes a duration but is not in duration::OPTIONS"))
        .accepts
}

/// The command line that gives `value` to `found`: its subcommands, a value for each
/// positional, and what the option needs beside it.
fn line(found: &Found, value: &str) -> Vec<String> {
    let mut line: Vec<String> = found.path.clone();
    line.extend((0..found.positionals).map(|_| "x".to_owned()));
    if found.long == "clear-after" {
        line.push("--copy".into());
    }
    line.push(format!("--{}", found.long));
    line.push(value.to_owned());
    if found.path.is_empty() {
        line.push("list".into());
    }
    line
}

/// What clap (and main, which prints it after `tokens: `) makes of `line`: Ok, or the message.
fn parse(line: &[String]) -> Result<(), String> {
    let args: Vec<std::ffi::OsString> = std::iter::once("tokens".into())
        .chain(line.iter().map(Into::into))
        .collect();
    match Cli::try_parse_from(args.clone()) {
        Ok(_) => Ok(()),
        Err(error) => Err(tokens::cli::one_line_usage_error(
            &error.render().to_string(),
            &args,
        )),
    }
}

/// What the refusal of `6m` suggests: minutes, and six months where 180 days is allowed.
fn six_m_advice(accepts: &Accepts) -> &'static str {
    if accepts.max >= chrono::Duration::days(180) {
        "write 6min for minutes, or 180d for six months"
    } else {
        "write 6min for minutes"
    }
}

#[test]
fn every_duration_option_of_the_clap_definition_is_in_the_table_and_the_table_in_clap() {
    let found = duration_options();
    for option in &found {
        accepts(&option.long);
    }
    for option in OPTIONS {
        assert!(
            found.iter().any(|found| found.long == option.long),
            "--{} is in duration::OPTIONS but no command takes it",
            option.long
        );
    }
    // The ones this file was written for, so that a lost one is noticed.
    for long in [
        "timeout",
        "clear-after",
        "expires",
        "grace",
        "expiring",
        "unused",
        "since",
        "max-lifetime",
        "default-lifetime",
    ] {
        assert!(found.iter().any(|found| found.long == long), "--{long}");
    }
    assert!(found.len() >= 13, "{found:?}");
}

#[test]
fn bare_m_is_refused_by_every_duration_option_with_what_it_takes() {
    for found in duration_options() {
        let accepts = accepts(&found.long);
        assert_eq!(
            parse(&line(&found, "6m")),
            Err(format!(
                "invalid --{} \"6m\": {}",
                found.long,
                six_m_advice(&accepts)
            )),
            "{found:?}"
        );
        for refused in ["1m", "6M", "6mo", "6mins", "1.5h", "6", "m"] {
            let message = parse(&line(&found, refused)).expect_err(refused);
            assert!(
                message.starts_with(&format!("invalid --{} \"{refused}\": ", found.long)),
                "{found:?} {refused}: {message}"
            );
        }
    }
}

#[test]
fn every_unit_and_never_where_the_option_allows_them() {
    let units = [
        ("s", 1),
        ("min", 60),
        ("h", 3_600),
        ("d", 86_400),
        ("w", 7 * 86_400),
        ("y", 365 * 86_400),
    ];
    for found in duration_options() {
        let accepts = accepts(&found.long);
        for count in [0i64, 1, 6, 90] {
            for (unit, seconds) in units {
                let value = format!("{count}{unit}");
                let length = chrono::Duration::seconds(count * seconds);
                let fits = length >= accepts.min && length <= accepts.max;
                let parsed = parse(&line(&found, &value));
                assert_eq!(parsed.is_ok(), fits, "{found:?} {value}: {parsed:?}");
                if let Err(message) = parsed {
                    assert!(
                        message.starts_with(&format!("invalid --{} \"{value}\": use ", found.long)),
                        "{message}"
                    );
                }
            }
        }
        for word in ["never", "none", "Never"] {
            let parsed = parse(&line(&found, word));
            assert_eq!(
                parsed.is_ok(),
                accepts.never,
                "{found:?} {word}: {parsed:?}"
            );
        }
        let date = parse(&line(&found, "2099-01-31"));
        assert_eq!(date.is_ok(), accepts.times, "{found:?}: {date:?}");
    }
}

#[test]
fn the_binary_refuses_each_option_in_one_line_and_names_the_variable() {
    let sandbox = Sandbox::sqlite();
    for found in duration_options() {
        let args = line(&found, "6m");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 2, "{args:?}");
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: invalid --{} \"6m\": {}\n",
                found.long,
                six_m_advice(&accepts(&found.long))
            ),
            "{args:?}"
        );
    }
    for option in OPTIONS {
        let Some(variable) = option.env else { continue };
        let output = sandbox.cmd(&["list"]).env(variable, "1m").output().unwrap();
        assert_eq!(code(&output), 2);
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: invalid --{} \"1m\" (from {variable}): write 1min for minutes\n",
                option.long
            )
        );
        // Written on the command line, the value is the command line's.
        let output = sandbox.run(&["list", &format!("--{}", option.long), "1m"], "");
        assert_eq!(
            stderr(&output),
            format!(
                "tokens: invalid --{} \"1m\": write 1min for minutes\n",
                option.long
            )
        );
    }
    assert!(!sandbox.vault_exists(), "nothing was made");
}

/// The value `policy` prints for KEY, whatever the width of the key column.
fn shown_value(shown: &str, key: &str) -> String {
    shown
        .lines()
        .find_map(|line| {
            let (first, rest) = line.split_once(char::is_whitespace)?;
            (first == key).then(|| rest.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {key} in {shown}"))
}

#[test]
fn what_the_policy_prints_pastes_back() {
    let sandbox = Sandbox::new();
    let set = sandbox.run(
        &[
            "policy",
            "set",
            "--max-lifetime",
            "90min",
            "--default-lifetime",
            "5min",
            "--max-refresh-window",
            "36h",
            "--default-refresh-window",
            "90min",
        ],
        "",
    );
    assert_eq!(code(&set), 0, "{}", stderr(&set));
    let shown = stdout(&sandbox.run(&["policy"], ""));
    let keys = [
        ("max-lifetime", "90min"),
        ("default-lifetime", "5min"),
        ("max-refresh-window", "36h"),
        ("default-refresh-window", "90min"),
    ];
    for (key, value) in keys {
        assert_eq!(shown_value(&shown, key), value, "{shown}");
    }
    let policy = json(&sandbox.run(&["--json", "policy"], ""));
    assert_eq!(policy["max_lifetime"], "90min");
    assert_eq!(policy["max_lifetime_seconds"], 5400);
    assert_eq!(policy["default_lifetime"], "5min");
    assert_eq!(policy["default_lifetime_seconds"], 300);
    assert_eq!(policy["max_refresh_window"], "36h");
    assert_eq!(policy["max_refresh_window_seconds"], 129_600);
    assert_eq!(policy["default_refresh_window"], "90min");
    assert_eq!(policy["default_refresh_window_seconds"], 5400);
    // Each printed value, given back, changes nothing.
    for (key, _) in keys {
        let value = shown_value(&shown, key);
        let again = sandbox.run(&["policy", "set", &format!("--{key}"), &value], "");
        assert_eq!(code(&again), 0, "{}", stderr(&again));
    }
    assert_eq!(json(&sandbox.run(&["--json", "policy"], "")), policy);
    // never and none both lift a maximum; what is printed then reads back too.
    for key in [
        "max-lifetime",
        "max-refresh-window",
        "default-refresh-window",
    ] {
        for word in ["never", "none"] {
            let lifted = sandbox.run(&["policy", "set", &format!("--{key}"), word], "");
            assert_eq!(code(&lifted), 0, "{}", stderr(&lifted));
            let shown = stdout(&sandbox.run(&["policy"], ""));
            let printed = shown_value(&shown, key);
            let printed = printed.split(' ').next().unwrap_or_default();
            let again = sandbox.run(&["policy", "set", &format!("--{key}"), printed], "");
            assert_eq!(code(&again), 0, "{key} {printed}: {}", stderr(&again));
            let set = sandbox.run(&["policy", "set", &format!("--{key}"), "2h"], "");
            assert_eq!(code(&set), 0, "{}", stderr(&set));
        }
    }
}

#[test]
fn a_relative_time_shows_two_units_when_the_larger_is_one_to_nine() {
    let sandbox = Sandbox::new();
    sandbox.create("short", &["--expires", "90min"]);
    sandbox.create("days", &["--expires", "76h"]);
    sandbox.create("month", &["--expires", "30d"]);
    for (name, expected) in [
        ("short", "(in 1h 30min)"),
        ("days", "(in 3d 4h)"),
        ("month", "(in 30d)"),
    ] {
        let shown = stdout(&sandbox.run(&["show", name], ""));
        let expires = shown
            .lines()
            .find(|line| line.starts_with("expires"))
            .unwrap();
        assert!(expires.ends_with(expected), "{expires}");
    }
}

#[test]
fn an_expiry_in_the_past_is_refused_naming_the_option_and_the_value() {
    let sandbox = Sandbox::new();
    for args in [
        &["create", "x", "--expires", "2020-01-01"][..],
        &["create", "x", "--expires", "2999-01-01"][..],
    ] {
        let output = sandbox.run(args, "");
        assert_eq!(code(&output), 2);
        assert!(
            stderr(&output).starts_with(&format!("tokens: invalid --expires \"{}\": ", args[3])),
            "{}",
            stderr(&output)
        );
    }
    assert!(!sandbox.vault_exists());
}
