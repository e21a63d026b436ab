//! The `candor` binary as an operator uses it.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

fn candor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_candor"))
        .current_dir(dir)
        .env_remove("CANDOR_CONFIG")
        .args(args)
        .output()
        .expect("run candor")
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    let top = ok(candor(dir.path(), &["--help"]));
    for command in ["init", "serve", "round", "leader", "assertion"] {
        assert!(top.contains(command), "{command} missing from:\n{top}");
    }
    for (args, expect) in [
        (&["round", "--help"][..], &["open", "close", "list"][..]),
        (
            &["round", "open", "--help"],
            &["--scope", "--question", "--rating", "--closes", "--threshold", "--tokens-per-person"],
        ),
        (&["leader", "add", "--help"], &["--name", "--scope"]),
        (&["assertion", "mint", "--help"], &["--key", "--subject", "--scope", "--ttl"]),
        (&["serve", "--help"], &["--listen", "--database", "--config"]),
    ] {
        let help = ok(candor(dir.path(), args));
        for flag in expect {
            assert!(help.contains(flag), "{flag} missing from {args:?}:\n{help}");
        }
    }
}

#[test]
fn an_operator_sets_up_runs_and_closes_a_round() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init = ok(candor(d, &["init", "--public-url", "http://127.0.0.1:9"]));
    assert!(init.contains("organisation public key"));
    for key in ["organisation.key", "receipt.key", "server.secret"] {
        let path = d.join("keys").join(key);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{key}");
        let secret = std::fs::read_to_string(&path).unwrap();
        assert!(!init.contains(secret.trim()), "init printed {key}");
    }
    assert!(!candor(d, &["init"]).status.success(), "init never overwrites");

    ok(candor(d, &["assertion", "keygen", "--key", "intranet.key", "--jwks", "intranet-jwks.json"]));
    let assertion = ok(candor(
        d,
        &["assertion", "mint", "--key", "intranet.key", "--subject", "a", "--scope", "acme/eng"],
    ));
    assert_eq!(assertion.trim().split('.').count(), 3);

    let closes = (chrono::Utc::now() + chrono::Duration::days(5)).format("%Y-%m-%d").to_string();
    let round = ok(candor(
        d,
        &[
            "round",
            "open",
            "--scope",
            "acme/eng",
            "--question",
            "How are we doing?",
            "--rating",
            "likert",
            "--closes",
            &closes,
        ],
    ));
    let round = round.trim();
    assert_eq!(round.len(), 32);
    let list = ok(candor(d, &["round", "list"]));
    assert!(list.contains(round) && list.contains("open"), "{list}");
    let refused = candor(
        d,
        &["round", "open", "--scope", "acme", "--question", "q", "--closes", &closes, "--threshold", "2"],
    );
    assert!(!refused.status.success());

    let link = ok(candor(d, &["leader", "add", "--name", "Dana", "--scope", "acme/eng"]));
    assert!(link.starts_with("http://127.0.0.1:9/digest/#signin="), "{link}");

    let closed = ok(candor(d, &["round", "close", round]));
    assert!(closed.contains("released: 0 items from 0 tokens"), "{closed}");
    assert!(ok(candor(d, &["round", "list"])).contains("released"));
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(candor(d, &["init"]));
    ok(candor(d, &["assertion", "keygen", "--key", "intranet.key", "--jwks", "intranet-jwks.json"]));
    let child = Command::new(env!("CARGO_BIN_EXE_candor"))
        .current_dir(d)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it listens, then ask it to stop.
    let started = std::time::Instant::now();
    while !d.join("candor.db").exists() && started.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(logs.contains("listening on") && logs.contains("shut down"), "{logs}");
}
