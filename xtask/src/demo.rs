//! A seeded demo organisation — candor on SQLite in a local folder, and the pretend
//! intranet of `candor-demo` — for `cargo xtask demo`, and the same set-up under the
//! end-to-end tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::Tools;
use crate::{cargo, output, root, run, spawn, target_dir};

/// A running demo: the candor server and the pretend intranet.
#[derive(Debug)]
pub struct Running {
    children: Vec<Child>,
    /// The candor server.
    pub candor_url: String,
    /// The pretend intranet.
    pub intranet_url: String,
    /// candor's configuration file.
    pub config: PathBuf,
    /// The open round.
    pub round: String,
    /// The leader's one-time sign-in link.
    pub leader_link: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }
}

/// The environment every candor command of the demo runs with: where it listens, which
/// intranet may frame the widget, where the built front ends are. (The generated
/// candor.toml stays as `candor init` wrote it.)
struct Env {
    vars: Vec<(&'static str, String)>,
}

impl Env {
    fn candor(&self, bin: &Path, config: &Path, args: &[&str]) -> Result<String, String> {
        let mut command = Command::new(bin);
        command.arg("--config").arg(config).args(args).envs(self.vars.iter().map(|(k, v)| (*k, v)));
        output(&mut command).map(|out| out.trim().to_owned())
    }
}

fn in_days(days: u32) -> Result<String, String> {
    output(Command::new("date").args(["-u", "-d", &format!("+{days} days"), "+%F"]))
        .map(|d| d.trim().to_owned())
}

/// Sets up a fresh demo organisation in `dir` and starts it: candor (`bin`) and the
/// pretend intranet (`intranet_bin`, `candor-demo intranet`).
pub fn start(
    dir: &Path,
    bin: &Path,
    intranet_bin: &Path,
    candor_port: u16,
    intranet_port: u16,
    send_delay_minutes: u32,
    tokens_per_person: u32,
) -> Result<Running, String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = dir.join("candor.toml");
    let candor_url = format!("http://127.0.0.1:{candor_port}");
    let intranet_url = format!("http://127.0.0.1:{intranet_port}");
    let env = Env {
        vars: vec![
            ("CANDOR_LISTEN", format!("127.0.0.1:{candor_port}")),
            ("CANDOR_INTRANET_ORIGINS", intranet_url.clone()),
            ("CANDOR_WEB_DIR", root().join("dist").display().to_string()),
        ],
    };
    env.candor(bin, &config, &["init", "--public-url", &candor_url])?;
    let key = dir.join("intranet.key");
    let key_arg = key.to_str().ok_or("non-UTF-8 path")?;
    let jwks = dir.join("intranet-jwks.json");
    env.candor(
        bin,
        &config,
        &["assertion", "keygen", "--key", key_arg, "--jwks", jwks.to_str().ok_or("path")?],
    )?;
    let round = env.candor(
        bin,
        &config,
        &[
            "round",
            "open",
            "--scope",
            "acme/eng",
            "--team",
            "acme/eng/platform",
            "--team",
            "acme/eng/web",
            "--question",
            "What should your leaders hear?",
            "--rating",
            "enps",
            "--closes",
            &in_days(14)?,
            "--send-delay-minutes",
            &send_delay_minutes.to_string(),
            "--tokens-per-person",
            &tokens_per_person.to_string(),
        ],
    )?;
    let round = round.lines().last().unwrap_or_default().to_owned();
    let leader_link =
        env.candor(bin, &config, &["leader", "add", "--name", "Dana Scully", "--scope", "acme/eng"])?;
    let leader_link = leader_link.lines().last().unwrap_or_default().to_owned();

    let log = |name: &str| std::fs::File::create(dir.join(format!("{name}.log"))).map_err(|e| e.to_string());
    let mut running = Running {
        children: Vec::new(),
        candor_url: candor_url.clone(),
        intranet_url,
        config: config.clone(),
        round,
        leader_link,
    };
    let server = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .envs(env.vars.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::null())
        .stdout(log("serve")?)
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start candor serve: {e}"))?;
    running.children.push(server);
    let intranet = Command::new(intranet_bin)
        .args(["intranet", "--listen", &format!("127.0.0.1:{intranet_port}"), "--candor-url", &candor_url])
        .arg("--web-dir")
        .arg(root().join("dist"))
        .args(["--key", key_arg])
        .arg("--org-key-file")
        .arg(dir.join("keys/organisation.pub"))
        .stdin(Stdio::null())
        .stdout(log("intranet")?)
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start the demo intranet: {e}"))?;
    running.children.push(intranet);
    for port in [candor_port, intranet_port] {
        wait_for(port)?;
    }
    Ok(running)
}

fn wait_for(port: u16) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listens on port {port} after 30 s"))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// `cargo xtask demo`.
pub fn demo() -> Result<(), String> {
    // The server builds beside the tools and the widget: on a fresh machine a newcomer's
    // first demo waits for the longest of them, not for their sum. It is the build the
    // tests use (the dev profile, with the crypto crates optimised): fast enough for a
    // demo, and built once for both.
    let server = spawn(
        "build candor and the demo intranet",
        cargo(&["build", "--locked", "-p", "candor-server", "-p", "candor-demo"]),
        "build-candor",
    )?;
    let tools = crate::tools::ensure_all()?;
    let sizes = crate::web::build(&tools)?;
    server.finish()?;
    let port =
        |name: &str, default: u16| std::env::var(name).ok().and_then(|p| p.parse().ok()).unwrap_or(default);
    let demo = start(
        &root().join("demo"),
        &target_dir().join("debug/candor"),
        &target_dir().join("debug/candor-demo"),
        port("CANDOR_DEMO_PORT", 8080),
        port("CANDOR_DEMO_INTRANET_PORT", 8081),
        1,
        1,
    )?;
    println!(
        "\nCandor demo is running ({sizes}).\n\n\
         Employees (pretend intranet, pick a person): {}/\n\
         Leader digest (one-time sign-in link):       {}\n\
         Operator: target/debug/candor --config {} round list | round close {}\n\n\
         Feedback is released to the leader when the round closes. Press Ctrl-C to stop.",
        demo.intranet_url,
        demo.leader_link,
        demo.config.display(),
        demo.round
    );
    let mut demo = demo;
    if let Some(server) = demo.children.first_mut() {
        let _ = server.wait();
    }
    Ok(())
}

/// The end-to-end tests: a demo organisation on free ports, driven by Playwright.
pub fn end_to_end(tools: &Tools, only: &[String]) -> Result<(), String> {
    // Each test runs alone too: `cargo xtask e2e PATTERN` runs the tests whose names match.
    let mut args = vec!["--test".to_owned(), "--test-concurrency=1".to_owned()];
    args.extend(only.iter().map(|pattern| format!("--test-name-pattern={pattern}")));
    args.push("tests/".to_owned());
    let result = with_demo(tools, 1, &args, |node| run("end-to-end tests (headless Chromium)", node));
    if result.is_ok() {
        println!("== screenshots in {}", root().join("target/e2e").display());
    }
    result
}

/// Runs `node ARGS` in e2e/ against a demo organisation on free ports (its round
/// giving each person `tokens_per_person`), with the environment the harness
/// (e2e/lib/harness.mjs) reads.
pub fn with_demo<T>(
    tools: &Tools,
    tokens_per_person: u32,
    args: &[String],
    go: impl FnOnce(Command) -> Result<T, String>,
) -> Result<T, String> {
    run("build candor", cargo(&["build", "--locked", "-p", "candor-server", "-p", "candor-demo"]))?;
    let bin = target_dir().join("debug/candor");
    let out = root().join("target/e2e");
    let org = out.join("org");
    let intranet = target_dir().join("debug/candor-demo");
    let demo = start(&org, &bin, &intranet, free_port()?, free_port()?, 1, tokens_per_person)?;
    let org_key = std::fs::read_to_string(org.join("keys/organisation.pub")).map_err(|e| e.to_string())?;
    let mut node = Command::new("node");
    node.args(args)
        .current_dir(root().join("e2e"))
        .env("PATH", &tools.path)
        .env("CHROMIUM", &tools.chromium)
        .env("CANDOR_URL", &demo.candor_url)
        .env("INTRANET_URL", &demo.intranet_url)
        .env("CANDOR_BIN", &bin)
        .env("CANDOR_CONFIG", &demo.config)
        .env("CANDOR_INTRANET_ORIGINS", &demo.intranet_url)
        .env("CANDOR_WEB_DIR", root().join("dist"))
        .env("DEMO_BIN", target_dir().join("debug/candor-demo"))
        .env("INTRANET_KEY", org.join("intranet.key"))
        .env("ORG_KEY", org_key.trim())
        .env("ORG_SECRET_KEY", org.join("keys/organisation.key"))
        .env("WEB_DIR", root().join("dist/widget"))
        .env("DEMO_ROUND", &demo.round)
        .env("LEADER_LINK", &demo.leader_link)
        .env("E2E_OUTPUT", &out);
    let result = go(node);
    drop(demo);
    result
}
