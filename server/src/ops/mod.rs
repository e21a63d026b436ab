//! What the operator's commands do, as library calls: the CLI is clap plus these, and
//! tests call them directly.

pub mod embed;
pub mod leaders;
pub mod rounds;
pub mod setup;

use crate::keyfiles::KeyFileError;
use crate::store::StoreError;

/// Why an operation failed; the message is for the operator.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key file could not be read or written.
    #[error(transparent)]
    Keys(#[from] KeyFileError),
    /// A manifest breaks the rules, or its signature does not verify.
    #[error("the round's manifest: {0}")]
    Manifest(#[from] candor_protocol::manifest::ManifestError),
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
    /// The request does not make sense.
    #[error("{0}")]
    Invalid(String),
}

/// An operation's result.
pub type OpsResult<T> = Result<T, OpsError>;
