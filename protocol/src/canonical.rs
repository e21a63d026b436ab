//! The one canonical byte encoding that Candor signs.
//!
//! JSON is how values travel; it is never what gets signed, because two JSON texts can
//! mean the same thing. What gets signed is this encoding: a domain-separation label,
//! then each field length-prefixed in a fixed order, so two different values can never
//! encode to the same bytes and a signature made for one purpose (a manifest, say) can
//! never be replayed as another (a receipt).

/// Builds canonical bytes for one signed structure.
#[derive(Debug)]
pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    /// Starts an encoding under a domain-separation label such as `candor/manifest/v1`.
    pub(crate) fn new(label: &str) -> Self {
        let mut this = Self(Vec::with_capacity(256));
        this.bytes(label.as_bytes());
        this
    }

    /// Appends a length-prefixed byte string.
    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(value);
        self
    }

    /// Appends a length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    /// Appends a fixed-width integer.
    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Appends a fixed-width 64-bit integer.
    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Appends a one-byte tag.
    pub(crate) fn tag(&mut self, value: u8) -> &mut Self {
        self.0.push(value);
        self
    }

    pub(crate) fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Canonical;

    #[test]
    fn length_prefixes_keep_fields_apart() {
        let a = Canonical::new("t").str("ab").str("c").finish();
        let b = Canonical::new("t").str("a").str("bc").finish();
        assert_ne!(a, b);
    }

    #[test]
    fn labels_separate_domains() {
        assert_ne!(
            Canonical::new("candor/receipt/v1").str("x").finish(),
            Canonical::new("candor/manifest/v1").str("x").finish()
        );
    }
}
