//! A seeded demo organisation — candor on SQLite in a local folder, and a pretend
//! intranet — for `cargo xtask demo`, and the same set-up under the end-to-end tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::Tools;
use crate::{cargo, output, root, run};

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

fn candor(bin: &Path, config: &Path, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(bin);
    command.arg("--config").arg(config).args(args);
    output(&mut command).map(|out| out.trim().to_owned())
}

fn in_days(days: u32) -> Result<String, String> {
    output(Command::new("date").args(["-u", "-d", &format!("+{days} days"), "+%F"]))
        .map(|d| d.trim().to_owned())
}

/// Sets up a fresh demo organisation in `dir` and starts it.
pub fn start(
    dir: &Path,
    bin: &Path,
    candor_port: u16,
    intranet_port: u16,
    send_delay_minutes: u32,
) -> Result<Running, String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = dir.join("candor.toml");
    let candor_url = format!("http://127.0.0.1:{candor_port}");
    let intranet_url = format!("http://127.0.0.1:{intranet_port}");
    candor(bin, &config, &["init", "--public-url", &candor_url])?;
    let text = std::fs::read_to_string(&config)
        .map_err(|e| e.to_string())?
        .replace("listen = \"127.0.0.1:8080\"", &format!("listen = \"127.0.0.1:{candor_port}\""))
        .replace("intranet_origins = []", &format!("intranet_origins = [\"{intranet_url}\"]"))
        .replace("web_dir = \"dist\"", &format!("web_dir = \"{}\"", root().join("dist").display()));
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let key = dir.join("intranet.key");
    let key_arg = key.to_str().ok_or("non-UTF-8 path")?;
    let jwks = dir.join("intranet-jwks.json");
    candor(bin, &config, &["assertion", "keygen", "--key", key_arg, "--jwks", jwks.to_str().ok_or("path")?])?;
    let round = candor(
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
        ],
    )?;
    let leader_link =
        candor(bin, &config, &["leader", "add", "--name", "Dana Scully", "--scope", "acme/eng"])?;

    let spawn = |args: &[&str]| -> Result<Child, String> {
        Command::new(bin)
            .arg("--config")
            .arg(&config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join(format!("{}.log", args[0]))).map_err(|e| e.to_string())?)
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start candor {}: {e}", args[0]))
    };
    let mut running = Running {
        children: Vec::new(),
        candor_url,
        intranet_url,
        config: config.clone(),
        round,
        leader_link,
    };
    running.children.push(spawn(&["serve"])?);
    running.children.push(spawn(&[
        "demo-intranet",
        "--listen",
        &format!("127.0.0.1:{intranet_port}"),
        "--key",
        key_arg,
    ])?);
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
    let tools = crate::tools::ensure_all()?;
    let sizes = crate::web::build(&tools)?;
    run("build candor (release)", cargo(&["build", "--release", "--locked", "-p", "candor-server"]))?;
    let port =
        |name: &str, default: u16| std::env::var(name).ok().and_then(|p| p.parse().ok()).unwrap_or(default);
    let demo = start(
        &root().join("demo"),
        &root().join("target/release/candor"),
        port("CANDOR_DEMO_PORT", 8080),
        port("CANDOR_DEMO_INTRANET_PORT", 8081),
        1,
    )?;
    println!(
        "\nCandor demo is running ({sizes}).\n\n\
         Employees (pretend intranet, pick a person): {}/\n\
         Leader digest (one-time sign-in link):       {}\n\
         Operator: target/release/candor --config {} round list | round close {}\n\n\
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
pub fn end_to_end(tools: &Tools) -> Result<(), String> {
    run("build candor", cargo(&["build", "--locked", "-p", "candor-server"]))?;
    let bin = root().join("target/debug/candor");
    let out = root().join("target/e2e");
    let demo = start(&out.join("org"), &bin, free_port()?, free_port()?, 1)?;
    let mut node = Command::new("npm");
    node.args(["test"])
        .current_dir(root().join("e2e"))
        .env("PATH", &tools.path)
        .env("CHROMIUM", &tools.chromium)
        .env("CANDOR_URL", &demo.candor_url)
        .env("INTRANET_URL", &demo.intranet_url)
        .env("CANDOR_BIN", &bin)
        .env("CANDOR_CONFIG", &demo.config)
        .env("ROUND_ID", &demo.round)
        .env("LEADER_LINK", &demo.leader_link)
        .env("E2E_OUTPUT", &out);
    let result = run("end-to-end tests (headless Chromium)", node);
    drop(demo);
    if result.is_ok() {
        println!("== screenshots in {}", out.display());
    }
    result
}
