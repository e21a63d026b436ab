//! Configuration: defaults, then the TOML file, then `CANDOR_*` environment variables,
//! then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

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

/// The server's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Database URL: `sqlite://PATH` (created if missing).
    pub database: String,
    /// The public base URL of this server, e.g. `https://candor.acme.example`. Its host
    /// is the Privacy Pass issuer name and the token challenge's origin.
    pub public_url: String,
    /// The `aud` every assertion must carry.
    pub audience: String,
    /// Origins of intranet pages allowed to embed the widget and call the API (CORS,
    /// CSP frame-ancestors).
    pub intranet_origins: Vec<String>,
    /// The intranet's public keys, a JWKS file of RFC 8037 Ed25519 (`OKP`) keys.
    pub jwks: PathBuf,
    /// Folder of the organisation key, receipt key and server secret.
    pub keys_dir: PathBuf,
    /// Clock skew allowed when checking an assertion's `exp`, in seconds.
    pub assertion_leeway_seconds: u32,
    /// The longest an assertion may live, in seconds: longer-lived ones are refused.
    pub assertion_max_lifetime_seconds: u32,
    /// The built web front ends: `widget/` (with `embed.js`) and `digest/`, as
    /// `cargo xtask build` leaves them in `dist/`.
    pub web_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "sqlite://candor.db".into(),
            public_url: "http://127.0.0.1:8080".into(),
            audience: "candor".into(),
            intranet_origins: Vec::new(),
            jwks: "intranet-jwks.json".into(),
            keys_dir: "keys".into(),
            assertion_leeway_seconds: 30,
            assertion_max_lifetime_seconds: 3_600,
            web_dir: "dist".into(),
        }
    }
}

impl Config {
    /// Reads the configuration: defaults, the file (if it exists), the environment.
    /// Relative paths in the file are taken relative to the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut config = if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
            let mut config: Config =
                toml::from_str(&text).map_err(|e| ConfigError::Parse(path.into(), e.to_string()))?;
            let base = path.parent().unwrap_or(Path::new("."));
            config.jwks = base.join(&config.jwks);
            config.keys_dir = base.join(&config.keys_dir);
            config.web_dir = base.join(&config.web_dir);
            if let Some(file) = config.database.strip_prefix("sqlite://")
                && !file.starts_with('/')
                && !file.starts_with(':')
            {
                config.database = format!("sqlite://{}", base.join(file).display());
            }
            config
        } else {
            Config::default()
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.check()?;
        Ok(config)
    }

    /// Applies `CANDOR_LISTEN`, `CANDOR_DATABASE`, `CANDOR_PUBLIC_URL`,
    /// `CANDOR_AUDIENCE`, `CANDOR_WEB_DIR` and `CANDOR_INTRANET_ORIGINS` (comma-separated).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(listen) = var("CANDOR_LISTEN") {
            self.listen =
                listen.parse().map_err(|_| ConfigError::Env("CANDOR_LISTEN", "expected HOST:PORT".into()))?;
        }
        if let Some(database) = var("CANDOR_DATABASE") {
            self.database = database;
        }
        if let Some(url) = var("CANDOR_PUBLIC_URL") {
            self.public_url = url;
        }
        if let Some(audience) = var("CANDOR_AUDIENCE") {
            self.audience = audience;
        }
        if let Some(web_dir) = var("CANDOR_WEB_DIR") {
            self.web_dir = web_dir.into();
        }
        if let Some(origins) = var("CANDOR_INTRANET_ORIGINS") {
            self.intranet_origins =
                origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
        }
        Ok(())
    }

    /// Checks values that defaults and types cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        origin_of(&self.public_url).ok_or_else(|| {
            ConfigError::Invalid(format!("public_url `{}` is not an http(s) URL", self.public_url))
        })?;
        for origin in &self.intranet_origins {
            if origin_of(origin).as_deref() != Some(origin.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "intranet origin `{origin}` must be scheme://host[:port], without a path"
                )));
            }
        }
        if self.audience.is_empty() {
            return Err(ConfigError::Invalid("audience must not be empty".into()));
        }
        Ok(())
    }

    /// This server's origin, `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        origin_of(&self.public_url).unwrap_or_default()
    }

    /// The Privacy Pass issuer name and origin info: the host (and port) of `public_url`.
    pub fn issuer_name(&self) -> String {
        let origin = self.origin();
        origin.split_once("://").map(|(_, host)| host.to_owned()).unwrap_or(origin)
    }

    /// Whether the server is reached over TLS (cookies then get `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
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
# CANDOR_INTRANET_ORIGINS, CANDOR_WEB_DIR) or a command-line flag, which win over this file.
# Relative paths are relative to this file's folder.

# Address to listen on.
listen = "127.0.0.1:8080"

# Where feedback is kept. SQLite is the embedded default (WAL, synchronous=FULL).
database = "sqlite://candor.db"

# The URL employees' browsers reach this server at. Its host is the Privacy Pass
# issuer name; use https in production (session cookies are then marked Secure).
public_url = "{public_url}"

# Every eligibility assertion must carry this `aud`.
audience = "candor"

# Intranet origins that may embed the widget and call the API, e.g.
# ["https://intranet.acme.example"]. Nothing else may frame the widget.
intranet_origins = []

# The intranet's public keys (JWKS of RFC 8037 Ed25519 keys) that sign assertions.
jwks = "intranet-jwks.json"

# The organisation key, the receipt key and the server secret (mode 0600).
keys_dir = "keys"

# Clock skew allowed on an assertion's `exp`, and the longest lifetime accepted.
assertion_leeway_seconds = 30
assertion_max_lifetime_seconds = 3600

# The built widget (with embed.js) and digest page, as `cargo xtask build` makes them.
web_dir = "dist"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let config: Config = toml::from_str(&example("http://127.0.0.1:8080")).unwrap();
        assert_eq!(config.listen, Config::default().listen);
        assert_eq!(config.issuer_name(), "127.0.0.1:8080");
    }

    #[test]
    fn environment_wins_over_the_file() {
        let mut config = Config::default();
        let env = |name: &str| match name {
            "CANDOR_INTRANET_ORIGINS" => Some("https://a.example, https://b.example".into()),
            "CANDOR_PUBLIC_URL" => Some("https://Candor.Example/base".into()),
            _ => None,
        };
        config.apply_env(env).unwrap();
        assert_eq!(config.intranet_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(config.origin(), "https://candor.example");
        assert!(config.check().is_ok());
        config.intranet_origins.push("https://c.example/path".into());
        assert!(config.check().is_err());
    }
}
