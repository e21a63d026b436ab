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
        cpu_seconds(self.child.id())
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

/// CPU time a process (all its threads) has used so far, user and system, from /proc:
/// of a server, or of the load generator itself (`std::process::id()`).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // Fields after the command name, which is in parentheses: utime and stime are the
    // 14th and 15th fields of the line, in clock ticks.
    let rest = stat.rsplit_once(')').expect("stat format").1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / clock_ticks_per_second()
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

/// nginx from Debian with Candor's reference configuration (`deploy/nginx/`), changed
/// only where a test must: its addresses, certificate and log paths. TLS with a
/// certificate for the test's public name, made for the run.
pub struct Nginx {
    child: Child,
    /// The TLS port, on 127.0.0.1.
    pub port: u16,
    /// The certificate clients must trust (PEM).
    pub certificate: Vec<u8>,
    /// Where the configuration's access and error logs are.
    pub access_log: PathBuf,
    pub error_log: PathBuf,
}

/// How the test runs nginx's configuration.
pub enum NginxLog {
    /// Candor's reference configuration as shipped.
    Reference,
    /// The same with nginx's stock access log (`combined`) everywhere, TLS sessions
    /// resumable as nginx's defaults have them: the control.
    Stock,
}

impl Nginx {
    pub fn start(dir: &Path, name: &str, public_host: &str, upstreams: &[&str], log: NginxLog) -> Nginx {
        let dir = dir.join(name);
        std::fs::create_dir_all(dir.join("tmp")).expect("nginx folder");
        let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx");
        let certificate = self_signed(&dir, public_host);
        let port = free_port();
        let access_log = dir.join("candor-access.log");
        let error_log = dir.join("candor-error.log");
        let mut site =
            std::fs::read_to_string(reference.join("candor.conf")).expect("deploy/nginx/candor.conf");
        let servers: String =
            upstreams.iter().map(|a| format!("    server {};\n", a.trim_start_matches("http://"))).collect();
        let replace = |site: &mut String, from: &str, to: &str| {
            assert!(site.contains(from), "deploy/nginx/candor.conf no longer has `{from}`");
            *site = site.replace(from, to);
        };
        replace(&mut site, "    server 127.0.0.1:8081;\n    server 127.0.0.1:8082;\n", &servers);
        replace(&mut site, "listen 443 ssl;", &format!("listen 127.0.0.1:{port} ssl;"));
        replace(&mut site, "listen 80;", &format!("listen 127.0.0.1:{};", free_port()));
        replace(&mut site, "server_name candor.example.com;", &format!("server_name {public_host};"));
        replace(&mut site, "/etc/candor/tls/fullchain.pem", &dir.join("cert.pem").to_string_lossy());
        replace(&mut site, "/etc/candor/tls/privkey.pem", &dir.join("key.pem").to_string_lossy());
        replace(&mut site, "/var/log/nginx/candor-error.log", &error_log.to_string_lossy());
        replace(&mut site, "/var/log/nginx/candor-access.log", &access_log.to_string_lossy());
        if let NginxLog::Stock = log {
            replace(&mut site, "candor_leaders;\n", "combined;\n");
            replace(&mut site, "        access_log off;\n", "");
            replace(&mut site, "    ssl_session_tickets off;\n    ssl_session_cache   off;\n", "");
        }
        std::fs::write(dir.join("candor.conf"), site).expect("site");
        std::fs::copy(reference.join("candor-proxy.inc"), dir.join("candor-proxy.inc"))
            .expect("proxy settings");
        let temp = |what: &str| format!("{what}_temp_path {};\n", dir.join("tmp").join(what).display());
        // As root, nginx's workers would otherwise run as nobody, who cannot enter the
        // test's private folder.
        let user = if is_root() { "user root;\n" } else { "" };
        let main = format!(
            "{user}worker_processes 2;\ndaemon off;\npid {pid};\nerror_log {main_error};\n\
             events {{ worker_connections 4096; }}\nhttp {{\n{temps}include {site};\n}}\n",
            pid = dir.join("nginx.pid").display(),
            main_error = dir.join("main-error.log").display(),
            temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).concat(),
            site = dir.join("candor.conf").display(),
        );
        std::fs::write(dir.join("nginx.conf"), main).expect("nginx.conf");
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("main-error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (Debian's package nginx; cargo xtask test installs it)");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("main-error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, port, certificate, access_log, error_log }
    }

    /// A client that reaches `host` through this proxy, trusting its certificate.
    pub fn client(&self, host: &str, user_agent: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&self.certificate).expect("certificate"))
            .resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], self.port)))
            .user_agent(user_agent)
            .build()
            .expect("TLS client")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address").port()
}

/// A key and a self-signed certificate for `host`, by the openssl command.
fn self_signed(dir: &Path, host: &str) -> Vec<u8> {
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .args(["-subj", &format!("/CN={host}"), "-addext", &format!("subjectAltName=DNS:{host}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl req failed");
    std::fs::read(dir.join("cert.pem")).expect("certificate")
}
