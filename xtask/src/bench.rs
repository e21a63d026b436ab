//! `cargo xtask bench`: every figure of the report, measured in one run on this machine,
//! written to `target/bench/report.json` and `target/bench/report.md`.
//!
//! * sizes of the built widget and digest page, per file: raw, gzip, brotli (the files
//!   the server sends), and the loader;
//! * in headless Chromium: the client's crypto per step in the widget's wasm (the
//!   shipped profile, median of 20), and page views — time until the widget is
//!   interactive and until it holds its token, and bytes on the wire, for a first view
//!   and a second one from the same browser profile (median of 20 people);
//! * the server from outside (server/benches/load.rs): issuance tokens/s beside
//!   `openssl speed rsa2048`, submissions/s and p50/p99 at 1 to 64 clients beside the
//!   verification bound, on SQLite and PostgreSQL, one server and two.
//!
//! Timings are reported, never asserted.

use serde_json::{Value, json};

use crate::tools::{self, Tools};
use crate::{WASM, cargo, command, demo, output, postgres, root, run_captured, web};

pub fn bench() -> Result<(), String> {
    let tools = tools::ensure_all()?;
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let sizes = web::build(&tools)?;
    let files: Vec<Value> = sizes
        .files
        .iter()
        .map(|f| json!({ "page": f.page, "file": f.name, "raw": f.raw, "gzip": f.gzip, "brotli": f.brotli }))
        .collect();
    let crypto = wasm_crypto(&tools)?;
    // 20 fresh profiles for the demo's 9 people: three tokens each.
    let pages = demo::with_demo(&tools, 3, &["bench/page-view.mjs".to_owned()], |node| {
        run_captured("page views in headless Chromium", node)
    })?;
    let page_view = tagged_json(&pages, "page-view")?;

    let postgres = postgres::ensure()?;
    let server_json = out.join("server.json");
    let mut load = cargo(&["bench", "--locked", "-p", "candor-server", "--bench", "load"]);
    load.env(postgres::ENV, &postgres.url).env("CANDOR_BENCH_OUT", &server_json);
    run_captured("the server under load (release build, loopback)", load)?;
    drop(postgres);
    let server: Value = serde_json::from_str(
        &std::fs::read_to_string(&server_json).map_err(|e| format!("{}: {e}", server_json.display()))?,
    )
    .map_err(|e| format!("{}: {e}", server_json.display()))?;

    let commit = output(command("git", &["rev-parse", "--short", "HEAD"]).current_dir(root()))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let report = json!({
        "commit": commit,
        "sizes": files,
        "widget_brotli_bytes": sizes.widget_brotli(),
        "client_crypto_wasm": crypto,
        "page_view": page_view,
        "server": server,
    });
    let json_path = out.join("report.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{}: {e}", json_path.display()))?;
    let md_path = out.join("report.md");
    std::fs::write(&md_path, markdown(&report)).map_err(|e| format!("{}: {e}", md_path.display()))?;
    println!("\n== the report: {} and {}", md_path.display(), json_path.display());
    Ok(())
}

/// The widget's crypto in headless Chromium, built as it ships (`web-release`).
fn wasm_crypto(tools: &Tools) -> Result<Value, String> {
    let args = [
        "test",
        "--locked",
        "--profile",
        "web-release",
        "--target",
        WASM,
        "-p",
        "candor-widget",
        "--test",
        "crypto_cost",
        "--",
        "--nocapture",
    ];
    let mut test = cargo(&args);
    test.env("PATH", &tools.path).env("CHROMEDRIVER", "/usr/bin/chromedriver");
    let printed = run_captured("client crypto in the browser's wasm", test)?;
    tagged_json(&printed, "crypto-cost")
}

/// The JSON after `TAG ` on the line that starts with it.
fn tagged_json(printed: &str, tag: &str) -> Result<Value, String> {
    let prefix = format!("{tag} ");
    let line = printed
        .lines()
        .find_map(|line| line.trim().strip_prefix(&prefix))
        .ok_or_else(|| format!("no `{tag}` line in the output"))?;
    serde_json::from_str(line).map_err(|e| format!("`{tag}`: {e}"))
}

fn number(value: &Value, decimals: usize) -> String {
    value.as_f64().map_or_else(|| "—".to_owned(), |n| format!("{n:.decimals$}"))
}

fn markdown(report: &Value) -> String {
    let mut md = format!(
        "# Candor bench report\n\nCommit `{}`, one run of `cargo xtask bench` on this machine ({} cores). \
         Timings are measured, never asserted; sizes are deterministic.\n\n",
        report["commit"].as_str().unwrap_or("?"),
        report["server"]["cores"]
    );
    md.push_str(
        "## Sizes (bytes, as served)\n\n| page | file | raw | gzip | brotli |\n|---|---|---:|---:|---:|\n",
    );
    for file in report["sizes"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            file["page"].as_str().unwrap_or(""),
            file["file"].as_str().unwrap_or(""),
            file["raw"],
            file["gzip"],
            file["brotli"]
        ));
    }
    md.push_str(&format!(
        "\nThe widget a page view loads (wasm, js, css, without the loader), brotli: {} bytes (goal 150 KB = 153600).\n",
        report["widget_brotli_bytes"]
    ));

    let crypto = &report["client_crypto_wasm"];
    md.push_str(&format!(
        "\n## The client's crypto in headless Chromium's wasm (median of {}, ms)\n\n\
         | blind | finalize (with verify) | verify | sign the submission |\n|---:|---:|---:|---:|\n| {} | {} | {} | {} |\n",
        crypto["runs"],
        number(&crypto["blind_ms"], 3),
        number(&crypto["finalize_ms"], 3),
        number(&crypto["verify_ms"], 3),
        number(&crypto["sign_ms"], 3)
    ));

    let pages = &report["page_view"];
    md.push_str(&format!(
        "\n## Page views in headless Chromium (median of {} people)\n\n\
         | view | interactive (ms) | holds its token (ms) | bytes on the wire | requests |\n|---|---:|---:|---:|---:|\n",
        pages["runs"]
    ));
    for view in ["first", "second"] {
        let v = &pages[view];
        md.push_str(&format!(
            "| {view} | {} | {} | {} | {} |\n",
            number(&v["interactive_ms"], 0),
            number(&v["ready_ms"], 0),
            v["bytes"],
            v["requests"]
        ));
    }

    let server = &report["server"];
    md.push_str(&format!(
        "\n## Issuance (one server, SQLite)\n\n`openssl speed rsa2048` on one core: {} signs/s.\n\n\
         | clients | tokens/s | p50 ms | p99 ms | server CPU ms/token | load generator CPU ms/token | of OpenSSL × cores |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
        number(&server["openssl_speed_rsa2048_sign_per_s_one_core"], 0)
    ));
    for level in server["issuance"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} % |\n",
            level["clients"],
            number(&level["tokens_per_s"], 0),
            number(&level["p50_ms"], 1),
            number(&level["p99_ms"], 1),
            number(&level["server_cpu_ms_per_token"], 2),
            number(&level["client_cpu_ms_per_request"], 2),
            number(&json!(level["ratio_to_openssl"].as_f64().map(|r| r * 100.0)), 0)
        ));
    }
    md.push_str(&format!(
        "\n## Submissions\n\nThe verification bound (one token and one Ed25519 verification per item, all cores): {} items/s.\n\n\
         | backend | servers | clients | items/s | p50 ms | p99 ms | server CPU ms/item | load generator CPU ms/item | of the bound |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        number(&server["verification_bound_items_per_s"], 0)
    ));
    for level in server["submissions"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} % |\n",
            level["backend"].as_str().unwrap_or(""),
            level["servers"],
            level["clients"],
            number(&level["items_per_s"], 0),
            number(&level["p50_ms"], 1),
            number(&level["p99_ms"], 1),
            number(&level["server_cpu_ms_per_item"], 2),
            number(&level["client_cpu_ms_per_request"], 2),
            number(&json!(level["ratio_to_bound"].as_f64().map(|r| r * 100.0)), 0)
        ));
    }
    md.push_str(
        "\nThe load generator runs on the same machine as the servers (and PostgreSQL): its own CPU per \
         request (the HTTP client, over loopback) comes out of the cores that both bounds count, so neither \
         ratio can reach 100 % here; the cores over (the server's CPU + the load generator's) per request \
         is what this machine could do.\n",
    );
    let digest = &server["digest"];
    let get = |key: &str| format!("{} ms, {} bytes", number(&digest[key]["ms"], 1), digest[key]["bytes"]);
    md.push_str(&format!(
        "\n## The digest (one server, SQLite; five teams, k = 5)\n\n\
         | what | figure |\n|---|---|\n\
         | `candor round close`, {small} items | {} s |\n\
         | `candor round close`, {large} items | {} s |\n\
         | digest of {small} items, the only round released | {} |\n\
         | the same, beside a released round of {large} | {} |\n\
         | digest of {large} items, first answer (built from the store) | {} (server CPU {} ms) |\n\
         | of which building it from the items read | {} ms |\n\
         | the same again (kept), median of 20 | {} ms |\n\
         | a later page of one group | {} |\n\
         | the index | {} |\n\n\
         A round's digest answer carries each group's counts, ratings and first page of items; the rest \
         comes a page at a time. Bytes are before compression.\n",
        number(&digest["round_close_small_s"], 2),
        number(&digest["round_close_large_s"], 2),
        get("small_digest_alone"),
        get("small_digest_beside_large"),
        get("large_digest_first"),
        number(&digest["large_digest_first_server_cpu_ms"], 0),
        number(&digest["large_build_ms"], 0),
        number(&digest["large_digest_again_median_ms"], 1),
        get("large_page"),
        get("index"),
        small = digest["small_items"],
        large = digest["large_items"],
    ));
    md
}
