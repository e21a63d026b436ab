//! `candor-demo`: the pretend intranet of `cargo xtask demo`, and test helpers.
//!
//! * `candor-demo intranet --listen ADDR --candor-url URL --web-dir DIR --key FILE
//!   --org-key-file FILE [--audience AUD]` serves the pretend intranet (see
//!   [`intranet`]).
//! * `candor-demo resign-round --org-key FILE [--days-ago N] [--issuer HOST]` reads a
//!   round as `GET /v1/rounds` lists it (one `OpenRound` JSON object) on standard input,
//!   changes it and signs it again with the organisation key: a *genuine* round, signed
//!   by the organisation, that is nevertheless wrong for here and now (last quarter's,
//!   or another server's). The browser tests serve it as a malicious server would.

mod intranet;

use std::path::Path;
use std::process::ExitCode;

use candor_protocol::api::OpenRound;
use candor_protocol::b64;
use candor_protocol::domain::Day;
use candor_protocol::keys::OrganisationKey;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("resign-round") => resign_round(&args[1..]),
        Some("intranet") => serve_intranet(&args[1..]),
        _ => Err("usage: candor-demo intranet --listen ADDR --candor-url URL --web-dir DIR --key FILE \
                  --org-key-file FILE [--audience AUD]\n       candor-demo resign-round --org-key FILE \
                  [--days-ago N] [--issuer HOST]"
            .into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("candor-demo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|arg| arg == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn shift(day: Day, days: u64) -> Result<Day, String> {
    Day::from_unix_seconds(day.utc_midnight().saturating_sub(days * 86_400)).ok_or_else(|| "day".to_owned())
}

fn resign_round(args: &[String]) -> Result<(), String> {
    let key_file = flag(args, "--org-key").ok_or("--org-key FILE is required")?;
    let text = std::fs::read_to_string(key_file).map_err(|e| format!("{key_file}: {e}"))?;
    let seed: [u8; 32] = b64::decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("{key_file} does not hold a 32-byte key"))?;
    let organisation = OrganisationKey::from_seed(&seed);
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).map_err(|e| e.to_string())?;
    let mut round: OpenRound = serde_json::from_str(&input).map_err(|e| format!("not a round: {e}"))?;
    let mut manifest = round.manifest.manifest.clone();
    if let Some(days) = flag(args, "--days-ago") {
        let days: u64 = days.parse().map_err(|_| "--days-ago takes a number")?;
        manifest.opens = shift(manifest.opens, days)?;
        manifest.closes = shift(manifest.closes, days)?;
        manifest.opens_at -= days * 86_400;
        manifest.closes_at -= days * 86_400;
    }
    if let Some(issuer) = flag(args, "--issuer") {
        manifest.issuer_name = issuer.to_owned();
        manifest.origin = issuer.to_owned();
    }
    round.manifest = manifest.sign(&organisation).map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string(&round).map_err(|e| e.to_string())?);
    Ok(())
}

fn serve_intranet(args: &[String]) -> Result<(), String> {
    let need = |name: &str| flag(args, name).ok_or_else(|| format!("{name} is required"));
    let listen: std::net::SocketAddr = need("--listen")?.parse().map_err(|_| "--listen takes HOST:PORT")?;
    let key =
        candor_server::assertion::IntranetKey::load(Path::new(need("--key")?)).map_err(|e| e.to_string())?;
    let org_key_file = need("--org-key-file")?;
    let organisation_key =
        std::fs::read_to_string(org_key_file).map_err(|e| format!("{org_key_file}: {e}"))?.trim().to_owned();
    let intranet = intranet::Intranet {
        key,
        candor_url: need("--candor-url")?.trim_end_matches('/').to_owned(),
        organisation_key,
        audience: flag(args, "--audience").unwrap_or("candor").to_owned(),
        loader: intranet::loader(&Path::new(need("--web-dir")?).join("widget"))?,
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| e.to_string())?;
        println!("demo intranet on http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        axum::serve(listener, intranet::router(intranet))
            .with_graceful_shutdown(async {
                let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = async { match terminate.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {},
                }
            })
            .await
            .map_err(|e| e.to_string())
    })
}
