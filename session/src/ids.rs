//! Ledger operation ids derived from the session id.
//!
//! Every ledger operation a session issues carries an id computed from the session id, the
//! operation's kind and what makes that operation unique (for a capture: the reading's instant
//! and the cumulative amount). The same call therefore produces the same id on a retry, after
//! a crash, or on a replay, and the ledger answers it as a repeat instead of moving money twice.

use meterkit_ledger::Id;

/// What a derived id is for; part of the hashed input, so two kinds never share an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Hold = 1,
    Capture = 2,
    Settle = 3,
    Expire = 4,
    Charge = 5,
}

const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
/// Ids with the top bit set are the ledger's packed names; derived ids stay numeric so they
/// can never equal a name such as `"pay-1"`.
const NUMERIC_MASK: u128 = !(1 << 127);
const DOMAIN: &[u8] = b"meterkit-session/1";

/// The id of operation `kind` of `session`, distinguished by `a` and `b`.
///
/// FNV-1a over `DOMAIN ‖ session ‖ kind ‖ a ‖ b` (little-endian), then the top bit cleared
/// (and 0 mapped to 1, which the ledger refuses). Not cryptographic: distinct inputs give
/// distinct ids with overwhelming probability, and a collision with an unrelated operation
/// surfaces as `IdExistsWithDifferentFields`, never as a silent second effect.
pub(crate) fn derive(session: Id, kind: Kind, a: u64, b: u64) -> Id {
    let mut hash = FNV_OFFSET;
    let mut eat = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u128::from(*byte);
            hash = hash.wrapping_mul(FNV_PRIME);
        }
    };
    eat(DOMAIN);
    eat(&session.raw().to_le_bytes());
    eat(&[kind as u8]);
    eat(&a.to_le_bytes());
    eat(&b.to_le_bytes());
    let raw = hash & NUMERIC_MASK;
    Id::from_raw(if raw == 0 { 1 } else { raw })
}

#[cfg(test)]
mod tests {
    use super::{Kind, derive};
    use meterkit_ledger::Id;

    #[test]
    fn ids_are_stable_numeric_and_distinct() {
        let s = Id::from_raw(42);
        let t = Id::from_raw(43);
        let a = derive(s, Kind::Capture, 1, 2);
        assert_eq!(a, derive(s, Kind::Capture, 1, 2), "same input, same id");
        assert!(!a.is_name() && !a.is_zero());
        // Every differing input field changes the id.
        for other in [
            derive(t, Kind::Capture, 1, 2),
            derive(s, Kind::Settle, 1, 2),
            derive(s, Kind::Capture, 2, 2),
            derive(s, Kind::Capture, 1, 3),
        ] {
            assert_ne!(a, other);
        }
    }
}
