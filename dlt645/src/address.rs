//! Meter addresses: nameplate order for people, wire order for frames.

use core::{fmt, str::FromStr};

use crate::Error;

/// A 6-byte meter address (12 BCD digits).
///
/// People read addresses from the nameplate most significant digit first
/// (`123456789012`); frames carry them low byte first (`12 90 78 56 34 12`). This type
/// keeps the wire bytes and converts at the edges, so nothing else has to think about it.
///
/// Two special forms exist: the broadcast address `999999999999`, used only for
/// commands that get no reply, and wildcard bytes `AA` ("缩位寻址"), which match any
/// two digits. An all-`AA` address reaches whichever single meter is on the bus.
///
/// ```
/// use dlt645::Address;
///
/// let a: Address = "123456789012".parse()?;
/// assert_eq!(a.to_wire(), [0x12, 0x90, 0x78, 0x56, 0x34, 0x12]);
/// assert_eq!(a.to_string(), "123456789012");
///
/// // A short address is padded with zeros in the high digits, as the standard says.
/// let short: Address = "161".parse()?;
/// assert_eq!(short.to_string(), "000000000161");
///
/// // Or with wildcards, to reach a meter whose low digits you know.
/// let w = Address::with_wildcard_high("9012")?;
/// assert_eq!(w.to_string(), "AAAAAAAA9012");
/// assert!(w.matches(&a));
/// # Ok::<(), dlt645::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Address {
    wire: [u8; 6],
}

impl Address {
    /// The broadcast address `999999999999`: no meter answers it.
    pub const BROADCAST: Address = Address { wire: [0x99; 6] };
    /// The all-wildcard address `AAAAAAAAAAAA`, used to read the address of the one
    /// meter on a point-to-point link.
    pub const WILDCARD: Address = Address { wire: [0xAA; 6] };

    /// An address from its six wire bytes (low byte first). Any bytes are accepted, so
    /// that a frame from a meter with a non-conforming address can still be shown.
    pub const fn from_wire(wire: [u8; 6]) -> Self {
        Address { wire }
    }

    /// The six bytes as sent on the wire, low byte first.
    pub const fn to_wire(self) -> [u8; 6] {
        self.wire
    }

    /// Whether this is the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        self.wire == [0x99; 6]
    }

    /// Whether any byte is the wildcard `AA`.
    pub fn has_wildcard(&self) -> bool {
        self.wire.contains(&0xAA)
    }

    /// Whether a meter with address `meter` answers a request sent to `self`: every
    /// byte equal, or a wildcard `AA` on our side.
    pub fn matches(&self, meter: &Address) -> bool {
        self.wire
            .iter()
            .zip(meter.wire.iter())
            .all(|(ours, theirs)| *ours == 0xAA || ours == theirs)
    }

    /// The address made of the given low digits with every higher byte set to the
    /// wildcard `AA`. An odd number of digits gets one leading `0`.
    ///
    /// # Errors
    ///
    /// [`Error::Address`] when `digits` is empty, longer than 12, or not decimal.
    pub fn with_wildcard_high(digits: &str) -> Result<Self, Error> {
        Self::padded(digits, 0xAA)
    }

    fn padded(text: &str, pad: u8) -> Result<Self, Error> {
        let text = text.as_bytes();
        if text.is_empty() {
            return Err(Error::Address { reason: "empty" });
        }
        if text.len() > 12 {
            return Err(Error::Address {
                reason: "longer than 12 digits",
            });
        }
        let mut wire = [pad; 6];
        // Walk from the least significant end, two characters per byte; a lone leading
        // character gets a zero high nibble.
        let mut chars = text.iter().rev();
        for byte in &mut wire {
            let Some(&low) = chars.next() else { break };
            let high = chars.next().copied().unwrap_or(b'0');
            *byte = address_byte(high, low)?;
        }
        Ok(Address { wire })
    }
}

/// One address byte from two characters: two decimal digits, or `AA` (any case).
fn address_byte(high: u8, low: u8) -> Result<u8, Error> {
    match (high.to_ascii_uppercase(), low.to_ascii_uppercase()) {
        (b'A', b'A') => Ok(0xAA),
        (h @ b'0'..=b'9', l @ b'0'..=b'9') => Ok(((h - b'0') << 4) | (l - b'0')),
        _ => Err(Error::Address {
            reason: "each digit pair must be two decimal digits or the wildcard AA",
        }),
    }
}

/// Parses nameplate order: 1 to 12 characters, each pair two decimal digits or `AA`;
/// fewer than 12 digits are padded with `0` in the high digits, as the standard says.
impl FromStr for Address {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::padded(s, 0x00)
    }
}

/// Nameplate order, 12 uppercase hex characters (wildcards print as `AA`).
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.wire.iter().rev() {
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

#[cfg(feature = "serde-1")]
impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    #[test]
    fn nameplate_and_wire_orders_are_reverses() {
        let a: Address = "000102030425".parse().unwrap();
        assert_eq!(a.to_wire(), [0x25, 0x04, 0x03, 0x02, 0x01, 0x00]);
        assert_eq!(Address::from_wire(a.to_wire()).to_string(), "000102030425");
    }

    #[test]
    fn wildcards_and_broadcast() {
        let w: Address = "aaaaaaaaaaaa".parse().unwrap();
        assert_eq!(w, Address::WILDCARD);
        assert!(w.has_wildcard());
        assert!("999999999999".parse::<Address>().unwrap().is_broadcast());
        let meter: Address = "123456789012".parse().unwrap();
        assert!(Address::WILDCARD.matches(&meter));
        assert!(!"123456789013".parse::<Address>().unwrap().matches(&meter));
        assert!(!Address::with_wildcard_high("9013").unwrap().matches(&meter));
        assert_eq!(
            Address::with_wildcard_high("161").unwrap().to_string(),
            "AAAAAAAA0161"
        );
    }

    #[test]
    fn bad_text_is_rejected() {
        for bad in ["", "1234567890123", "12x4", "A1", "1A"] {
            assert!(bad.parse::<Address>().is_err(), "{bad:?} accepted");
        }
    }
}
