//! Client-chosen identifiers and ledger time.

use core::fmt;

/// A client-chosen identifier of an account or an operation.
///
/// 128 bits, like TigerBeetle ids, so lookups stay cheap and the type is
/// `Copy` in firmware. Two spaces share it without colliding:
/// numbers below 2^127 ([`Id::number`]), and short names of at most
/// [`Id::MAX_NAME_LEN`] bytes ([`Id::name`]) packed with the top bit set.
/// Zero is reserved and rejected by every operation.
///
/// Stored as two `u64` halves (high first, so ordering is numeric): 8-byte
/// alignment instead of `u128`'s 16 keeps records in memory smaller.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Id {
    hi: u64,
    lo: u64,
}

impl core::hash::Hash for Id {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        state.write_u128(self.raw());
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

const NAME_TAG: u128 = 1 << 127;

impl Id {
    /// Longest name that fits beside the length byte.
    pub const MAX_NAME_LEN: usize = 15;

    /// A numeric id; `None` at or above 2^127 (that half holds names).
    pub const fn number(value: u128) -> Option<Id> {
        if value & NAME_TAG == 0 {
            Some(Id::from_raw(value))
        } else {
            None
        }
    }

    /// A name of at most 15 bytes, e.g. `"alice"`. The empty name is valid
    /// and distinct from every number.
    ///
    /// # Errors
    ///
    /// [`IdError::NameTooLong`] when `name` has more than 15 bytes.
    pub fn name(name: &str) -> Result<Id, IdError> {
        let bytes = name.as_bytes();
        if bytes.len() > Self::MAX_NAME_LEN {
            return Err(IdError::NameTooLong { len: bytes.len() });
        }
        let mut packed = [0u8; 16];
        // Length in the low seven bits of the first byte, the tag in its top bit.
        packed[0] = 0x80 | u8::try_from(bytes.len()).unwrap_or(0);
        for (slot, byte) in packed.iter_mut().skip(1).zip(bytes) {
            *slot = *byte;
        }
        Ok(Id::from_raw(u128::from_be_bytes(packed)))
    }

    /// Reconstructs an id from its raw 128 bits (as stored in a journal).
    #[allow(clippy::cast_possible_truncation)] // splitting into halves
    pub const fn from_raw(raw: u128) -> Id {
        Id {
            hi: (raw >> 64) as u64,
            lo: raw as u64,
        }
    }

    /// The raw 128 bits.
    pub const fn raw(self) -> u128 {
        ((self.hi as u128) << 64) | self.lo as u128
    }

    /// Whether this is the reserved zero id.
    pub const fn is_zero(self) -> bool {
        self.hi == 0 && self.lo == 0
    }

    /// Whether this id is a name (shown as text) rather than a number.
    pub const fn is_name(self) -> bool {
        self.raw() & NAME_TAG != 0
    }

    /// The number when this id is numeric.
    pub const fn as_number(self) -> Option<u128> {
        if self.is_name() {
            None
        } else {
            Some(self.raw())
        }
    }
}

impl fmt::Display for Id {
    /// Names as themselves, numbers in decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name_bytes() {
            Some((bytes, len)) => match bytes.get(1..=len).map(core::str::from_utf8) {
                Some(Ok(name)) => f.write_str(name),
                _ => write!(f, "#{:032x}", self.raw()),
            },
            None => write!(f, "{}", self.raw()),
        }
    }
}

impl Id {
    fn name_bytes(&self) -> Option<([u8; 16], usize)> {
        if !self.is_name() {
            return None;
        }
        let bytes = self.raw().to_be_bytes();
        Some((bytes, usize::from(bytes[0] & 0x7f)))
    }
}

/// Why text could not become an [`Id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Names hold at most 15 bytes.
    #[error("id name is {len} bytes long; at most 15 fit")]
    NameTooLong {
        /// Length of the rejected name in bytes.
        len: usize,
    },
    /// Numbers must be below 2^127.
    #[error("numeric id is too large")]
    NumberTooLarge,
}

/// Ledger time: milliseconds since the Unix epoch, always passed in by the
/// caller; the ledger never reads a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(pub i64);
