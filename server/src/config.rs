//! Configuration: defaults, then the TOML file, then `CANDOR_*` environment variables,
//! then command-line flags. Values are typed where they are read: a URL that is not an
//! http(s) URL, an origin with a path or an unknown time zone never gets past loading.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::clock::OrgTimeZone;
use crate::store::DatabaseUrl;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file is not valid TOML for this configuration.
    #[error("invalid configuration in {0}: {1}")]
    Parse(PathBuf, String),
    /// An environment variable has an invalid value.
    #[error("invalid value in ${0}: {1}")]
    Env(&'static str, String),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// An origin, `scheme://host[:port]`, lowercased, http or https, without a path.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Origin(String);

impl Origin {
    /// Parses an origin; a path, query or user part is refused.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        match origin_of(text) {
            Some(origin) if origin == text.to_ascii_lowercase() => Ok(Self(origin)),
            _ => Err(ConfigError::Invalid(format!(
                "`{text}` must be an origin, scheme://host[:port], without a path"
            ))),
        }
    }

    /// The origin's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Origin {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The URL browsers reach this server at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PublicUrl {
    origin: Origin,
}

impl PublicUrl {
    /// Parses an http(s) URL; only its origin is kept (a path is not supported).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let origin = origin_of(text)
            .ok_or_else(|| ConfigError::Invalid(format!("public_url `{text}` is not an http(s) URL")))?;
        Ok(Self { origin: Origin(origin) })
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The host and port: the Privacy Pass issuer name and origin info.
    pub fn host(&self) -> &str {
        self.origin.0.split_once("://").map_or(self.origin.0.as_str(), |(_, host)| host)
    }

    /// Whether browsers reach it over TLS (cookies then get `Secure` and `__Host-`).
    pub fn is_https(&self) -> bool {
        self.origin.0.starts_with("https://")
    }
}

impl TryFrom<String> for PublicUrl {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl<'de> Deserialize<'de> for OrgTimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        OrgTimeZone::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// The server's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where everything is stored: `sqlite://PATH` (created if missing, in a folder
    /// only the server's user may enter).
    pub database: DatabaseUrl,
    /// The public base URL of this server, e.g. `https://candor.acme.example`. Its host
    /// is the Privacy Pass issuer name and the token challenge's origin.
    pub public_url: PublicUrl,
    /// The `aud` every assertion must carry.
    pub audience: String,
    /// Origins of intranet pages allowed to embed the widget (CSP frame-ancestors).
    pub intranet_origins: Vec<Origin>,
    /// The intranet's public keys, a JWKS file of RFC 8037 Ed25519 (`OKP`) keys.
    pub jwks: PathBuf,
    /// Folder of the receipt key and the server secret (and, where rounds are signed on
    /// this machine, the organisation key).
    pub keys_dir: PathBuf,
    /// Clock skew allowed when checking an assertion's `exp`, in seconds.
    pub assertion_leeway_seconds: u32,
    /// The longest an assertion may live, in seconds: longer-lived ones are refused.
    pub assertion_max_lifetime_seconds: u32,
    /// The built web front ends: `widget/` (with the loader) and `digest/`, as
    /// `cargo xtask build` leaves them in `dist/`.
    pub web_dir: PathBuf,
    /// The organisation's time zone (IANA name): rounds open and close at its midnights,
    /// and its days are the only dates Candor keeps.
    pub time_zone: OrgTimeZone,
    /// The longest a request may take, headers and body included, in seconds.
    pub request_timeout_seconds: u32,
    /// The most connections served at once; more are answered 503 and closed.
    pub max_connections: u32,
    /// How long requests in flight may finish after a shutdown signal, in seconds.
    pub shutdown_grace_seconds: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: DatabaseUrl::parse("sqlite://data/candor.db").expect("a valid default"),
            public_url: PublicUrl::parse("http://127.0.0.1:8080").expect("a valid default"),
            audience: "candor".into(),
            intranet_origins: Vec::new(),
            jwks: "intranet-jwks.json".into(),
            keys_dir: "keys".into(),
            assertion_leeway_seconds: 30,
            assertion_max_lifetime_seconds: 3_600,
            web_dir: "dist".into(),
            time_zone: OrgTimeZone::utc(),
            request_timeout_seconds: 30,
            max_connections: 1_024,
            shutdown_grace_seconds: 10,
        }
    }
}

impl Config {
    /// Reads the configuration: defaults, the file (if it exists), the process's
    /// environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, |name| std::env::var(name).ok())
    }

    /// As [`load`](Self::load), with the environment given. Relative paths in the file
    /// are taken relative to the file's folder.
    pub fn load_with(path: &Path, var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
            let mut config: Config =
                toml::from_str(&text).map_err(|e| ConfigError::Parse(path.into(), e.to_string()))?;
            let base = path.parent().unwrap_or(Path::new("."));
            config.jwks = base.join(&config.jwks);
            config.keys_dir = base.join(&config.keys_dir);
            config.web_dir = base.join(&config.web_dir);
            config.database = config.database.relative_to(base);
            config
        } else {
            Config::default()
        };
        config.apply_env(var)?;
        config.check()?;
        Ok(config)
    }

    /// Applies `CANDOR_LISTEN`, `CANDOR_DATABASE`, `CANDOR_PUBLIC_URL`,
    /// `CANDOR_AUDIENCE`, `CANDOR_WEB_DIR`, `CANDOR_TIME_ZONE` and
    /// `CANDOR_INTRANET_ORIGINS` (comma-separated).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let env = |name: &'static str, e: ConfigError| ConfigError::Env(name, e.to_string());
        if let Some(listen) = var("CANDOR_LISTEN") {
            self.listen =
                listen.parse().map_err(|_| ConfigError::Env("CANDOR_LISTEN", "expected HOST:PORT".into()))?;
        }
        if let Some(database) = var("CANDOR_DATABASE") {
            self.database = DatabaseUrl::parse(&database)
                .map_err(|e| ConfigError::Env("CANDOR_DATABASE", e.to_string()))?;
        }
        if let Some(url) = var("CANDOR_PUBLIC_URL") {
            self.public_url = PublicUrl::parse(&url).map_err(|e| env("CANDOR_PUBLIC_URL", e))?;
        }
        if let Some(audience) = var("CANDOR_AUDIENCE") {
            self.audience = audience;
        }
        if let Some(web_dir) = var("CANDOR_WEB_DIR") {
            self.web_dir = web_dir.into();
        }
        if let Some(zone) = var("CANDOR_TIME_ZONE") {
            self.time_zone =
                OrgTimeZone::parse(&zone).map_err(|e| ConfigError::Env("CANDOR_TIME_ZONE", e.to_string()))?;
        }
        if let Some(origins) = var("CANDOR_INTRANET_ORIGINS") {
            self.intranet_origins = origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(Origin::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| env("CANDOR_INTRANET_ORIGINS", e))?;
        }
        Ok(())
    }

    /// Checks values that types cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.audience.is_empty() {
            return Err(ConfigError::Invalid("audience must not be empty".into()));
        }
        if self.request_timeout_seconds == 0 || self.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "request_timeout_seconds and max_connections must be positive".into(),
            ));
        }
        Ok(())
    }

    /// This server's origin, `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        self.public_url.origin().as_str().to_owned()
    }

    /// The Privacy Pass issuer name and origin info: the host (and port) of `public_url`.
    pub fn issuer_name(&self) -> String {
        self.public_url.host().to_owned()
    }

    /// Whether the server is reached over TLS.
    pub fn is_https(&self) -> bool {
        self.public_url.is_https()
    }
}

/// `scheme://host[:port]` of an http(s) URL, lowercased.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() || host.contains('@') || host.contains(' ') {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// The commented configuration `candor init` writes.
pub fn example(public_url: &str) -> String {
    format!(
        r#"# Candor server configuration. Every value here can also be set by an environment
# variable (CANDOR_LISTEN, CANDOR_DATABASE, CANDOR_PUBLIC_URL, CANDOR_AUDIENCE,
# CANDOR_INTRANET_ORIGINS, CANDOR_WEB_DIR, CANDOR_TIME_ZONE) or a command-line flag,
# which win over this file. Relative paths are relative to this file's folder.

# Address to listen on.
listen = "127.0.0.1:8080"

# Where feedback is kept. SQLite is the embedded default (WAL, synchronous=FULL); its
# folder is made private to the server's user (0700), the files 0600.
database = "sqlite://data/candor.db"

# The URL employees' browsers reach this server at. Its host is the Privacy Pass
# issuer name; use https in production (the session cookie is then __Host- and Secure).
public_url = "{public_url}"

# Every eligibility assertion must carry this `aud`.
audience = "candor"

# Intranet origins that may embed the widget, e.g. ["https://intranet.acme.example"].
# Nothing else may frame it.
intranet_origins = []

# The intranet's public keys (JWKS of RFC 8037 Ed25519 keys) that sign assertions.
jwks = "intranet-jwks.json"

# The receipt key and the server secret (mode 0600). `candor serve` needs only these;
# the organisation key that signs rounds may live on another machine.
keys_dir = "keys"

# Clock skew allowed on an assertion's `exp`, and the longest lifetime accepted.
assertion_leeway_seconds = 30
assertion_max_lifetime_seconds = 3600

# The built widget (with its loader) and digest page, as `cargo xtask build` makes them.
web_dir = "dist"

# The organisation's time zone (IANA name): rounds open and close at its midnights.
time_zone = "UTC"

# Limits: the longest a request may take, the most connections at once, how long
# requests in flight may finish after SIGTERM.
request_timeout_seconds = 30
max_connections = 1024
shutdown_grace_seconds = 10
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_exactly_the_defaults() {
        let config: Config = toml::from_str(&example("http://127.0.0.1:8080")).unwrap();
        // Every field, through its Debug form: a new field with a different default in
        // the example fails here.
        assert_eq!(format!("{config:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn the_file_wins_over_defaults_and_the_environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("candor.toml");
        let text = example("https://candor.acme.example")
            .replace("audience = \"candor\"", "audience = \"from-the-file\"")
            .replace("time_zone = \"UTC\"", "time_zone = \"Europe/Berlin\"");
        std::fs::write(&path, text).unwrap();
        let from_file = Config::load_with(&path, |_| None).unwrap();
        assert_eq!(from_file.audience, "from-the-file");
        assert_eq!(from_file.time_zone.name(), "Europe/Berlin");
        assert_eq!(from_file.issuer_name(), "candor.acme.example");
        // Relative paths are the file's folder's.
        assert_eq!(from_file.keys_dir, dir.path().join("keys"));
        assert_eq!(from_file.database.sqlite_path(), Some(dir.path().join("data/candor.db")));

        let env = |name: &str| match name {
            "CANDOR_INTRANET_ORIGINS" => Some("https://a.example, https://b.example".into()),
            "CANDOR_PUBLIC_URL" => Some("https://Candor.Example/base".into()),
            "CANDOR_AUDIENCE" => Some("from-the-environment".into()),
            "CANDOR_TIME_ZONE" => Some("Pacific/Auckland".into()),
            "CANDOR_LISTEN" => Some("127.0.0.1:9999".into()),
            _ => None,
        };
        let config = Config::load_with(&path, env).unwrap();
        assert_eq!(config.audience, "from-the-environment");
        assert_eq!(config.time_zone.name(), "Pacific/Auckland");
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(
            config.intranet_origins.iter().map(Origin::as_str).collect::<Vec<_>>(),
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(config.origin(), "https://candor.example");
        assert!(config.is_https());
    }

    #[test]
    fn invalid_values_are_refused_where_they_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("candor.toml");
        for (key, bad) in [
            ("intranet_origins = []", "intranet_origins = [\"https://c.example/path\"]"),
            ("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus_Mons\""),
            ("public_url = \"http://127.0.0.1:8080\"", "public_url = \"ftp://x\""),
            ("database = \"sqlite://data/candor.db\"", "database = \"mysql://x\""),
        ] {
            std::fs::write(&path, example("http://127.0.0.1:8080").replace(key, bad)).unwrap();
            assert!(Config::load_with(&path, |_| None).is_err(), "{bad} accepted");
        }
        std::fs::write(&path, example("http://127.0.0.1:8080")).unwrap();
        let env =
            |name: &str| (name == "CANDOR_INTRANET_ORIGINS").then(|| "https://c.example/path".to_owned());
        assert!(Config::load_with(&path, env).is_err());
    }
}
