//! Hostile input to the commands that read credentials: endless lines, bytes that are not
//! text, a device where a file should be, a credential where a variable's name should be.
//! Each is refused quickly, with the right exit code and one line that echoes nothing secret.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// Runs `tokens ARGS` with stdin from `stdin_file`, within `limit`.
fn run_with_stdin_file(sandbox: &Sandbox, args: &[&str], stdin_file: &str) -> std::process::Output {
    let started = Instant::now();
    let output = sandbox
        .process(args)
        .stdin(Stdio::from(std::fs::File::open(stdin_file).unwrap()))
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{args:?} took {:?}",
        started.elapsed()
    );
    output
}

#[test]
fn an_endless_line_is_refused_without_reading_it_all() {
    let sandbox = Sandbox::new();
    sandbox.create("x", &[]);
    for args in [vec!["verify"], vec!["refresh"]] {
        let output = run_with_stdin_file(&sandbox, &args, "/dev/zero");
        assert_eq!(code(&output), 3, "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
        assert!(
            stderr(&output).contains("malformed: its line is longer than 4096 bytes"),
            "{}",
            stderr(&output)
        );
    }
    // A batch answers the line `malformed` at once, in flat memory, and goes on reading for the
    // next line (SPEC §8): from `/dev/zero` there is none, so it is stopped here.
    use std::io::BufRead;
    let mut batch = sandbox
        .process(&["verify", "--batch"])
        .stdin(Stdio::from(std::fs::File::open("/dev/zero").unwrap()))
        .spawn()
        .unwrap();
    let mut answer = String::new();
    std::io::BufReader::new(batch.stdout.take().unwrap())
        .read_line(&mut answer)
        .unwrap();
    assert_eq!(
        answer,
        "{\"app\":null,\"detail\":\"the token is malformed: its line is longer than 4096 bytes\",\"expires_at\":null,\"id\":null,\"meta\":null,\"name\":null,\"reason\":\"malformed\",\"scopes\":null,\"uses_left\":null,\"valid\":false}\n"
    );
    std::thread::sleep(Duration::from_millis(300)); // reading on, and on
    let status = std::fs::read_to_string(format!("/proc/{}/status", batch.id())).unwrap();
    let resident_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap();
    assert!(resident_kib < 64 * 1024, "{resident_kib} KiB resident");
    batch.kill().unwrap();
    batch.wait().unwrap();
    let output = sandbox.run(&["verify", "--token-file", "/dev/zero"], "");
    assert_eq!(code(&output), 3, "{}", stderr(&output));
}

#[test]
fn a_batch_answers_an_over_long_line_malformed_and_goes_on() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("x", &[]);
    let input = format!(
        "{}\n{}\n{}\n{}",
        issued.token,
        "A".repeat(100_000),
        issued.token,
        "B".repeat(50_000) // an endless line, cut short by the end of input
    );
    let output = sandbox.run(&["verify", "--batch"], &input);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let reasons: Vec<String> = stdout(&output)
        .lines()
        .map(|line| json_line(line)["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["ok", "malformed", "ok", "malformed"]);
}

fn json_line(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap()
}

#[test]
fn bytes_that_are_not_text_are_a_malformed_token() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("x", &[]);
    let mut input = issued.token.as_bytes().to_vec();
    input[10] = 0xff;
    input.push(b'\n');
    let output = sandbox
        .cmd(&["verify"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stderr(&output).contains("malformed"), "{}", stderr(&output));
    let mut batch = input.clone();
    batch.extend_from_slice(format!("{}\n", issued.token).as_bytes());
    let output = sandbox
        .cmd(&["verify", "--batch"])
        .write_stdin(batch)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0);
    let reasons: Vec<&str> = stdout(&output)
        .lines()
        .map(|line| {
            if line.contains("\"ok\"") {
                "ok"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(reasons, ["other", "ok"]);
    let file = sandbox.path("binary");
    std::fs::write(&file, &input).unwrap();
    let output = sandbox.run(&["verify", "--token-file", file.to_str().unwrap()], "");
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    for noise in [
        "\0\0\0\n",
        "\u{1b}[31mtk_\n",
        "tk_\u{202e}abc\n",
        "\n",
        "   \n",
    ] {
        let (code, stderr) = sandbox.verify(noise.trim_end_matches('\n'), &[]);
        assert_eq!(code, 3, "{noise:?}: {stderr}");
        assert!(
            !stderr.contains('\u{1b}'),
            "control characters echoed: {stderr:?}"
        );
    }
}

#[test]
fn a_folder_or_a_credential_where_a_name_belongs_is_refused() {
    let sandbox = Sandbox::new();
    let issued = sandbox.create("x", &[]);
    let folder = sandbox.dir.path().to_str().unwrap().to_owned();
    // A file that cannot be read is an I/O error, as the README puts it: exit 1.
    let output = sandbox.run(&["verify", "--token-file", &folder], "");
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot read the token from"));
    for args in [
        vec!["verify", "--token-env", issued.token.as_str()],
        vec!["verify", "--token-file", issued.token.as_str()],
        vec![
            "refresh",
            "--token-env",
            issued.secret_key.as_deref().unwrap(),
        ],
    ] {
        let output = sandbox.run(&args, "");
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("was given as an argument"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains(&issued.token[16..48]), "echoed");
    }
    // A file or variable whose name merely starts like a credential is used as usual.
    let file = sandbox.path("tk_ci.txt");
    std::fs::write(&file, format!("{}\n", issued.token)).unwrap();
    let output = sandbox.run(&["verify", "--token-file", "tk_ci.txt"], "");
    let output_in_dir = sandbox
        .cmd(&["verify", "--token-file", "tk_ci.txt"])
        .current_dir(sandbox.dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&output), 1, "no such file here: {}", stderr(&output));
    assert_eq!(code(&output_in_dir), 0, "{}", stderr(&output_in_dir));
    let output = sandbox
        .cmd(&["verify", "--token-env", "tk_TOKEN"])
        .env("tk_TOKEN", &issued.token)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}
