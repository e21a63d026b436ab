//! `candor embed-snippet`: the tag an intranet page puts where the widget goes, with
//! the loader pinned by its SHA-384 (subresource integrity).

use std::path::Path;

use base64::Engine as _;
use sha2::Digest as _;

use super::{OpsError, OpsResult};
use crate::config::Config;
use crate::keyfiles;

/// The loader's file name: `embed-<the first 16 hex digits of its SHA-384>.js`.
fn is_loader_name(name: &str) -> bool {
    name.strip_prefix("embed-").and_then(|rest| rest.strip_suffix(".js")).is_some_and(|hash| {
        hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Finds the one loader in `<web_dir>/widget/`.
pub fn find_loader(web_dir: &Path) -> OpsResult<std::path::PathBuf> {
    let folder = web_dir.join("widget");
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries.collect::<Vec<_>>(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(OpsError::Io(folder, error)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| OpsError::Io(folder.clone(), e))?;
        if entry.file_name().to_str().is_some_and(is_loader_name) {
            found.push(entry.path());
        }
    }
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(OpsError::Invalid(format!(
            "no loader embed-<16 hex digits>.js in {}: build the widget first (cargo xtask build) and check web_dir",
            folder.display()
        ))),
        many => Err(OpsError::Invalid(format!(
            "{} loaders in {} ({}): remove the old ones, so every page pins the same",
            many.len(),
            folder.display(),
            many.iter().filter_map(|p| p.file_name()?.to_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The `<script>` tag for intranet pages.
pub fn snippet(config: &Config) -> OpsResult<String> {
    let loader = find_loader(&config.web_dir)?;
    let bytes = std::fs::read(&loader).map_err(|e| OpsError::Io(loader.clone(), e))?;
    let digest = sha2::Sha384::digest(&bytes);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let name = loader.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    if name != format!("embed-{hex}.js") {
        return Err(OpsError::Invalid(format!(
            "{name} does not hold what its name says (its SHA-384 begins {hex})"
        )));
    }
    let integrity = base64::engine::general_purpose::STANDARD.encode(digest);
    let organisation = keyfiles::load_organisation_public(&config.keys_dir)?;
    Ok(format!(
        "<script src=\"{}/widget/{name}\" integrity=\"sha384-{integrity}\" crossorigin=\"anonymous\" async \
         data-org-key=\"{}\" data-assertion=\"ASSERTION\"></script>",
        config.origin(),
        organisation.to_base64()
    ))
}
