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
    /// Every served file of both pages: (page, kind, raw, gzip, brotli), from the
    /// precompressed files the build leaves beside each.
    pub files: Vec<FileSize>,
}

/// One built file's sizes as served.
#[derive(Debug, Clone)]
pub struct FileSize {
    pub page: &'static str,
    pub name: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
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
    /// The widget a page view loads (wasm, js, css, without the loader), brotli.
    pub fn widget_brotli(&self) -> u64 {
        self.widget_brotli
    }

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

/// What the build compresses ahead of time (the server sends the `.br` or `.gz` beside
/// a file when the browser accepts it).
const COMPRESSED: [&str; 4] = ["wasm", "js", "css", "html"];

/// Builds the widget into dist/widget and the digest page into dist/digest: Trunk, then
/// every file but the pages themselves named by its content hash, then a brotli and a
/// gzip copy of each beside it.
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
        let dist = root().join(dist);
        name_boot_by_hash(&dist, public)?;
    }
    let widget = root().join("dist/widget");
    let loader = name_loader_by_hash(&widget)?;
    let loader_name = loader.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let mut files = Vec::new();
    for (page, dir) in [("widget", &widget), ("digest", &root().join("dist/digest"))] {
        for path in self::files(dir, &COMPRESSED, &[]) {
            let (gzip, brotli) = precompress(&path)?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            files.push(FileSize { page, name, raw: file_len(&path), gzip, brotli });
        }
    }
    // The budgets count what a page view loads: wasm, js and css (the page's HTML is a
    // few hundred bytes); the widget's without the loader, which the host page loads.
    let counted = |page: &str, size: fn(&FileSize) -> u64| -> u64 {
        files
            .iter()
            .filter(|f| f.page == page && !f.name.ends_with(".html") && f.name != loader_name)
            .map(size)
            .sum()
    };
    let sizes = Sizes {
        widget_raw: counted("widget", |f| f.raw),
        widget_brotli: counted("widget", |f| f.brotli),
        digest_brotli: counted("digest", |f| f.brotli),
        loader_gzip: files.iter().find(|f| f.name == loader_name).map_or(0, |f| f.gzip),
        files,
    };
    println!("== sizes: {sizes}");
    Ok(sizes)
}

/// Trunk names the wasm, its glue and the CSS by their hash; `boot.js` is copied as it
/// is. Name it by its hash too and point the page at it, so that every file but the
/// page itself can be cached as immutable.
fn name_boot_by_hash(dist: &Path, public: &str) -> Result<(), String> {
    let plain = dist.join("boot.js");
    let named = name_by_hash(&plain, "boot")?;
    let page = dist.join("index.html");
    let html = std::fs::read_to_string(&page).map_err(|e| format!("{}: {e}", page.display()))?;
    let from = format!("{public}boot.js");
    if !html.contains(&from) {
        return Err(format!("{} does not load {from}", page.display()));
    }
    let to = format!("{public}{}", named.file_name().and_then(|n| n.to_str()).unwrap_or_default());
    std::fs::write(&page, html.replace(&from, &to)).map_err(|e| format!("{}: {e}", page.display()))
}

/// Renames `dir/STEM.js` to `dir/STEM-<first 16 hex digits of its SHA-384>.js`, removing
/// earlier builds' copies.
fn name_by_hash(plain: &Path, stem: &str) -> Result<std::path::PathBuf, String> {
    use sha2::Digest as _;
    let dir = plain.parent().ok_or("no folder")?;
    let bytes = std::fs::read(plain).map_err(|e| format!("{}: {e}", plain.display()))?;
    let hex: String = sha2::Sha384::digest(&bytes)[..8].iter().map(|b| format!("{b:02x}")).collect();
    for stale in std::fs::read_dir(dir).map_err(|e| e.to_string())?.filter_map(Result::ok) {
        let name = stale.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("{stem}-")) && name.contains(".js") {
            let _ = std::fs::remove_file(stale.path());
        }
    }
    let named = dir.join(format!("{stem}-{hex}.js"));
    std::fs::rename(plain, &named).map_err(|e| format!("{}: {e}", named.display()))?;
    Ok(named)
}

/// Writes `FILE.gz` (gzip -9, no name or time in its header) and `FILE.br` (brotli -q 11)
/// beside `path`; returns their sizes.
fn precompress(path: &Path) -> Result<(u64, u64), String> {
    let file = path.to_str().ok_or("non-UTF-8 path")?;
    for (tool, args) in [("gzip", ["-9", "-n", "-k", "-f"]), ("brotli", ["-q", "11", "-k", "-f"])] {
        let mut compress = command(tool, &args);
        compress.arg(file);
        let out = compress.output().map_err(|e| format!("{tool}: {e}"))?;
        if !out.status.success() {
            return Err(format!("{tool} failed on {file}: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok((file_len(Path::new(&format!("{file}.gz"))), file_len(Path::new(&format!("{file}.br")))))
}

/// The host-page loader is served under its content hash, so an intranet page can pin
/// it with `integrity` and a changed loader gets a new name: exactly one
/// `embed-<first 16 hex digits of its SHA-384>.js` in the widget's folder, and no
/// `embed.js` (the rule `candor embed-snippet` reads it by).
fn name_loader_by_hash(widget: &Path) -> Result<std::path::PathBuf, String> {
    name_by_hash(&widget.join("embed.js"), "embed")
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
