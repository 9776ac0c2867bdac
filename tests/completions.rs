//! Shell completion: the scripts in `completions/` run in the real bash, zsh, fish and elvish,
//! and complete commands from the CLI definition and token names, ids, apps and scopes from a
//! vault. A missing shell fails these tests: they exist to run it (see
//! `.ci/packages.txt`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const BASH: &str = "completions/tokens.bash";
const ZSH: &str = "completions/_tokens";
const FISH: &str = "completions/tokens.fish";
const ELVISH: &str = "completions/tokens.elv";

/// A temporary home with a vault in it (folder 0700, as the tool insists).
struct Home {
    dir: TempDir,
    vault: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("vault");
        fs::create_dir(&folder).unwrap();
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o700)).unwrap();
        Home {
            vault: folder.join("vault.db"),
            dir,
        }
    }

    /// `tokens` against this vault.
    fn tokens(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::cargo_bin("tokens").unwrap();
        command
            .env("TOKENS_VAULT", &self.vault)
            .env("HOME", self.dir.path());
        command
    }

    /// Creates a token the way an admin's script would and returns its id.
    fn create(&self, name: &str, app: &str, scopes: &str) -> String {
        let output = self
            .tokens()
            .args(["create", name, "--app", app, "--scope", scopes, "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "tokens create {name} failed");
        let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        created["id"].as_str().unwrap().to_owned()
    }

    fn revoke(&self, name: &str) {
        self.tokens()
            .args(["revoke", name, "--yes"])
            .assert()
            .success();
    }

    /// A shell with `tokens` (this build) first on PATH, this vault in TOKENS_VAULT, a home and
    /// config folders of its own, in the repository (so file names are there to be offered).
    fn shell(&self, program: &str, package: &str) -> Command {
        require(program, package);
        let bin = Path::new(env!("CARGO_BIN_EXE_tokens")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new(program);
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("PATH", path)
            .env("TOKENS_VAULT", &self.vault)
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join(".config"))
            .env("XDG_DATA_HOME", self.dir.path().join(".local/share"))
            .env("XDG_CACHE_HOME", self.dir.path().join(".cache"))
            .env_remove("ZDOTDIR");
        command
    }

    /// What bash's completion offers at the end of `line` (tests/completions/complete.bash).
    fn bash(&self, line: &str) -> Vec<String> {
        let output = self
            .shell("bash", "bash")
            .args([
                "--norc",
                "--noprofile",
                "tests/completions/complete.bash",
                BASH,
                line,
            ])
            .output()
            .unwrap();
        candidates("bash", line, &output)
    }

    /// What zsh's completion offers at the end of `line`, with `_tokens` installed on $fpath
    /// (`fpath`) or sourced (`source`) (tests/completions/complete.zsh).
    fn zsh(&self, mode: &str, line: &str) -> Vec<String> {
        let output = self
            .shell("zsh", "zsh")
            .args(["-f", "tests/completions/complete.zsh", mode, ZSH, line])
            .output()
            .unwrap();
        sorted(candidates("zsh", line, &output))
    }

    /// What fish's completion offers at the end of `line` (`complete -C`), without descriptions.
    fn fish(&self, line: &str) -> Vec<String> {
        let output = self
            .shell("fish", "fish")
            .args(["--no-config", "-c", "source $SCRIPT; complete -C $LINE"])
            .env("SCRIPT", FISH)
            .env("LINE", line)
            .output()
            .unwrap();
        let offered = candidates("fish", line, &output);
        sorted(
            offered
                .iter()
                .map(|line| line.split('\t').next().unwrap().to_owned())
                .collect(),
        )
    }
}

/// Fails, saying how to fix it, when `program` is not installed.
fn require(program: &str, package: &str) {
    match Command::new(program).arg("-c").arg("exit 0").output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!("{program} -c 'exit 0' failed: {output:?}"),
        Err(error) => panic!(
            "{program} is needed to test its completion script, and cannot run ({error}): \
             install it with `apt-get install {package}` (.ci/packages.txt lists them all)"
        ),
    }
}

fn candidates(shell: &str, line: &str, output: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "{shell} completing {line:?}: {}\n{stderr}",
        output.status
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn sorted(mut words: Vec<String>) -> Vec<String> {
    words.sort();
    words
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

/// A vault with two live tokens and a revoked one; returns the live ones' ids.
fn vault_with_tokens(home: &Home) -> (String, String) {
    let alice = home.create("alice-laptop", "alice", "read");
    let ci = home.create("ci-deploy", "ci", "deploy:prod,read");
    home.create("old-bot", "bot", "write");
    home.revoke("old-bot");
    (alice, ci)
}

#[test]
fn every_script_parses_in_its_shell() {
    let home = Home::new();
    for (program, package, args, script) in [
        ("bash", "bash", &["-n"][..], BASH),
        ("zsh", "zsh", &["-n"][..], ZSH),
        ("fish", "fish", &["--no-config", "-n"][..], FISH),
    ] {
        let output = home
            .shell(program, package)
            .args(args)
            .arg(script)
            .output()
            .unwrap();
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{program} {args:?} {script}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_elvish_script_runs_and_offers_the_subcommands() {
    // Elvish's completion hooks live in its interactive editor (`edit:`), which `elvish -norc
    // FILE` lacks: stand-ins take the two names the script uses, then the completer is called
    // as the editor would call it on `tokens r<TAB>`.
    let home = Home::new();
    let script = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(ELVISH)).unwrap();
    let stand_ins =
        "var arg-completer = [&]\nfn complex-candidate {|text &display=''| put $text }\n";
    let call = "\n$arg-completer[tokens] tokens r | each {|candidate| echo $candidate }\n";
    let runnable = home.dir.path().join("tokens.elv");
    fs::write(
        &runnable,
        stand_ins.to_owned()
            + &script
                .replace("edit:completion:arg-completer", "arg-completer")
                .replace("edit:complex-candidate", "complex-candidate")
            + call,
    )
    .unwrap();
    let output = home
        .shell("elvish", "elvish")
        .arg("-norc")
        .arg(&runnable)
        .output()
        .unwrap();
    let offered = candidates("elvish", "tokens r", &output);
    for subcommand in [
        "create",
        "rotate",
        "revoke",
        "refresh",
        "verify",
        "completions",
    ] {
        assert!(
            offered.iter().any(|word| word == subcommand),
            "{subcommand}: {offered:?}"
        );
    }
    assert!(
        !offered.iter().any(|word| word.starts_with("__")),
        "{offered:?}"
    );
}

#[test]
fn bash_completes_subcommands_and_options() {
    let home = Home::new();
    assert_eq!(
        sorted(home.bash("tokens r")),
        strings(&["refresh", "revoke", "rotate"])
    );
    assert_eq!(home.bash("tokens revoke --re"), strings(&["--reason"]));
    assert_eq!(
        home.bash("tokens list --status "),
        strings(&[
            "active", "rotating", "disabled", "used_up", "expired", "revoked"
        ])
    );
    let offered = home.bash("tokens policy ");
    for action in ["check", "set"] {
        assert!(offered.iter().any(|word| word == action), "{offered:?}");
    }
    assert_eq!(
        home.bash("tokens rotate x --until"),
        strings(&["--until-used"])
    );
    assert_eq!(home.bash("tokens log --fol"), strings(&["--follow"]));
}

#[test]
fn bash_completes_live_token_names_then_ids() {
    let home = Home::new();
    let (alice, ci) = vault_with_tokens(&home);
    let live = strings(&["alice-laptop", "ci-deploy", &alice, &ci]);
    for command in ["revoke", "rotate", "show", "edit", "log"] {
        assert_eq!(home.bash(&format!("tokens {command} ")), live, "{command}");
    }
    assert_eq!(home.bash("tokens revoke ci"), strings(&["ci-deploy"]));
    assert_eq!(home.bash("tokens revoke old"), strings(&[]), "revoked");
    // revoke takes several; the ones given are not offered again
    assert_eq!(
        home.bash("tokens revoke ci-deploy "),
        strings(&["alice-laptop", &alice])
    );
    assert_eq!(
        home.bash("tokens --json rotate --grace 1h "),
        live,
        "after options and their values"
    );
}

#[test]
fn bash_completes_apps_and_scopes_in_use() {
    let home = Home::new();
    vault_with_tokens(&home);
    assert_eq!(home.bash("tokens list --app "), strings(&["alice", "ci"]));
    assert_eq!(home.bash("tokens revoke --all --app c"), strings(&["ci"]));
    assert_eq!(
        home.bash("tokens create x --scope "),
        strings(&["deploy:prod", "read"])
    );
    assert_eq!(
        home.bash("tokens edit ci-deploy --remove-scope "),
        strings(&["deploy:prod", "read"])
    );
    // Bash puts = and : in words of their own and replaces only what follows them.
    assert_eq!(home.bash("tokens list --app="), strings(&["alice", "ci"]));
    assert_eq!(home.bash("tokens list --app=a"), strings(&["alice"]));
    assert_eq!(
        home.bash("tokens verify --scope deploy:"),
        strings(&["prod"])
    );
    assert_eq!(
        home.bash("tokens verify --scope deploy:p"),
        strings(&["prod"])
    );
    // A comma-separated list: the scopes given are kept and not offered again.
    assert_eq!(
        home.bash("tokens create x --scope read,"),
        strings(&["read,deploy:prod"])
    );
}

#[test]
fn bash_reads_the_vault_named_on_the_command_line() {
    let home = Home::new();
    let (alice, ci) = vault_with_tokens(&home);
    let elsewhere = Home::new(); // whose TOKENS_VAULT does not exist
    let line = format!("tokens --vault {} show ", home.vault.display());
    assert_eq!(
        elsewhere.bash(&line),
        strings(&["alice-laptop", "ci-deploy", &alice, &ci])
    );
}

#[test]
fn no_vault_completes_nothing_silently() {
    let home = Home::new(); // no token created: no vault
    assert_eq!(home.bash("tokens revoke "), strings(&[]));
    assert_eq!(home.bash("tokens list --app "), strings(&[]));
    assert_eq!(home.zsh("source", "tokens revoke "), strings(&[]));
    assert_eq!(home.fish("tokens revoke "), strings(&[]));
    // and what needs no vault still completes
    assert_eq!(
        sorted(home.bash("tokens r")),
        strings(&["refresh", "revoke", "rotate"])
    );
}

#[test]
fn a_corrupt_or_unsafe_vault_completes_nothing_silently() {
    let home = Home::new();
    fs::write(&home.vault, "not a vault, not even SQLite\n").unwrap();
    fs::set_permissions(&home.vault, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(home.bash("tokens revoke "), strings(&[]));
    home.tokens()
        .args(["__complete", "--", "tokens", "revoke", ""])
        .assert()
        .success()
        .stdout("")
        .stderr("");

    let unsafe_home = Home::new();
    vault_with_tokens(&unsafe_home);
    let folder = unsafe_home.vault.parent().unwrap();
    fs::set_permissions(folder, fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(unsafe_home.bash("tokens revoke "), strings(&[]));
    fs::set_permissions(folder, fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn zsh_completes_from_fpath_and_when_sourced() {
    let home = Home::new();
    let (alice, ci) = vault_with_tokens(&home);
    for mode in ["fpath", "source"] {
        assert_eq!(
            home.zsh(mode, "tokens r"),
            strings(&["refresh", "revoke", "rotate"]),
            "{mode}"
        );
        assert_eq!(
            home.zsh(mode, "tokens revoke "),
            sorted(strings(&["alice-laptop", "ci-deploy", &alice, &ci])),
            "{mode}"
        );
        assert_eq!(
            home.zsh(mode, "tokens show ci"),
            strings(&["ci-deploy"]),
            "{mode}"
        );
        assert_eq!(
            home.zsh(mode, "tokens list --app "),
            strings(&["alice", "ci"]),
            "{mode}"
        );
        assert_eq!(
            home.zsh(mode, "tokens list --app="),
            strings(&["--app=alice", "--app=ci"]),
            "{mode}"
        );
        assert_eq!(
            home.zsh(mode, "tokens verify --scope deploy:"),
            strings(&["deploy:prod"]),
            "{mode}"
        );
    }
}

#[test]
fn fish_completes_tokens_apps_and_scopes() {
    let home = Home::new();
    let (alice, ci) = vault_with_tokens(&home);
    assert_eq!(
        home.fish("tokens r"),
        strings(&["refresh", "revoke", "rotate"])
    );
    for command in ["revoke", "rotate", "show", "edit", "log"] {
        assert_eq!(
            home.fish(&format!("tokens {command} ")),
            sorted(strings(&["alice-laptop", "ci-deploy", &alice, &ci])),
            "{command}"
        );
    }
    assert_eq!(home.fish("tokens list --app "), strings(&["alice", "ci"]));
    assert_eq!(home.fish("tokens list --app=a"), strings(&["--app=alice"]));
    assert_eq!(
        home.fish("tokens verify --scope deploy:"),
        strings(&["deploy:prod"])
    );
    assert_eq!(
        home.fish("tokens create x --scope read,"),
        strings(&["read,deploy:prod"])
    );
}

#[test]
fn the_helper_prints_live_tokens_with_descriptions() {
    let home = Home::new();
    let (alice, ci) = vault_with_tokens(&home);
    // A rotation in its grace period: two tokens of one name still verify.
    let output = home
        .tokens()
        .args(["rotate", "ci-deploy", "--grace", "1h", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let rotated: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let new_ci = rotated["id"].as_str().unwrap().to_owned();
    let mut ci_ids = [ci, new_ci]; // one name, so by id
    ci_ids.sort();
    let [first, second] = ci_ids;
    home.tokens()
        .args(["__complete", "--", "tokens", "revoke", ""])
        .assert()
        .success()
        .stderr("")
        .stdout(format!(
            "alice-laptop\tapp alice\nci-deploy\tapp ci\n{alice}\talice-laptop\n{first}\tci-deploy\n{second}\tci-deploy\n"
        ));
}

#[test]
fn the_helper_leaves_other_words_to_the_script() {
    let home = Home::new();
    vault_with_tokens(&home);
    for line in [
        &["tokens", ""][..],
        &["tokens", "create", ""],
        &["tokens", "list", "--st"],
    ] {
        home.tokens()
            .arg("__complete")
            .arg("--")
            .args(line)
            .assert()
            .code(1)
            .stdout("")
            .stderr("");
    }
}

#[test]
fn the_helper_offers_no_value_with_a_control_character_and_escapes_descriptions() {
    let home = Home::new();
    let alice = home.create("alice-laptop", "alice", "read");
    let bob = home.create("bob", "bob", "read");
    // Another program wrote control characters into the vault: a name that cannot be typed
    // (and would put a line break on the command line), and an app shown as a description.
    let db = rusqlite::Connection::open(&home.vault).unwrap();
    db.execute_batch(&format!(
        "UPDATE tokens SET app = 'a\u{1b}[2Jb' WHERE id = '{alice}';
         UPDATE tokens SET name = 'bob\nrm -rf ~', app = 'x\ty' WHERE id = '{bob}';"
    ))
    .unwrap();
    home.tokens()
        .args(["__complete", "--", "tokens", "revoke", ""])
        .assert()
        .success()
        .stderr("")
        .stdout(format!(
            "alice-laptop\tapp a\\x1b[2Jb\n{alice}\talice-laptop\n{bob}\tbob\\nrm -rf ~\n"
        ));
    home.tokens()
        .args(["__complete", "--", "tokens", "list", "--app", ""])
        .assert()
        .success()
        .stdout("");
}

/// Names, apps and scopes another program wrote straight into a shared vault, each of which a
/// shell would run, split or reinterpret if it were put on the command line as it is.
fn hostile_values(marker: &Path) -> Vec<String> {
    let marker = marker.display();
    vec![
        format!("$(touch {marker})"),
        format!("`touch {marker}`"),
        format!(";touch {marker}"),
        format!("x&&touch {marker}"),
        format!("x|touch {marker}"),
        format!("x\ntouch {marker}"),
        format!("x touch {marker}"),
        format!("'x'\"y\"{marker}"),
        "x>y".into(),
        "~root".into(),
        "${HOME}".into(),
        "*".into(),
    ]
}

#[test]
fn hostile_vault_values_are_never_offered_and_nothing_runs() {
    let home = Home::new();
    let ids: Vec<String> = (0..12)
        .map(|n| home.create(&format!("t{n}"), "fine-app", "fine"))
        .collect();
    let marker = home.dir.path().join("pwned");
    let db = rusqlite::Connection::open(&home.vault).unwrap();
    for (id, value) in ids.iter().zip(hostile_values(&marker)) {
        // The name, the app and a scope of each token: all three hostile.
        db.execute(
            "UPDATE tokens SET name = ?1, app = ?1, scopes = 'fine ' || ?2 WHERE id = ?3",
            rusqlite::params![
                value,
                value.split_whitespace().collect::<Vec<_>>().join("_"),
                id
            ],
        )
        .unwrap();
    }
    drop(db);
    let safe = home.create("safe", "fine-app", "fine");
    let mut all = ids.clone();
    all.extend([safe, "safe".to_owned()]);
    // What may be offered for a typed start: the ids and the one safe name (an id may well
    // begin with `t` or `x`).
    let fitting = |typed: &str| -> Vec<String> {
        sorted(
            all.iter()
                .filter(|value| value.starts_with(typed))
                .cloned()
                .collect(),
        )
    };

    // Only what the grammars allow: every id, and the one name, app and scope left whole.
    for typed in ["", "t", "x"] {
        let line = format!("tokens revoke {typed}");
        let expected = fitting(typed);
        assert_eq!(sorted(home.bash(&line)), expected, "bash {line:?}");
        assert_eq!(home.zsh("source", &line), expected, "zsh {line:?}");
        assert_eq!(home.fish(&line), expected, "fish {line:?}");
    }
    for (line, expected) in [
        ("tokens list --app ", "fine-app"),
        ("tokens create x --scope ", "fine"),
    ] {
        assert_eq!(home.bash(line), strings(&[expected]), "bash {line:?}");
        assert_eq!(
            home.zsh("source", line),
            strings(&[expected]),
            "zsh {line:?}"
        );
        assert_eq!(home.fish(line), strings(&[expected]), "fish {line:?}");
    }
    // The typed start of a hostile value completes to nothing from the vault. (The other
    // shells' own completion answers these words: fish offers variables after `$`.)
    for typed in ["$", "`", ";", "'", "~", "*"] {
        let line = format!("tokens revoke {typed}");
        assert!(home.bash(&line).is_empty(), "bash {line:?}");
    }
    assert!(
        !marker.exists(),
        "a completion ran a command from the vault"
    );
}
