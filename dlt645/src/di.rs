//! Data identifiers (DI): which item a read or write is about.

use core::fmt;

/// Protocol edition of a frame, told apart by its function code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum Edition {
    /// DL/T 645-2007: 4-byte data identifiers, function codes 0x11..=0x1E.
    V2007,
    /// DL/T 645-1997: 2-byte data identifiers, function codes 0x01..=0x10.
    V1997,
}

/// A data identifier of either edition.
///
/// The value is held as the number printed in the standard's tables, most significant
/// byte first: `Di::V2007(0x0001_0000)` is forward active total energy, `Di::V1997(0x9010)`
/// its 1997 counterpart. On the wire both are sent low byte first (and +0x33).
///
/// `Display` prints uppercase hex, 8 digits for 2007 and 4 for 1997, as `meterkit decode`
/// reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum Di {
    /// A 4-byte DL/T 645-2007 identifier, `DI3 DI2 DI1 DI0`.
    V2007(u32),
    /// A 2-byte DL/T 645-1997 identifier, `DI1 DI0`.
    V1997(u16),
}

impl Di {
    /// The edition this identifier belongs to.
    pub const fn edition(self) -> Edition {
        match self {
            Di::V2007(_) => Edition::V2007,
            Di::V1997(_) => Edition::V1997,
        }
    }

    /// Number of bytes the identifier takes on the wire (4 or 2).
    pub const fn wire_len(self) -> usize {
        match self {
            Di::V2007(_) => 4,
            Di::V1997(_) => 2,
        }
    }

    /// The identifier's bytes in wire order (low byte first), before the +0x33 offset.
    /// Only the first [`wire_len`](Self::wire_len) bytes are meaningful.
    pub const fn to_wire(self) -> [u8; 4] {
        match self {
            Di::V2007(v) => v.to_le_bytes(),
            Di::V1997(v) => {
                let [lo, hi] = v.to_le_bytes();
                [lo, hi, 0, 0]
            }
        }
    }

    /// Reads a 2007 identifier from 4 wire-order bytes (already minus 0x33).
    pub const fn from_wire_2007(bytes: [u8; 4]) -> Self {
        Di::V2007(u32::from_le_bytes(bytes))
    }

    /// Reads a 1997 identifier from 2 wire-order bytes (already minus 0x33).
    pub const fn from_wire_1997(bytes: [u8; 2]) -> Self {
        Di::V1997(u16::from_le_bytes(bytes))
    }

    /// The identifier's bytes most significant first (`DI3 DI2 DI1 DI0` for 2007,
    /// `DI1 DI0` for 1997), padded with zeros at the end for 1997.
    pub const fn to_be_bytes(self) -> [u8; 4] {
        match self {
            Di::V2007(v) => v.to_be_bytes(),
            Di::V1997(v) => {
                let [hi, lo] = v.to_be_bytes();
                [hi, lo, 0, 0]
            }
        }
    }
}

impl fmt::Display for Di {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Di::V2007(v) => write!(f, "{v:08X}"),
            Di::V1997(v) => write!(f, "{v:04X}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_order_is_low_byte_first() {
        assert_eq!(Di::V2007(0x0001_0000).to_wire(), [0x00, 0x00, 0x01, 0x00]);
        assert_eq!(Di::V2007(0x0201_FF00).to_wire(), [0x00, 0xFF, 0x01, 0x02]);
        assert_eq!(Di::V1997(0x9010).to_wire()[..2], [0x10, 0x90]);
        assert_eq!(Di::from_wire_1997([0x11, 0xB6]), Di::V1997(0xB611));
    }

    #[test]
    fn display_pads_to_edition_width() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(Di::V2007(0x0001_0000).to_string(), "00010000");
        assert_eq!(Di::V1997(0x9010).to_string(), "9010");
    }
}
