//! What a page view costs, and what a browser's cache keeps: the built files are sent
//! precompressed as the browser accepts, a file named by its content hash is cached as
//! immutable, the pages are not stored, and nothing a cache could send back differs per
//! person (no ETag, no Last-Modified, no cookie). JSON is compressed too.

mod common;

use common::spawn_app;

const HASHED: &str = "candor-widget-4f2a9c1d0b3e8a71_bg.wasm";

fn write_widget(dir: &std::path::Path) -> [Vec<u8>; 3] {
    let widget = dir.join("widget");
    std::fs::create_dir_all(&widget).expect("widget folder");
    let raw = vec![0x61; 4_000];
    let (brotli, gzip) = (b"brotli bytes of the wasm".to_vec(), b"gzip bytes of the wasm".to_vec());
    std::fs::write(widget.join(HASHED), &raw).expect("file");
    std::fs::write(widget.join(format!("{HASHED}.br")), &brotli).expect("file");
    std::fs::write(widget.join(format!("{HASHED}.gz")), &gzip).expect("file");
    std::fs::write(widget.join("index.html"), "<!doctype html><title>Candor</title>").expect("file");
    [raw, brotli, gzip]
}

async fn fetch(app: &common::TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(format!("{}{path}", app.address));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    request.send().await.expect("response")
}

#[tokio::test]
async fn built_files_go_out_precompressed_and_hashed_ones_are_cached_for_good() {
    let app = spawn_app().await;
    let [raw, brotli, gzip] = write_widget(&app.config.web_dir);
    let path = format!("/widget/{HASHED}");
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), &brotli),
        (Some("gzip"), Some("gzip"), &gzip),
        (None, None, &raw),
    ] {
        let response = fetch(&app, &path, accept).await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers.get("content-encoding").and_then(|v| v.to_str().ok()), encoding, "{accept:?}");
        assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable", "{accept:?}");
        assert!(headers.get("vary").is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("accept-encoding"))));
        for validator in ["etag", "last-modified", "set-cookie"] {
            assert!(headers.get(validator).is_none(), "{validator}: {headers:?}");
        }
        assert_eq!(&response.bytes().await.expect("body").to_vec(), body);
    }

    // The page itself is fetched every time, and carries no validator either.
    let page = fetch(&app, "/widget/index.html", Some("br")).await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.headers().get("last-modified").is_none() && page.headers().get("etag").is_none());
    // A name without a hash, or a missing file, is not cached.
    assert_eq!(
        fetch(&app, "/widget/missing-4f2a9c1d0b3e8a71.js", None).await.headers()["cache-control"],
        "no-store"
    );

    // Two people get the same answer, header for header.
    let first = fetch(&app, &path, Some("br")).await.headers().clone();
    let second = fetch(&app, &path, Some("br")).await.headers().clone();
    assert_eq!(first, second);
}

#[tokio::test]
async fn json_is_sent_compressed() {
    let app = spawn_app().await;
    app.open_round("acme/eng", 3, 1).await;
    let response = fetch(&app, "/v1/rounds", Some("gzip")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = response.bytes().await.expect("body");
    assert_eq!(&body[..2], [0x1f, 0x8b], "a gzip stream");
    // Without Accept-Encoding, plain JSON.
    let plain = fetch(&app, "/v1/rounds", None).await;
    assert!(plain.headers().get("content-encoding").is_none());
    let rounds: serde_json::Value = plain.json().await.expect("json");
    assert!(rounds.is_object() || rounds.is_array());
}
