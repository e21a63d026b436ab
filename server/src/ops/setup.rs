//! `candor init`: the keys and a commented configuration.

use std::path::Path;

use candor_protocol::keys::OrganisationPublicKey;

use super::{OpsError, OpsResult};
use crate::config::{self, Config};
use crate::keyfiles::ServerKeys;

/// Writes `config_path` and the keys beside it; returns the organisation's public key.
pub fn init(config_path: &Path, public_url: &str) -> OpsResult<OrganisationPublicKey> {
    if config_path.exists() {
        return Err(OpsError::Invalid(format!(
            "{} already exists; refusing to overwrite it",
            config_path.display()
        )));
    }
    let base = config_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(base).map_err(|e| OpsError::Io(base.into(), e))?;
    let text = config::example(public_url);
    let config: Config = toml::from_str(&text).map_err(|e| OpsError::Invalid(e.to_string()))?;
    let (_, organisation) = ServerKeys::create(&base.join(&config.keys_dir))?;
    std::fs::write(config_path, text).map_err(|e| OpsError::Io(config_path.into(), e))?;
    Ok(organisation)
}
