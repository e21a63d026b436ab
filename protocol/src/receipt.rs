//! Receipts: the server's signed word that an item is durably stored.

use serde::{Deserialize, Serialize};

use crate::canonical::Canonical;
use crate::domain::RoundId;
use crate::keys::{BadSignature, ReceiptKey, ReceiptPublicKey, Signature};
use crate::submission::ItemHash;

/// What a receipt says: this item is stored for this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Receipt {
    /// The round.
    pub round: RoundId,
    /// The stored item.
    pub item: ItemHash,
}

impl Receipt {
    /// The canonical bytes the server signs.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        Canonical::new("candor/receipt/v1")
            .bytes(&self.round.to_bytes())
            .bytes(&self.item.to_bytes())
            .finish()
    }

    /// Server: signs the receipt. Call only once the item is durably committed.
    pub fn sign(self, key: &ReceiptKey) -> SignedReceipt {
        let signature = key.sign(&self.canonical_bytes());
        SignedReceipt { receipt: self, signature }
    }
}

/// A receipt and the server's signature, the body of a `201 Created`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignedReceipt {
    /// The receipt.
    #[serde(flatten)]
    pub receipt: Receipt,
    /// The server's signature.
    pub signature: Signature,
}

impl SignedReceipt {
    /// Author: checks the server's signature with the receipt key from the verified
    /// manifest, and that the receipt names the item that was sent.
    pub fn verify(&self, key: &ReceiptPublicKey, expected: &Receipt) -> Result<(), ReceiptError> {
        key.verify(&self.receipt.canonical_bytes(), &self.signature)?;
        if &self.receipt != expected {
            return Err(ReceiptError::WrongItem);
        }
        Ok(())
    }
}

/// Why a receipt is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The server's signature does not verify.
    #[error(transparent)]
    Signature(#[from] BadSignature),
    /// The receipt is for another item or round.
    #[error("the receipt names another item")]
    WrongItem,
}
