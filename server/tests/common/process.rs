//! A real `candor serve` process on a test's folder and database: for what an in-process
//! server cannot show (SIGKILL, several servers on one database, a proxy in front).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::TestApp;

/// Writes the configuration `app` runs with as a file a `candor` process can read:
/// same database, keys, intranet keys and public URL, on a random loopback port.
pub fn write_config(app: &TestApp, name: &str) -> PathBuf {
    let config = &app.config;
    let origins: Vec<String> = config.intranet_origins.iter().map(|o| format!("{:?}", o.as_str())).collect();
    let text = format!(
        "listen = \"127.0.0.1:0\"\ndatabase = {:?}\npublic_url = {:?}\naudience = {:?}\n\
         intranet_origins = [{}]\njwks = {:?}\nkeys_dir = {:?}\nweb_dir = {:?}\n",
        config.database.as_str(),
        config.public_url.origin().as_str(),
        config.audience,
        origins.join(", "),
        config.jwks,
        config.keys_dir,
        config.web_dir,
    );
    let path = app.dir.path().join(name);
    std::fs::write(&path, text).expect("config file");
    path
}

/// A running `candor serve`.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `candor serve --config FILE` and returns once it listens (its own log
    /// line says where). What it writes goes to `LOG`, beside the config.
    pub fn start(config: &Path, log: &str) -> ServerProcess {
        use std::io::Write as _;
        let log = config.parent().expect("the config's folder").join(log);
        let open = || std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("log file");
        let stderr = open();
        let mut copy = open();
        let mut child = Command::new(env!("CARGO_BIN_EXE_candor"))
            .env_remove("CANDOR_CONFIG")
            .args(["--config".as_ref(), config.as_os_str(), "serve".as_ref()])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("candor serve");
        let stdout = child.stdout.take().expect("stdout");
        let (lines, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(copy, "{line}");
                let _ = lines.send(line);
            }
        });
        loop {
            match received.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(address) = line.split("listening on ").nth(1) {
                        let address = format!("http://{}", address.trim());
                        return ServerProcess { child, address, log };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "candor serve did not listen: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        }
    }

    /// SIGKILL, at once, and waits until the process is gone: no shutdown of any kind.
    pub fn kill(&mut self) {
        // std's Child::kill is SIGKILL on Unix.
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// What the process wrote to standard error.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
