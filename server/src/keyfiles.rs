//! Key files: created with mode 0600 and never printed. Each holds one base64url value.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use candor_protocol::b64;
use candor_protocol::keys::{OrganisationKey, ReceiptKey};
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

/// The keys the server runs with.
#[derive(Debug)]
pub struct ServerKeys {
    /// Signs round manifests.
    pub organisation: OrganisationKey,
    /// Signs receipts.
    pub receipt: ReceiptKey,
    /// Keys the HMAC of assertion subjects.
    pub server_secret: Zeroizing<[u8; 32]>,
}

impl ServerKeys {
    /// Reads the three keys from `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeyFileError> {
        Ok(Self {
            organisation: OrganisationKey::from_seed(&*read_secret(&dir.join(ORGANISATION_KEY))?),
            receipt: ReceiptKey::from_seed(&*read_secret(&dir.join(RECEIPT_KEY))?),
            server_secret: read_secret(&dir.join(SERVER_SECRET))?,
        })
    }

    /// Creates the three keys in `dir`, and the organisation's public key beside them.
    pub fn create(dir: &Path) -> Result<Self, KeyFileError> {
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
        write_secret(&dir.join(ORGANISATION_KEY), &organisation.to_seed())?;
        write_secret(&dir.join(RECEIPT_KEY), &receipt.to_seed())?;
        write_secret(&dir.join(SERVER_SECRET), &server_secret)?;
        let public = format!("{}\n", organisation.public_key().to_base64());
        let path = dir.join(ORGANISATION_PUB);
        std::fs::write(&path, public).map_err(|e| KeyFileError::Io(path, e))?;
        Ok(Self { organisation, receipt, server_secret })
    }
}
