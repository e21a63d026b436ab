//! `cargo xtask test|bench`: the project's one entry point for checks. It installs what
//! a fresh machine lacks (the wasm32 target, rustfmt, clippy), then runs everything.

use std::process::{Command, ExitCode};
use std::time::Instant;

const WASM: &str = "wasm32-unknown-unknown";
/// The crates that build for the browser.
const WASM_PACKAGES: [&str; 2] = ["candor-widget", "candor-protocol"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
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
  test    install missing tools, then: rustfmt check, clippy (native and wasm32),
          the wasm32 build of the shared crates, and every cargo test
  bench   run the benchmarks (extra arguments go to the bench harness)";

fn test() -> Result<(), String> {
    ensure_toolchain()?;
    run("format", cargo(&["fmt", "--all", "--", "--check"]))?;
    run(
        "clippy, native",
        cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]),
    )?;
    let mut wasm_clippy = vec!["clippy", "--locked", "--target", WASM];
    for package in WASM_PACKAGES {
        wasm_clippy.extend(["-p", package]);
    }
    wasm_clippy.extend(["--", "-D", "warnings"]);
    run("clippy, wasm32", cargo(&wasm_clippy))?;
    run("build protocol, wasm32", cargo(&["build", "--locked", "-p", "candor-protocol", "--target", WASM]))?;
    run("tests", cargo(&["test", "--workspace", "--locked"]))?;
    println!("\nxtask: every check passed");
    Ok(())
}

fn bench(extra: &[String]) -> Result<(), String> {
    let mut args = vec!["bench", "--locked", "-p", "candor-protocol", "--bench", "crypto"];
    if !extra.is_empty() {
        args.push("--");
        args.extend(extra.iter().map(String::as_str));
    }
    run("benchmarks", cargo(&args))
}

/// Adds the wasm32 target and the rustfmt/clippy components if this machine lacks them.
fn ensure_toolchain() -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if !installed.lines().any(|line| line.trim() == WASM) {
        run("install wasm32 target", command("rustup", &["target", "add", WASM]))?;
    }
    let components = output(Command::new("rustup").args(["component", "list", "--installed"]))?;
    for component in ["rustfmt", "clippy"] {
        if !components.lines().any(|line| line.starts_with(component)) {
            run(&format!("install {component}"), command("rustup", &["component", "add", component]))?;
        }
    }
    Ok(())
}

fn cargo(args: &[&str]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    command(&cargo, args)
}

fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

fn run(step: &str, mut command: Command) -> Result<(), String> {
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

fn output(command: &mut Command) -> Result<String, String> {
    let out = command.output().map_err(|error| format!("could not run {command:?}: {error}"))?;
    if !out.status.success() {
        return Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
