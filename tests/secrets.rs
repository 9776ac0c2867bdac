//! Secrets (SPEC §2, §3, §6): after a full lifecycle, no secret and no hash of one is in any
//! error, log line, `--json` of list/show/log, the event log, or the vault's files (database,
//! WAL, shared memory); a running `verify` keeps no copy of a token it has answered; and no
//! child process gets a secret through its arguments or environment.

mod common;

use std::io::{Read, Seek, SeekFrom, Write};
use std::process::{Output, Stdio};

use sha2::{Digest, Sha256};

use common::*;

/// The 32-character secret of `tk_<id>_<secret><check>` or `tks_<id>_<secret><check>`.
fn secret_of(credential: &str) -> &str {
    let start = credential.find('_').unwrap() + 1 + 12 + 1;
    &credential[start..start + 32]
}

/// Standard base64, to look for a hash written that way.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// Every secret the lifecycle made, and what must never appear of it.
#[derive(Default)]
struct Secrets {
    /// Whole credentials, allowed only on the stdout of the command that issued them.
    credentials: Vec<String>,
}

impl Secrets {
    fn add(&mut self, issued: &Issued) {
        self.credentials.push(issued.token.clone());
        self.credentials.extend(issued.secret_key.clone());
    }

    /// Text that must not appear anywhere: each secret (and any 8 characters of it: the masked
    /// form shows only the last 4) and its SHA-256 as hex and base64.
    fn forbidden(&self) -> Vec<String> {
        let mut forbidden = Vec::new();
        for credential in &self.credentials {
            let secret = secret_of(credential);
            forbidden.extend((0..=24).map(|start| secret[start..start + 8].to_owned()));
            let hash = Sha256::digest(secret.as_bytes());
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            forbidden.push(hex.to_uppercase());
            forbidden.push(hex);
            forbidden.push(base64(&hash));
            forbidden.push(base64(&hash).replace('+', "-").replace('/', "_"));
        }
        forbidden
    }

    fn assert_absent(&self, place: &str, haystack: &[u8]) {
        for needle in self.forbidden() {
            assert!(
                !contains(haystack, &needle),
                "{place} holds {needle:?} of a secret:\n{}",
                String::from_utf8_lossy(haystack)
            );
        }
    }
}

/// What one command printed, and whether it issued the credentials it printed.
struct Printed {
    args: String,
    output: Output,
    issued: Option<Issued>,
}

#[test]
fn no_secret_or_hash_reaches_outputs_logs_or_the_vault_files() {
    let sandbox = Sandbox::sqlite();
    let mut secrets = Secrets::default();
    let printed: std::cell::RefCell<Vec<Printed>> = Default::default();
    let issued_by_last =
        |issued: &Issued| printed.borrow_mut().last_mut().unwrap().issued = Some(issued.clone());
    let run = |args: &[&str], stdin: &str, env: &[(&str, &str)]| -> Output {
        let mut command = sandbox.cmd(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.write_stdin(stdin.to_owned()).output().unwrap();
        printed.borrow_mut().push(Printed {
            args: args.join(" "),
            output: output.clone(),
            issued: None,
        });
        output
    };

    let ci = sandbox.create("ci", &["--app", "ci", "--scope", "read"]);
    secrets.add(&ci);
    // A reader that stays open keeps every later change in the WAL, so the WAL is scanned too.
    let holder = sandbox.db();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM tokens", [], |row| row.get(0))
        .unwrap();

    let output = run(&["--json", "create", "bot", "--app", "bot"], "", &[]);
    let document = json(&output);
    let bot = Issued {
        token: document["token"].as_str().unwrap().to_owned(),
        secret_key: document["secret_key"].as_str().map(str::to_owned),
    };
    secrets.add(&bot);
    issued_by_last(&bot);

    // verify: good, from every source, as JSON and in a batch; then bad in every way.
    let token_file = sandbox.path("token.txt");
    std::fs::write(&token_file, format!("{}\n", ci.token)).unwrap();
    let line = format!("{}\n", ci.token);
    assert_eq!(code(&run(&["verify"], &line, &[])), 0);
    assert_eq!(
        code(&run(
            &["verify", "--token-env", "PRESENTED"],
            "",
            &[("PRESENTED", &ci.token)]
        )),
        0
    );
    assert_eq!(
        code(&run(
            &["verify", "--token-file", token_file.to_str().unwrap()],
            "",
            &[]
        )),
        0
    );
    assert_eq!(
        code(&run(&["--json", "verify", "--scope", "read"], &line, &[])),
        0
    );
    assert_eq!(code(&run(&["verify", "--scope", "write"], &line, &[])), 6);
    let mut bad_checksum = ci.token.clone();
    let last = if bad_checksum.ends_with('A') {
        "B"
    } else {
        "A"
    };
    bad_checksum.replace_range(bad_checksum.len() - 1.., last);
    let wrong_secret = sandbox.create("unrelated", &[]);
    secrets.add(&wrong_secret);
    let unknown = Sandbox::sqlite().create("elsewhere", &[]);
    secrets.add(&unknown);
    let forged = format!("{}{}", &ci.token[..16], &wrong_secret.token[16..]);
    for bad in [
        &bad_checksum,
        &forged,
        &unknown.token,
        &format!("{} trailing", ci.token),
    ] {
        let output = run(&["verify"], &format!("{bad}\n"), &[]);
        assert!([3].contains(&code(&output)), "{}", stderr(&output));
        run(&["--json", "verify"], &format!("{bad}\n"), &[]);
    }
    let batch: String = [&ci.token, &bad_checksum, &forged, &unknown.token]
        .iter()
        .map(|token| format!("{token}\n"))
        .collect();
    assert_eq!(code(&run(&["verify", "--batch"], &batch, &[])), 0);
    // A credential on the command line is refused without being echoed.
    assert_eq!(code(&run(&["verify", &ci.token], "", &[])), 2);
    assert_eq!(
        code(&run(
            &["verify", &format!("--token-env={}", ci.token)],
            "",
            &[]
        )),
        2
    );

    // rotate and refresh issue new credentials; refresh also refuses in every way.
    let output = run(&["rotate", "ci", "--yes"], "", &[]);
    assert_eq!(code(&output), 0);
    let ci2 = parse_issued(&output);
    secrets.add(&ci2);
    issued_by_last(&ci2);
    let pair = |issued: &Issued| {
        format!(
            "{}\n{}\n",
            issued.token,
            issued.secret_key.as_deref().unwrap()
        )
    };
    let output = run(&["refresh"], &pair(&ci2), &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let ci3 = parse_issued(&output);
    secrets.add(&ci3);
    issued_by_last(&ci3);
    // The old pair again: reuse detected, the lineage revoked.
    assert_eq!(code(&run(&["refresh"], &pair(&ci2), &[])), 5);
    let output = run(
        &[
            "--json",
            "refresh",
            "--token-env",
            "T",
            "--secret-key-env",
            "K",
        ],
        "",
        &[("T", &bot.token), ("K", bot.secret_key.as_deref().unwrap())],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let document = json(&output);
    let bot2 = Issued {
        token: document["token"].as_str().unwrap().to_owned(),
        secret_key: document["secret_key"].as_str().map(str::to_owned),
    };
    secrets.add(&bot2);
    issued_by_last(&bot2);
    let mismatched = format!(
        "{}\n{}\n",
        bot2.token,
        wrong_secret.secret_key.as_deref().unwrap()
    );
    assert_eq!(code(&run(&["refresh"], &mismatched, &[])), 3);
    assert_eq!(code(&run(&["verify"], &line, &[])), 5);

    // Management and reading commands.
    for args in [
        vec![
            "edit",
            "bot",
            "--note",
            "owned by the platform team",
            "--add-scope",
            "write",
        ],
        vec!["revoke", "unrelated", "--yes", "--reason", "test"],
        vec!["list"],
        vec!["list", "--all"],
        vec!["--json", "list", "--all"],
        vec!["show", "ci"],
        vec!["show", "bot"],
        vec!["--json", "show", "ci"],
        vec!["--json", "show", "bot"],
        vec!["log"],
        vec!["--json", "log"],
        vec!["--json", "log", "ci"],
        vec!["show", "no-such-token"],
        vec!["rotate", "ci", "--yes"],
    ] {
        run(&args, "", &[]);
    }

    let printed = printed.into_inner();
    for Printed {
        args,
        output,
        issued,
    } in &printed
    {
        secrets.assert_absent(&format!("stderr of `{args}`"), &output.stderr);
        match issued {
            None => secrets.assert_absent(&format!("stdout of `{args}`"), &output.stdout),
            Some(issued) => {
                // Only the credentials this command issued, and no hash.
                let mut rest = stdout(output);
                for own in [Some(&issued.token), issued.secret_key.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        rest.contains(own.as_str()),
                        "`{args}` did not print its credential"
                    );
                    rest = rest.replace(own.as_str(), "");
                }
                secrets.assert_absent(&format!("stdout of `{args}`"), rest.as_bytes());
            }
        }
        if args.starts_with("--json") && !stdout(output).is_empty() {
            let text = stdout(output);
            assert!(!text.contains("hash"), "`{args}` has a hash field: {text}");
        }
    }

    // The event log, read directly.
    let mut statement = holder
        .prepare("SELECT coalesce(token_id, '') || ' ' || kind || ' ' || detail FROM events")
        .unwrap();
    let events: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(events.len() >= 10, "{events:?}");
    secrets.assert_absent("the event log", events.join("\n").as_bytes());
    drop(statement);

    // The vault's files, while the WAL still holds most of the lifecycle; then once checkpointed.
    assert!(
        std::fs::metadata(sandbox.path("vault.db-wal"))
            .unwrap()
            .len()
            > 0
    );
    let forbidden_in_files: Vec<String> = secrets
        .credentials
        .iter()
        .flat_map(|credential| {
            let secret = secret_of(credential);
            // The last 4 characters are kept for the masked form; no 8 in a row are.
            (0..=24)
                .map(|start| secret[start..start + 8].to_owned())
                .chain([credential.clone()])
                .collect::<Vec<_>>()
        })
        .collect();
    let scan = |when: &str| {
        let bytes = sandbox.vault_bytes();
        for needle in &forbidden_in_files {
            assert!(
                !contains(&bytes, needle),
                "the vault files hold {needle:?} ({when})"
            );
        }
        bytes.len()
    };
    let scanned_with_wal = scan("with the WAL");
    drop(holder);
    sandbox
        .db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    scan("checkpointed");
    eprintln!(
        "secrets: {} commands' output, {} events and {scanned_with_wal} bytes of vault files \
         scanned for {} credentials; found: 0",
        printed.len(),
        events.len(),
        secrets.credentials.len()
    );
}

/// Readable memory of process `pid`, region by region (needs ptrace access: our own child).
fn process_memory(pid: u32) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem"))?;
    let mut regions = Vec::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (range, perms) = (fields[0], fields[1]);
        let name = fields.get(5).copied().unwrap_or("[anonymous]");
        if !perms.starts_with('r') || name == "[vvar]" || name == "[vsyscall]" {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut bytes = vec![0u8; (end - start) as usize];
        mem.seek(SeekFrom::Start(start))?;
        if mem.read_exact(&mut bytes).is_ok() {
            regions.push((format!("{range} {name}"), bytes));
        }
    }
    Ok(regions)
}

/// Waits until process `pid` sits blocked in `read` (of stdin: SQLite reads the vault with
/// `pread`), as `/proc/PID/syscall` shows, and has read nothing more for a while.
fn wait_until_reading_stdin(pid: u32) -> std::io::Result<()> {
    #[cfg(target_arch = "x86_64")]
    const READ: &str = "0 ";
    #[cfg(target_arch = "aarch64")]
    const READ: &str = "63 ";
    let state = || -> std::io::Result<(bool, String)> {
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall"))?;
        let io = std::fs::read_to_string(format!("/proc/{pid}/io"))?;
        let read_bytes = io
            .lines()
            .find(|line| line.starts_with("rchar:"))
            .unwrap_or("")
            .to_owned();
        Ok((syscall.starts_with(READ), read_bytes))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut quiet = 0;
    let mut last = state()?;
    while quiet < 5 {
        if std::time::Instant::now() > deadline {
            return Err(std::io::Error::other(
                "verify never settled into reading stdin",
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(40));
        let now = state()?;
        quiet = if now.0 && now == last { quiet + 1 } else { 0 };
        last = now;
    }
    Ok(())
}

#[test]
fn verify_keeps_no_copy_of_a_token_it_has_answered() {
    let sandbox = Sandbox::sqlite();
    let good = sandbox.create("good", &["--no-secret-key"]);
    let revoked = sandbox.create("revoked", &["--no-secret-key"]);
    assert_eq!(code(&sandbox.run(&["revoke", "revoked", "--yes"], "")), 0);
    let unknown = Sandbox::sqlite().create("elsewhere", &["--no-secret-key"]);
    let forged = format!("{}{}", &good.token[..16], &unknown.token[16..]);
    let mut bad_checksum = good.token.clone();
    let last = if bad_checksum.ends_with('A') {
        "B"
    } else {
        "A"
    };
    bad_checksum.replace_range(bad_checksum.len() - 1.., last);
    let presented = [
        &good.token,
        &revoked.token,
        &unknown.token,
        &forged,
        &bad_checksum,
    ];

    let mut child = sandbox
        .process(&["verify", "--batch"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    // All the tokens at once, then stdin is kept open: once verify blocks reading stdin again,
    // it has read and judged every line (its answers wait in its stdout buffer until the end).
    let mut stdin = child.stdin.take().unwrap();
    let input: String = presented.iter().map(|token| format!("{token}\n")).collect();
    stdin.write_all(input.as_bytes()).unwrap();
    let memory = wait_until_reading_stdin(child.id()).and_then(|()| process_memory(child.id()));
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), presented.len());
    let memory = match memory {
        Ok(memory) => memory,
        Err(error) => {
            skip(&format!(
                "cannot read the memory of a child process here ({error})"
            ));
            return;
        }
    };
    let mut scanned = 0;
    for (region, bytes) in &memory {
        scanned += bytes.len();
        for token in presented {
            let secret = secret_of(token);
            assert!(
                !contains(bytes, secret),
                "a secret is still in memory after verify answered: {region}"
            );
        }
    }
    assert!(scanned > 100_000, "scanned only {scanned} bytes");
    eprintln!(
        "secrets: {scanned} bytes of a running verify --batch scanned for {} answered secrets; found: 0",
        presented.len()
    );
}

fn all_arguments_and_environments() -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        for part in ["cmdline", "environ"] {
            if let Ok(bytes) = std::fs::read(entry.path().join(part)) {
                found.push((format!("/proc/{name}/{part}"), bytes));
            }
        }
    }
    found
}

#[test]
fn no_child_process_gets_a_secret_in_its_arguments_or_environment() {
    let sandbox = Sandbox::sqlite();
    let display = Xvfb::start();
    let with_display = |args: &[&str], stdin: &str, env: &[(&str, &str)]| {
        let mut command = sandbox.cmd(args);
        command.env("DISPLAY", &display.display);
        for (name, value) in env {
            command.env(name, value);
        }
        command.write_stdin(stdin.to_owned()).output().unwrap()
    };
    // create --copy, then refresh from environment variables with --copy: a clipboard helper
    // (if the clipboard starts one) must get the token on a pipe, and not inherit T and K.
    let output = with_display(&["create", "ci", "--copy", "--clear-after", "2s"], "", &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "{}The token is also on the clipboard for 2s.\n",
            sandbox.created_notice()
        )
    );
    let first = parse_issued(&output);
    let key = first.secret_key.clone().unwrap();
    let output = with_display(
        &[
            "refresh",
            "--token-env",
            "T",
            "--secret-key-env",
            "K",
            "--copy",
            "--clear-after",
            "2s",
        ],
        "",
        &[
            ("T", &first.token),
            ("K", &key),
            ("PGPASSWORD", "hunter2-ci"),
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let second = parse_issued(&output);
    std::thread::sleep(std::time::Duration::from_millis(300));

    // The helper outlives the command holding a token: it keeps only what reaches the display.
    let mut helper_environments = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !contains(&cmdline, "__serve-clipboard") {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        helper_environments += 1;
        let names: Vec<String> = environ
            .split(|&byte| byte == 0)
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let text = String::from_utf8_lossy(pair);
                text.split('=').next().unwrap_or_default().to_owned()
            })
            .collect();
        for name in &names {
            assert!(
                [
                    "DISPLAY",
                    "XAUTHORITY",
                    "WAYLAND_DISPLAY",
                    "XDG_RUNTIME_DIR",
                    "HOME"
                ]
                .contains(&name.as_str()),
                "the clipboard helper inherited {name} (all: {names:?})"
            );
        }
    }
    assert!(
        helper_environments >= 1,
        "no clipboard helper's environment was read"
    );

    let processes = all_arguments_and_environments();
    let secrets: Vec<&str> = [&first.token, &key, &second.token]
        .into_iter()
        .chain(second.secret_key.as_ref())
        .map(|credential| secret_of(credential))
        .collect();
    for (place, bytes) in &processes {
        for secret in &secrets {
            assert!(!contains(bytes, secret), "{place} holds a secret");
        }
    }
    // The scan must have seen a clipboard helper itself: the refresh's (it lives 2 s; the
    // create's ended when the refresh took the clipboard).
    let helpers = processes
        .iter()
        .filter(|(_, bytes)| contains(bytes, "__serve-clipboard"))
        .count();
    assert!(
        helpers >= 1,
        "no clipboard helper was running to be scanned"
    );
    eprintln!(
        "secrets: arguments and environments of {} processes scanned after create/refresh --copy \
         (under Xvfb, {helpers} clipboard helpers among them); found: 0",
        processes.len() / 2,
    );
}
