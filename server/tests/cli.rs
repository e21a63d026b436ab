//! The `candor` binary as an operator uses it.

use std::io::{BufRead as _, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

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

fn fails(output: Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr).expect("utf-8")
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).format("%Y-%m-%d").to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    let top = ok(candor(dir.path(), &["--help"]));
    for command in ["init", "serve", "round", "leader", "assertion", "embed-snippet"] {
        assert!(top.contains(command), "{command} missing from:\n{top}");
    }
    for (args, expect) in [
        (&["round", "--help"][..], &["open", "prepare", "sign", "import", "close", "list"][..]),
        (
            &["round", "open", "--help"],
            &["--scope", "--team", "--question", "--rating", "--closes", "--threshold", "--sign-with"],
        ),
        (&["round", "prepare", "--help"], &["--scope", "--team", "--out"]),
        (&["round", "sign", "--help"], &["--key", "--out"]),
        (&["leader", "--help"], &["add", "link", "list", "revoke", "remove"]),
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
    assert_eq!(mode(&d.join("keys")), 0o700);
    for key in ["organisation.key", "receipt.key", "server.secret"] {
        let path = d.join("keys").join(key);
        assert_eq!(mode(&path), 0o600, "{key}");
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

    let closes = in_days(5);
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
    // The database lives in a folder only the server's user may enter.
    assert_eq!(mode(&d.join("data")), 0o700);
    assert_eq!(mode(&d.join("data/candor.db")), 0o600);
    let list = ok(candor(d, &["round", "list"]));
    assert!(list.lines().next().unwrap().trim_end().ends_with("TOKENS  ITEMS"), "{list}");
    assert!(list.contains(round) && list.contains("open"), "{list}");
    for refused in [
        &["round", "open", "--scope", "acme", "--question", "q", "--closes", &closes, "--threshold", "2"][..],
        &["round", "open", "--scope", "Not A Scope", "--question", "q", "--closes", &closes],
        &["round", "open", "--scope", "acme", "--question", "q", "--closes", "2026-02-30"],
        &["round", "close", "not-a-round-id"],
    ] {
        fails(candor(d, refused));
    }

    let link = ok(candor(d, &["leader", "add", "--name", "Dana", "--scope", "acme/eng"]));
    assert!(link.starts_with("http://127.0.0.1:9/digest/#signin="), "{link}");
    let leaders = ok(candor(d, &["leader", "list"]));
    let id = leaders.lines().nth(1).and_then(|line| line.split_whitespace().next()).unwrap().to_owned();
    assert!(leaders.contains("Dana") && leaders.contains("acme/eng"), "{leaders}");
    assert!(ok(candor(d, &["leader", "link", &id])).starts_with("http://127.0.0.1:9/digest/#signin="));
    assert!(ok(candor(d, &["leader", "revoke", &id])).contains("0 session(s)"));
    ok(candor(d, &["leader", "remove", &id]));
    assert!(!ok(candor(d, &["leader", "list"])).contains("Dana"));
    fails(candor(d, &["leader", "remove", &id]));

    let closed = ok(candor(d, &["round", "close", round]));
    assert!(closed.contains("released: 0 items from 0 tokens"), "{closed}");
    let list = ok(candor(d, &["round", "list"]));
    let line = list.lines().find(|l| l.contains(round)).unwrap();
    assert!(line.contains("released") && line.contains("yes"), "{list}");
}

/// A `candor serve` started in `dir`: its address once it listens (read from its own
/// log line, so no guessing when it is ready), and the child.
fn serve(dir: &Path) -> (std::process::Child, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_candor"))
        .current_dir(dir)
        .env_remove("CANDOR_CONFIG")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let address = loop {
        match received.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                if let Some(address) = line.split("listening on ").nth(1) {
                    break address.trim().to_owned();
                }
            }
            Err(_) => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("output");
                panic!("serve did not listen: {}", String::from_utf8_lossy(&output.stderr));
            }
        }
    };
    (child, address, received)
}

fn get(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

fn stop(child: std::process::Child, received: &std::sync::mpsc::Receiver<String>) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rest: Vec<String> = received.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("shut down")), "{rest:?}");
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(candor(d, &["init"]));
    ok(candor(d, &["assertion", "keygen", "--key", "intranet.key", "--jwks", "intranet-jwks.json"]));
    ok(candor(d, &["round", "open", "--scope", "acme", "--question", "q", "--closes", &in_days(3)]));
    let (child, address, received) = serve(d);
    assert!(get(&address, "/healthz").starts_with("HTTP/1.1 200"));
    // Another process reads the database while the server runs. The server's SQLite
    // connections keep their locks, so that process does not take itself for the last
    // one and delete the WAL the server is using (which lost every item stored after
    // it: found by the end-to-end tests, when the store reopened its own file after
    // connecting and so dropped its POSIX locks).
    // (With the bug, the first reads right after start-up could still find the server
    // holding a transaction's lock; reads over three seconds found the WAL deleted.)
    let wal = d.join("data/candor.db-wal");
    assert!(wal.exists(), "the server has its WAL open");
    let started = std::time::Instant::now();
    let mut reads = 0;
    while started.elapsed() < Duration::from_secs(3) {
        ok(candor(d, &["round", "list"]));
        reads += 1;
        assert!(
            wal.exists() && d.join("data/candor.db-shm").exists(),
            "read {reads} by the CLI deleted the server's WAL"
        );
    }
    assert!(get(&address, "/healthz").starts_with("HTTP/1.1 200"));
    stop(child, &received);
}

/// The organisation key never reaches the serving machine: the round is prepared where
/// the database is, signed elsewhere, imported, and served. Before, `candor serve`
/// refused to start without keys/organisation.key.
#[test]
fn the_organisation_key_can_live_on_another_machine() {
    let server = tempfile::tempdir().unwrap();
    let signer = tempfile::tempdir().unwrap();
    let (s, k) = (server.path(), signer.path());
    ok(candor(s, &["init", "--public-url", "http://127.0.0.1:9"]));
    ok(candor(s, &["assertion", "keygen", "--key", "intranet.key", "--jwks", "intranet-jwks.json"]));
    std::fs::rename(s.join("keys/organisation.key"), k.join("organisation.key")).unwrap();

    let closes = in_days(5);
    let spec = ["--scope", "acme/eng", "--team", "acme/eng/web", "--question", "q", "--closes", &closes];
    let refused = fails(candor(s, &[&["round", "open"][..], &spec].concat()));
    assert!(refused.contains("organisation.key"), "{refused}");
    let prepared = ok(candor(s, &[&["round", "prepare", "--out", "round.json"][..], &spec].concat()));
    let round = prepared.trim().to_owned();
    assert!(ok(candor(s, &["round", "list"])).contains("prepared"));
    fails(candor(s, &["round", "close", &round])); // not signed yet

    // On the signing machine: no configuration, no database.
    std::fs::copy(s.join("round.json"), k.join("round.json")).unwrap();
    ok(candor(k, &["round", "sign", "--key", "organisation.key", "round.json", "--out", "signed.json"]));
    assert!(!k.join("candor.db").exists() && !k.join("data").exists());
    // A manifest changed after signing is refused on import.
    let signed = std::fs::read_to_string(k.join("signed.json")).unwrap();
    std::fs::write(s.join("tampered.json"), signed.replace("\"threshold\": 5", "\"threshold\": 3")).unwrap();
    fails(candor(s, &["round", "import", "tampered.json"]));
    std::fs::write(s.join("signed.json"), signed).unwrap();
    assert_eq!(ok(candor(s, &["round", "import", "signed.json"])).trim(), round);
    assert!(ok(candor(s, &["round", "list"])).lines().any(|l| l.contains(&round) && l.contains("open")));

    assert!(!s.join("keys/organisation.key").exists());
    let (child, address, received) = serve(s);
    let rounds = get(&address, "/v1/rounds");
    let body = rounds.split("\r\n\r\n").nth(1).unwrap_or_default();
    let offered: Vec<candor_protocol::api::OpenRound> = serde_json::from_str(body).expect(body);
    let organisation = std::fs::read_to_string(s.join("keys/organisation.pub")).unwrap();
    let organisation =
        candor_protocol::keys::OrganisationPublicKey::from_base64(organisation.trim()).unwrap();
    let verified = offered[0].verify(&organisation).expect("the served round verifies");
    assert_eq!(verified.manifest.round.to_string(), round);
    assert_eq!(verified.keys.len(), 2);
    stop(child, &received);
}

#[test]
fn rounds_take_the_organisations_time_zone_from_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(candor(d, &["init"]));
    let config = std::fs::read_to_string(d.join("candor.toml")).unwrap();
    std::fs::write(
        d.join("candor.toml"),
        config.replace("time_zone = \"UTC\"", "time_zone = \"Pacific/Auckland\""),
    )
    .unwrap();
    let closes = in_days(5);
    ok(candor(
        d,
        &["round", "prepare", "--scope", "acme", "--question", "q", "--closes", &closes, "--out", "m.json"],
    ));
    let manifest: candor_protocol::manifest::RoundManifest =
        serde_json::from_str(&std::fs::read_to_string(d.join("m.json")).unwrap()).unwrap();
    assert_eq!(manifest.time_zone, "Pacific/Auckland");
    let after = manifest.closes.next().unwrap().utc_midnight();
    assert!(
        [12 * 3_600, 13 * 3_600].contains(&(after - manifest.closes_at)),
        "{}",
        after - manifest.closes_at
    );
    // An unknown zone is refused, by name.
    std::fs::write(
        d.join("candor.toml"),
        config.replace("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\""),
    )
    .unwrap();
    assert!(fails(candor(d, &["round", "list"])).contains("Mars/Olympus"));
    std::fs::write(d.join("candor.toml"), &config).unwrap();
    let env = Command::new(env!("CARGO_BIN_EXE_candor"))
        .current_dir(d)
        .env_remove("CANDOR_CONFIG")
        .env("CANDOR_TIME_ZONE", "Europe/Berlin")
        .args([
            "round",
            "prepare",
            "--scope",
            "acme",
            "--question",
            "q",
            "--closes",
            &closes,
            "--out",
            "b.json",
        ])
        .output()
        .unwrap();
    ok(env); // the environment wins over the file
    let manifest: candor_protocol::manifest::RoundManifest =
        serde_json::from_str(&std::fs::read_to_string(d.join("b.json")).unwrap()).unwrap();
    assert_eq!(manifest.time_zone, "Europe/Berlin");
}

#[test]
fn embed_snippet_pins_the_one_loader_by_its_sha384() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(candor(d, &["init", "--public-url", "https://candor.acme.example"]));
    let missing = fails(candor(d, &["embed-snippet"]));
    assert!(missing.contains("no loader"), "{missing}");
    let widget = d.join("dist/widget");
    std::fs::create_dir_all(&widget).unwrap();
    let loader = b"(function(){/* the loader */})();\n";
    let digest = sha2::Sha384::digest(loader);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    std::fs::write(widget.join(format!("embed-{hex}.js")), loader).unwrap();
    std::fs::write(widget.join("embed.js"), "not the pinned one").unwrap();
    let organisation = std::fs::read_to_string(d.join("keys/organisation.pub")).unwrap();
    let snippet = ok(candor(d, &["embed-snippet"]));
    assert_eq!(
        snippet.trim(),
        format!(
            "<script src=\"https://candor.acme.example/widget/embed-{hex}.js\" integrity=\"sha384-{}\" \
             crossorigin=\"anonymous\" async data-org-key=\"{}\" data-assertion=\"ASSERTION\"></script>",
            base64::engine::general_purpose::STANDARD.encode(digest),
            organisation.trim()
        )
    );
    std::fs::write(widget.join("embed-0000000000000000.js"), "an old build").unwrap();
    let two = fails(candor(d, &["embed-snippet"]));
    assert!(two.contains("2 loaders"), "{two}");
    std::fs::remove_file(widget.join(format!("embed-{hex}.js"))).unwrap();
    let wrong = fails(candor(d, &["embed-snippet"]));
    assert!(wrong.contains("does not hold what its name says"), "{wrong}");
}
