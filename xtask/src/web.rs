//! The release web builds (Trunk) and their size budget.

use std::path::Path;

use crate::tools::Tools;
use crate::{cargo, command, root, run};

/// The widget's ceiling: wasm + js + css, brotli-compressed (quality 11). The goal is
/// 150 KB; the widget is over it (170.8 KB at 9be44ab: RSA blinding in crypto-bigint and
/// serde_json's deserialisers of the rounds, the wallet and the receipts are most of
/// it), so this ceiling, a little above today's size, stops it growing further until a
/// cut makes room.
const WIDGET_BUDGET_BYTES: u64 = 175 * 1024;
/// The host-page loader's budget, gzip-compressed.
const LOADER_BUDGET_BYTES: u64 = 4 * 1024;

/// Measured sizes.
#[derive(Debug)]
pub struct Sizes {
    widget_raw: u64,
    widget_brotli: u64,
    digest_brotli: u64,
    loader_gzip: u64,
}

impl std::fmt::Display for Sizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "widget {} KB raw, {:.1} KB brotli (budget {} KB); digest {:.1} KB brotli; embed.js {} B gzip (budget {} B)",
            self.widget_raw / 1024,
            self.widget_brotli as f64 / 1024.0,
            WIDGET_BUDGET_BYTES / 1024,
            self.digest_brotli as f64 / 1024.0,
            self.loader_gzip,
            LOADER_BUDGET_BYTES
        )
    }
}

impl Sizes {
    /// Fails above a budget.
    pub fn check(&self) -> Result<(), String> {
        if self.widget_brotli > WIDGET_BUDGET_BYTES {
            return Err(format!("the widget is over its size budget: {self}"));
        }
        if self.loader_gzip > LOADER_BUDGET_BYTES {
            return Err(format!("embed.js is over its size budget: {self}"));
        }
        Ok(())
    }
}

/// Builds the widget into dist/widget and the digest page into dist/digest.
pub fn build(tools: &Tools) -> Result<Sizes, String> {
    // Trunk runs cargo --offline: everything must already be fetched.
    run("cargo fetch", cargo(&["fetch", "--locked"]))?;
    for (page, dist, public) in
        [("www/index.html", "dist/widget", "/widget/"), ("digest/index.html", "dist/digest", "/digest/")]
    {
        let mut trunk =
            command("trunk", &["build", page, "--release", "true", "--dist", dist, "--public-url", public]);
        trunk.current_dir(root()).env("PATH", &tools.path).env("TRUNK_SKIP_VERSION_CHECK", "true");
        run(&format!("trunk build {page}"), trunk)?;
    }
    let widget = root().join("dist/widget");
    let loader = name_loader_by_hash(&widget)?;
    let loader_name = loader.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let except = [loader_name.as_str()];
    let sizes = Sizes {
        widget_raw: files(&widget, &["wasm", "js", "css"], &except).iter().map(|p| file_len(p)).sum(),
        widget_brotli: compressed(&widget, &except, "brotli")?,
        digest_brotli: compressed(&root().join("dist/digest"), &[], "brotli")?,
        loader_gzip: compress(&loader, "gzip")?,
    };
    println!("== sizes: {sizes}");
    Ok(sizes)
}

/// The host-page loader is served under its content hash, so an intranet page can pin
/// it with `integrity` and a changed loader gets a new name: exactly one
/// `embed-<first 16 hex digits of its SHA-384>.js` in the widget's folder, and no
/// `embed.js` (the rule `candor embed-snippet` reads it by).
fn name_loader_by_hash(widget: &Path) -> Result<std::path::PathBuf, String> {
    use sha2::Digest as _;
    let plain = widget.join("embed.js");
    let bytes = std::fs::read(&plain).map_err(|e| format!("{}: {e}", plain.display()))?;
    let hex: String = sha2::Sha384::digest(&bytes)[..8].iter().map(|b| format!("{b:02x}")).collect();
    for stale in std::fs::read_dir(widget).map_err(|e| e.to_string())?.filter_map(Result::ok) {
        let name = stale.file_name().to_string_lossy().into_owned();
        if name.starts_with("embed-") && name.ends_with(".js") {
            let _ = std::fs::remove_file(stale.path());
        }
    }
    let named = widget.join(format!("embed-{hex}.js"));
    std::fs::rename(&plain, &named).map_err(|e| format!("{}: {e}", named.display()))?;
    Ok(named)
}

fn files(dir: &Path, extensions: &[&str], except: &[&str]) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e)))
        .filter(|path| path.file_name().and_then(|n| n.to_str()).is_none_or(|n| !except.contains(&n)))
        .collect()
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn compressed(dir: &Path, except: &[&str], tool: &str) -> Result<u64, String> {
    files(dir, &["wasm", "js", "css"], except).iter().map(|path| compress(path, tool)).sum()
}

fn compress(path: &Path, tool: &str) -> Result<u64, String> {
    let file = path.to_str().ok_or("non-UTF-8 path")?;
    let args: &[&str] = if tool == "brotli" { &["-q", "11", "-c", file] } else { &["-9", "-c", file] };
    let out = command(tool, args).output().map_err(|e| format!("{tool}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{tool} failed on {file}"));
    }
    Ok(out.stdout.len() as u64)
}
