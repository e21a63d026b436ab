//! `cargo xtask test|demo|build|e2e|crash|bench`: the project's one entry point. On a fresh
//! machine it installs what is missing — the wasm32 target, rustfmt and clippy, Trunk,
//! the wasm-bindgen CLI at the locked version, wasm-opt and Playwright from npm,
//! Chromium from Debian — then does the work.

mod bench;
mod demo;
mod postgres;
mod tools;
mod web;

use std::process::{Command, ExitCode};
use std::time::Instant;

const WASM: &str = "wasm32-unknown-unknown";
/// The crates that build for the browser. Each is linted alone, with the features it
/// ships (together, cargo would unify the protocol crate's features across them).
const WASM_PACKAGES: [&str; 3] = ["candor-widget", "candor-digest", "candor-protocol"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo::demo(),
        Some("build") => tools::ensure_all().and_then(|tools| web::build(&tools).map(drop)),
        Some("e2e") => tools::ensure_all().and_then(|tools| {
            // The size budget is `cargo xtask test`'s; here the sizes are only printed.
            web::build(&tools)?;
            demo::end_to_end(&tools, &args[1..])
        }),
        Some("bench") => bench::bench(),
        Some("crash") => crash(&args[1..]),
        Some("tools") => tools::ensure_all().map(drop),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test    install missing tools (and PostgreSQL, if the machine's does not answer), then:
          rustfmt check, clippy (native and wasm32), every cargo test, the server's tests
          again on PostgreSQL, the browser tests (wasm-bindgen-test), the release web builds with
          their size budget, and the end-to-end tests in headless Chromium
  demo    install missing tools, build everything, and run a seeded demo organisation
          (candor on SQLite in ./demo, and a pretend intranet); prints the URLs to open
  build   install missing tools and build the widget and the digest page into dist/
  e2e     the web builds and the end-to-end tests only (e2e PATTERN: the tests whose
          names match)
  crash   the SIGKILL loop, long: `crash [KILLS]` (default 200) kills of a real candor under
          submission load, on SQLite and then on PostgreSQL (the test suite runs a short one)
  tools   install missing tools only
  bench   measure everything the report lists, in one run: sizes, the widget's crypto and
          page views in headless Chromium, the server under load on SQLite and PostgreSQL,
          one server and two; writes target/bench/report.md and report.json";

fn test() -> Result<(), String> {
    let tools = tools::ensure_all()?;
    run("format", cargo(&["fmt", "--all", "--", "--check"]))?;
    run(
        "clippy, native",
        cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]),
    )?;
    for package in WASM_PACKAGES {
        let lint = cargo(&["clippy", "--locked", "--target", WASM, "-p", package, "--", "-D", "warnings"]);
        run(&format!("clippy, wasm32, {package}"), lint)?;
    }
    let tests =
        ["clippy", "--locked", "--target", WASM, "-p", "candor-widget", "--tests", "--", "-D", "warnings"];
    run("clippy, wasm32, the browser tests", cargo(&tests))?;
    // Every suite that starts a server runs twice: on SQLite (the embedded default) and
    // on PostgreSQL. The store contract runs on both each time.
    let postgres = postgres::ensure()?;
    let mut tests = cargo(&["test", "--workspace", "--locked"]);
    tests.env(postgres::ENV, &postgres.url);
    run("tests (servers on SQLite; the store contract on both backends)", tests)?;
    let mut on_postgres = cargo(&["test", "--locked", "-p", "candor-server", "--tests"]);
    on_postgres.env(postgres::ENV, &postgres.url).env("CANDOR_TEST_BACKEND", "postgres");
    run("server tests on PostgreSQL", on_postgres)?;
    drop(postgres);
    // The pure-Rust signer stands on its own, for builds without OpenSSL.
    let pure_rust = [
        "test",
        "--locked",
        "-p",
        "candor-protocol",
        "--no-default-features",
        "--features",
        "nfkc-tables,regex",
        "--test",
        "vectors",
        "--test",
        "issuance",
    ];
    run("known-answer tests without OpenSSL", cargo(&pure_rust))?;
    let mut browser =
        cargo(&["test", "--locked", "--target", WASM, "-p", "candor-widget", "--test", "browser"]);
    browser.env("PATH", &tools.path).env("CHROMEDRIVER", "/usr/bin/chromedriver");
    run("browser tests (wasm-bindgen-test, headless Chromium)", browser)?;
    let sizes = web::build(&tools)?;
    demo::end_to_end(&tools, &[])?;
    // Last, so that a widget over its budget still gets every other check.
    sizes.check()?;
    println!("\nxtask: every check passed ({sizes})");
    Ok(())
}

fn crash(extra: &[String]) -> Result<(), String> {
    let kills = match extra.first() {
        Some(kills) => kills.parse::<u32>().map_err(|_| format!("`{kills}` is not a number of kills"))?,
        None => 200,
    };
    let postgres = postgres::ensure()?;
    for backend in ["sqlite", "postgres"] {
        let mut test =
            cargo(&["test", "--locked", "-p", "candor-server", "--test", "crash", "--", "--nocapture"]);
        test.env(postgres::ENV, &postgres.url)
            .env("CANDOR_TEST_BACKEND", backend)
            .env("CANDOR_CRASH_KILLS", kills.to_string());
        run(&format!("{kills} SIGKILLs on {backend}"), test)?;
    }
    Ok(())
}

/// A `cargo` command, with the cargo that runs xtask.
pub fn cargo(args: &[&str]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    command(&cargo, args)
}

/// A command with arguments.
pub fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// Runs a step, printing its name, outcome and time.
pub fn run(step: &str, mut command: Command) -> Result<(), String> {
    println!("\n== {step}");
    let started = Instant::now();
    let status = command.status().map_err(|error| format!("{step}: could not start: {error}"))?;
    println!(
        "== {step}: {} in {:.1}s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if status.success() { Ok(()) } else { Err(format!("{step} failed ({status})")) }
}

/// Runs a step as [`run`] does, and returns what it printed on standard output (shown
/// too, once it has ended).
pub fn run_captured(step: &str, mut command: Command) -> Result<String, String> {
    println!("\n== {step}");
    let started = Instant::now();
    let out = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|error| format!("{step}: could not start: {error}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    println!(
        "== {step}: {} in {:.1}s",
        if out.status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if out.status.success() { Ok(text) } else { Err(format!("{step} failed ({})", out.status)) }
}

/// A step running beside others: its output goes to a log file, shown if it fails.
#[derive(Debug)]
pub struct Background {
    step: String,
    child: std::process::Child,
    log: std::path::PathBuf,
    started: Instant,
}

/// Starts a step in the background, its output in `target/logs/<log>.log`.
pub fn spawn(step: &str, mut command: Command, log: &str) -> Result<Background, String> {
    let dir = root().join("target/logs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let log = dir.join(format!("{log}.log"));
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    println!("\n== {step} (in the background, log in {})", log.display());
    let child = command
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|error| format!("{step}: could not start: {error}"))?;
    Ok(Background { step: step.to_owned(), child, log, started: Instant::now() })
}

impl Background {
    /// Waits for several steps, each reported as it ends; the first failure is returned.
    pub fn finish_all(mut steps: Vec<Self>) -> Result<(), String> {
        let mut result = Ok(());
        while !steps.is_empty() {
            let mut i = 0;
            while i < steps.len() {
                match steps[i].child.try_wait() {
                    Ok(None) => i += 1,
                    Ok(Some(_)) | Err(_) => {
                        let done = steps.swap_remove(i).finish();
                        result = result.and(done);
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        result
    }

    /// Waits for the step, printing its outcome and time, and its log if it failed.
    pub fn finish(mut self) -> Result<(), String> {
        let status = self.child.wait().map_err(|error| format!("{}: {error}", self.step))?;
        println!(
            "== {}: {} in {:.1}s",
            self.step,
            if status.success() { "ok" } else { "FAILED" },
            self.started.elapsed().as_secs_f64()
        );
        if status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        for line in tail.iter().rev() {
            println!("{line}");
        }
        Err(format!("{} failed ({status}); its log: {}", self.step, self.log.display()))
    }
}

/// Runs a command and returns its standard output.
pub fn output(command: &mut Command) -> Result<String, String> {
    let out = command.output().map_err(|error| format!("could not run {command:?}: {error}"))?;
    if !out.status.success() {
        return Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The workspace root.
/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `target/` at the root.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), std::path::PathBuf::from)
}

pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}
