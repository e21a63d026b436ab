//! Base64url, as Privacy Pass writes it (RFC 9577 §2.1, RFC 9578 §4): padded on output,
//! padding optional on input.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes bytes as padded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Decodes base64url, with or without padding.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    ENGINE.decode(text)
}

/// Serde glue: fixed-size byte values travel in JSON as base64url strings.
macro_rules! serde_as_base64 {
    ($ty:ty, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&$crate::b64::encode(self.to_bytes()))
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $crate::b64::decode(&text)
                    .ok()
                    .and_then(|bytes| Self::from_slice(&bytes).ok())
                    .ok_or_else(|| serde::de::Error::custom(concat!("expected ", $expecting)))
            }
        }
    };
}
pub(crate) use serde_as_base64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_padded_and_unpadded() {
        assert_eq!(encode([0xfb, 0xff]), "-_8=");
        assert_eq!(decode("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(decode("+/8=").is_err(), "standard alphabet is not base64url");
    }
}
