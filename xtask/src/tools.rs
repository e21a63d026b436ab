//! Installs what a fresh machine lacks, each at the exact version the build needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Background, WASM, cargo, command, output, root, run, spawn};

const TRUNK_VERSION: &str = "0.22.1";

/// Where the tools are.
#[derive(Debug)]
pub struct Tools {
    /// PATH with the npm binaries (wasm-opt) and cargo's bin folder first.
    pub path: String,
    /// Chromium.
    pub chromium: PathBuf,
}

/// Ensures every tool, returning where they are.
pub fn ensure_all() -> Result<Tools, String> {
    ensure_rust()?;
    ensure_debian()?;
    ensure_npm()?;
    let cargo_bin = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"))
        .join("bin");
    let path = format!(
        "{}:{}:{}",
        root().join("e2e/node_modules/.bin").display(),
        cargo_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Without default features: Trunk's update check, and wasm-bindgen's TLS stack (for
    // downloads; everything here runs offline; Trunk insists on one). Side by side.
    let trunk = ensure_cargo_tool(
        "trunk",
        &format!("trunk {TRUNK_VERSION}"),
        &path,
        &[
            "install",
            "trunk",
            "--locked",
            "--version",
            TRUNK_VERSION,
            "--ignore-rust-version",
            "--no-default-features",
            "--features",
            "rustls",
        ],
    )?;
    let bindgen = locked_version("wasm-bindgen")?;
    // Without --locked: the CLI's own lockfile pins a crate the index no longer has.
    let bindgen = ensure_cargo_tool(
        "wasm-bindgen",
        &format!("wasm-bindgen {bindgen}"),
        &path,
        &["install", "wasm-bindgen-cli", "--version", &bindgen, "--no-default-features"],
    )?;
    Background::finish_all([trunk, bindgen].into_iter().flatten().collect())?;
    Ok(Tools { path, chromium: PathBuf::from("/usr/bin/chromium") })
}

fn ensure_rust() -> Result<(), String> {
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

fn ensure_debian() -> Result<(), String> {
    let wanted = [
        ("/usr/bin/chromium", "chromium"),
        ("/usr/bin/chromedriver", "chromium-driver"),
        ("/usr/bin/brotli", "brotli"),
        // The server's blind signer links OpenSSL (candor-protocol's `openssl` feature).
        ("/usr/include/openssl/ssl.h", "libssl-dev"),
        ("/usr/bin/pkg-config", "pkg-config"),
        // The two-server tests run behind nginx with deploy/nginx/, over TLS.
        ("/usr/sbin/nginx", "nginx"),
        ("/usr/bin/openssl", "openssl"),
    ];
    let missing: Vec<&str> =
        wanted.iter().filter(|(path, _)| !Path::new(path).exists()).map(|(_, p)| *p).collect();
    if missing.is_empty() {
        return Ok(());
    }
    run("apt-get update", command("apt-get", &["update", "-qq"]))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    let mut install = command("apt-get", &args);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run(&format!("install {}", missing.join(", ")), install)
}

fn ensure_npm() -> Result<(), String> {
    let e2e = root().join("e2e");
    let ready = e2e.join("node_modules/.bin/wasm-opt").exists()
        && e2e.join("node_modules/playwright-core/package.json").exists();
    if ready {
        return Ok(());
    }
    let mut npm = command("npm", &["ci", "--no-audit", "--no-fund"]);
    npm.current_dir(&e2e);
    run("npm ci (wasm-opt, playwright-core)", npm)
}

/// Starts installing a tool unless it is there at its version.
fn ensure_cargo_tool(
    binary: &str,
    version_line: &str,
    path: &str,
    install: &[&str],
) -> Result<Option<Background>, String> {
    let found = Command::new(binary).arg("--version").env("PATH", path).output();
    if found.is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == version_line) {
        return Ok(None);
    }
    let mut command = cargo(install);
    // A tool is a build helper, not a product: its own release profile (fat LTO, one
    // codegen unit) spends minutes of a newcomer's first demo on speed nobody notices
    // (Trunk's work here is a few files; wasm-opt is a binary of its own). Measured on a
    // fresh machine (2 cores): Trunk alone took 786 s with its own profile, 503 s at
    // opt-level 1 without LTO; see the README for the first demo's figure.
    command
        .env("CARGO_TARGET_DIR", root().join("target/tools").join(binary))
        .env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0");
    spawn(&format!("install {version_line}"), command, &format!("install-{binary}")).map(Some)
}

/// The version of a package in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle).ok_or_else(|| format!("{package} is not in Cargo.lock"))? + needle.len();
    let end = lock[start..].find('"').ok_or("malformed Cargo.lock")?;
    Ok(lock[start..start + end].to_owned())
}
