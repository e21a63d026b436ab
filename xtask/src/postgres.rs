//! A PostgreSQL for the tests: the one `CANDOR_TEST_POSTGRES` names, else the machine's
//! at 127.0.0.1:5432 if it answers, else a throwaway cluster started for this run
//! (PostgreSQL installed from Debian first if the machine has none). Never skipped: if
//! none can be had, the test command fails and says why.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{command, output, run};

/// The variable the server's tests read (an administrator's URL).
pub const ENV: &str = "CANDOR_TEST_POSTGRES";
const MACHINE: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The cluster the tests use; a throwaway one is stopped and removed when dropped.
#[derive(Debug)]
pub struct Postgres {
    /// An administrator's URL.
    pub url: String,
    throwaway: Option<Throwaway>,
}

#[derive(Debug)]
struct Throwaway {
    bin: PathBuf,
    dir: PathBuf,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(cluster) = &self.throwaway {
            let data = cluster.dir.join("data");
            let pg_ctl = cluster.bin.join("pg_ctl");
            let _ =
                as_postgres(&pg_ctl, &["-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"]).output();
            let _ = std::fs::remove_dir_all(&cluster.dir);
        }
    }
}

fn answers(url: &str) -> bool {
    Command::new("psql")
        .args([url, "-tAc", "SELECT 1"])
        .env("PGCONNECT_TIMEOUT", "3")
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1")
}

/// Finds or starts the tests' PostgreSQL.
pub fn ensure() -> Result<Postgres, String> {
    if let Ok(url) = std::env::var(ENV) {
        ensure_client()?;
        return if answers(&url) {
            println!("\n== PostgreSQL: {url} (from {ENV})");
            Ok(Postgres { url, throwaway: None })
        } else {
            Err(format!("{ENV}={url} does not answer"))
        };
    }
    ensure_client()?;
    if answers(MACHINE) {
        println!("\n== PostgreSQL: the machine's, {MACHINE}");
        return Ok(Postgres { url: MACHINE.to_owned(), throwaway: None });
    }
    start_throwaway()
}

/// psql, and the server binaries with it.
fn ensure_client() -> Result<(), String> {
    if Path::new("/usr/bin/psql").exists() && server_bin().is_some() {
        return Ok(());
    }
    run("apt-get update", command("apt-get", &["update", "-qq"]))?;
    let mut install = command("apt-get", &["install", "-y", "-qq", "--no-install-recommends", "postgresql"]);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run("install PostgreSQL (Debian)", install)
}

/// The newest installed server's binaries, e.g. /usr/lib/postgresql/15/bin.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let bin = PathBuf::from(format!("/usr/lib/postgresql/{}/bin", versions.last()?));
    bin.join("initdb").exists().then_some(bin)
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

/// A command run as the `postgres` user when this is root (initdb refuses root).
fn as_postgres(program: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program).args(args);
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}

fn start_throwaway() -> Result<Postgres, String> {
    let bin = server_bin().ok_or("PostgreSQL's server binaries are not under /usr/lib/postgresql")?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let dir = std::env::temp_dir().join(format!("candor-test-postgres-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if is_root() {
        run("chown to postgres", command("chown", &["postgres:postgres", &dir.to_string_lossy()]))?;
    }
    let cluster = Throwaway { bin: bin.clone(), dir: dir.clone() };
    let data = dir.join("data");
    let data = data.to_string_lossy();
    run(
        "initdb (a throwaway PostgreSQL for the tests)",
        as_postgres(&bin.join("initdb"), &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
    )?;
    let options =
        format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300", dir.display());
    let log = dir.join("server.log");
    run(
        &format!("start PostgreSQL on 127.0.0.1:{port}"),
        as_postgres(
            &bin.join("pg_ctl"),
            &["-D", &data, "-l", &log.to_string_lossy(), "-o", &options, "-w", "start"],
        ),
    )?;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let postgres = Postgres { url: url.clone(), throwaway: Some(cluster) };
    if answers(&url) {
        Ok(postgres)
    } else {
        Err(format!("the throwaway PostgreSQL at {url} does not answer"))
    }
}
