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

    /// CPU time the process has used so far (user and system), from /proc.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("/proc stat");
        // Fields after the command name, which is in parentheses: utime and stime are
        // the 14th and 15th fields of the line, in clock ticks.
        let rest = stat.rsplit_once(')').expect("stat format").1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
        ticks / clock_ticks_per_second()
    }

    /// What the process wrote.
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

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8_lossy(&output.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}
