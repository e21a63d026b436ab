//! Key files: created with mode 0600 and never printed. Each holds one base64url value.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use candor_protocol::b64;
use candor_protocol::keys::{OrganisationKey, OrganisationPublicKey, ReceiptKey};
use zeroize::Zeroizing;

/// File names inside the keys folder.
pub const ORGANISATION_KEY: &str = "organisation.key";
/// The organisation's public key, to pin in widgets.
pub const ORGANISATION_PUB: &str = "organisation.pub";
/// The server's receipt key.
pub const RECEIPT_KEY: &str = "receipt.key";
/// The server secret (keys the HMAC of assertion subjects).
pub const SERVER_SECRET: &str = "server.secret";

/// A key file problem.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Could not read or write.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// The file does not hold a 32-byte base64url value.
    #[error("{0} does not hold a 32-byte key")]
    Format(PathBuf),
    /// Refusing to overwrite.
    #[error("{0} already exists; refusing to overwrite a key")]
    Exists(PathBuf),
}

/// Writes `contents` to a new file readable by its owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyFileError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| KeyFileError::Io(parent.into(), e))?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(
        |e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => KeyFileError::Exists(path.into()),
            _ => KeyFileError::Io(path.into(), e),
        },
    )?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(|e| KeyFileError::Io(path.into(), e))
}

/// Writes a fresh 32-byte secret.
pub fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<(), KeyFileError> {
    let text = Zeroizing::new(format!("{}\n", b64::encode(secret)));
    write_private(path, text.as_bytes())
}

/// Reads a 32-byte secret.
pub fn read_secret(path: &Path) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| KeyFileError::Io(path.into(), e))?);
    let bytes = Zeroizing::new(b64::decode(text.trim()).map_err(|_| KeyFileError::Format(path.into()))?);
    let mut secret = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(KeyFileError::Format(path.into()));
    }
    secret.copy_from_slice(&bytes);
    Ok(secret)
}

/// The keys `candor serve` runs with: the receipt key and the server secret. The
/// organisation key is not among them: it signs manifests, which can be done on
/// another machine (`candor round sign`).
pub struct ServerKeys {
    /// Signs receipts.
    pub receipt: ReceiptKey,
    /// Keys the HMAC of assertion subjects, and seals the token private keys.
    pub server_secret: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys").field("receipt", &self.receipt.public_key()).finish_non_exhaustive()
    }
}

impl ServerKeys {
    /// Reads the receipt key and the server secret from `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeyFileError> {
        Ok(Self {
            receipt: ReceiptKey::from_seed(&*read_secret(&dir.join(RECEIPT_KEY))?),
            server_secret: read_secret(&dir.join(SERVER_SECRET))?,
        })
    }

    /// Creates the organisation key (with its public half beside it), the receipt key
    /// and the server secret in `dir`. Returns the server's keys and the organisation's
    /// public key.
    pub fn create(dir: &Path) -> Result<(Self, OrganisationPublicKey), KeyFileError> {
        let mut rng = rand::rng();
        let organisation = OrganisationKey::generate(&mut rng);
        let receipt = ReceiptKey::generate(&mut rng);
        let mut server_secret = Zeroizing::new([0u8; 32]);
        rand::Rng::fill_bytes(&mut rng, &mut server_secret[..]);
        for name in [ORGANISATION_KEY, RECEIPT_KEY, SERVER_SECRET, ORGANISATION_PUB] {
            if dir.join(name).exists() {
                return Err(KeyFileError::Exists(dir.join(name)));
            }
        }
        private_dir(dir)?;
        write_secret(&dir.join(ORGANISATION_KEY), &organisation.to_seed())?;
        write_secret(&dir.join(RECEIPT_KEY), &receipt.to_seed())?;
        write_secret(&dir.join(SERVER_SECRET), &server_secret)?;
        let public = organisation.public_key();
        let path = dir.join(ORGANISATION_PUB);
        std::fs::write(&path, format!("{}\n", public.to_base64())).map_err(|e| KeyFileError::Io(path, e))?;
        Ok((Self { receipt, server_secret }, public))
    }

    /// HMAC(server secret, label ‖ data): the subject's keyed hash, and the sealing key.
    pub fn keyed_hash(&self, label: &[u8], data: &[u8]) -> [u8; 32] {
        use hmac::{KeyInit as _, Mac as _};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.server_secret[..])
            .expect("HMAC takes keys of any length");
        mac.update(label);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The key that seals token private keys at rest, derived from the server secret
    /// (HMAC-SHA-256 as a KDF), so the server needs no further key file.
    pub fn token_key_seal(&self) -> crate::sealing::TokenKeySeal {
        crate::sealing::TokenKeySeal::new(Zeroizing::new(self.keyed_hash(b"candor/token-key-seal/v1", b"")))
    }
}

/// Creates `dir` (if needed) readable by its owner only.
pub fn private_dir(dir: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).map_err(|e| KeyFileError::Io(dir.into(), e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| KeyFileError::Io(dir.into(), e))
}

/// Reads the organisation's signing key (only `candor round open` and `round sign` do).
pub fn load_organisation_key(path: &Path) -> Result<OrganisationKey, KeyFileError> {
    Ok(OrganisationKey::from_seed(&*read_secret(path)?))
}

/// Reads the organisation's public key, as `candor init` wrote it beside the keys.
pub fn load_organisation_public(dir: &Path) -> Result<OrganisationPublicKey, KeyFileError> {
    let path = dir.join(ORGANISATION_PUB);
    let text = std::fs::read_to_string(&path).map_err(|e| KeyFileError::Io(path.clone(), e))?;
    OrganisationPublicKey::from_base64(text.trim()).map_err(|_| KeyFileError::Format(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_keys_never_print_their_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, _) = ServerKeys::create(&dir.path().join("keys")).unwrap();
        let debug = format!("{keys:?}");
        let secret = std::fs::read_to_string(dir.path().join("keys").join(SERVER_SECRET)).unwrap();
        assert!(!debug.contains(secret.trim()), "{debug}");
        assert!(!debug.contains(&format!("{:?}", &keys.server_secret[..4])), "{debug}");
        assert!(debug.starts_with("ServerKeys { receipt: "), "{debug}");
    }
}
