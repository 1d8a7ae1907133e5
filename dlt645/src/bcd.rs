//! Packed BCD codecs, low byte first as DL/T 645 puts every value on the wire.
//!
//! Each byte holds two decimal digits (high nibble = tens). A multi-byte field is sent
//! least significant byte first, so the field `42 06 12 00` reads as the digits
//! `00 12 06 42` = 120642.
//!
//! # The sign rule (spec §3.2)
//!
//! Signed quantities use bit 7 of the most significant byte — the *last* byte on the
//! wire — as the sign: 1 = negative. The remaining bits are the magnitude, so the top
//! digit of a signed field can only be 0–7. A set sign bit on a zero magnitude is kept
//! ("negative zero") by [`decode_signed`], because meters do send it and the decoded
//! value must show what the meter said.
//!
//! These functions run on every reply, so they use a lookup table and no division on
//! the decode path.

use thiserror::Error;

/// The most bytes [`decode`] accepts: 9 bytes are 18 digits, which always fit a `u64`
/// (`u64::MAX` has 20 digits, so 10 bytes could overflow).
pub const MAX_DECODE_BYTES: usize = 9;

/// Marks a byte that is not packed BCD in [`DIGIT_PAIR`].
const INVALID: u8 = 0xFF;

/// Binary value (0..=99) of every packed-BCD byte, [`INVALID`] for the others.
/// One load per byte replaces two nibble checks and a multiply on the hot path.
static DIGIT_PAIR: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut n = 0;
    while n < 100 {
        table[(((n / 10) << 4) | (n % 10)) as usize] = n;
        n += 1;
    }
    table
};

/// What went wrong in a BCD conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum BcdError {
    /// The byte at `index` (counted from the start of the field, in wire order) has a
    /// nibble above 9.
    #[error("byte {index} is {byte:#04X}, not packed BCD")]
    NotBcd {
        /// Position of the byte in the field, wire order.
        index: usize,
        /// The offending byte.
        byte: u8,
    },
    /// The field is longer than [`MAX_DECODE_BYTES`], so its value may not fit a `u64`.
    #[error("a {len}-byte BCD field is longer than the {MAX_DECODE_BYTES} bytes a u64 holds")]
    TooLong {
        /// Length of the field.
        len: usize,
    },
    /// The value has more digits than the field holds (for signed fields the top digit
    /// must also leave bit 7 free for the sign).
    #[error("{value} does not fit a {len}-byte BCD field")]
    Overflow {
        /// The value that did not fit.
        value: u64,
        /// Length of the field.
        len: usize,
    },
}

/// The binary value (0..=99) of one packed-BCD byte, or `None` if a nibble is above 9.
///
/// ```
/// assert_eq!(dlt645::bcd::byte_to_u8(0x42), Some(42));
/// assert_eq!(dlt645::bcd::byte_to_u8(0x4A), None);
/// ```
#[inline]
pub const fn byte_to_u8(byte: u8) -> Option<u8> {
    match DIGIT_PAIR[byte as usize] {
        INVALID => None,
        n => Some(n),
    }
}

/// The packed-BCD byte for 0..=99, or `None` above 99.
///
/// ```
/// assert_eq!(dlt645::bcd::u8_to_byte(42), Some(0x42));
/// assert_eq!(dlt645::bcd::u8_to_byte(100), None);
/// ```
#[inline]
pub const fn u8_to_byte(n: u8) -> Option<u8> {
    if n < 100 {
        Some(((n / 10) << 4) | (n % 10))
    } else {
        None
    }
}

/// Decodes an unsigned packed-BCD field, low byte first. An empty field is 0.
///
/// ```
/// // 1206.42 kWh as a meter sends it (XXXXXX.XX, after removing 0x33).
/// assert_eq!(dlt645::bcd::decode(&[0x42, 0x06, 0x12, 0x00]), Ok(120_642));
/// ```
///
/// # Errors
///
/// [`BcdError::NotBcd`] naming the first bad byte (scanning from the most significant
/// end), [`BcdError::TooLong`] for more than [`MAX_DECODE_BYTES`] bytes.
#[inline]
pub fn decode(bytes: &[u8]) -> Result<u64, BcdError> {
    // The catalogue's common widths get a fully unrolled loop.
    let value = match *bytes {
        [a, b] => fixed([a, b]),
        [a, b, c] => fixed([a, b, c]),
        [a, b, c, d] => fixed([a, b, c, d]),
        _ if bytes.len() > MAX_DECODE_BYTES => {
            return Err(BcdError::TooLong { len: bytes.len() });
        }
        _ => any_len(bytes),
    };
    value.ok_or_else(|| first_invalid(bytes, 0))
}

/// A field of compile-time width `N` ≤ [`MAX_DECODE_BYTES`].
#[inline]
fn fixed<const N: usize>(bytes: [u8; N]) -> Option<u64> {
    any_len(&bytes)
}

/// A field of at most [`MAX_DECODE_BYTES`] bytes; `None` if a byte is not BCD.
#[inline]
fn any_len(bytes: &[u8]) -> Option<u64> {
    // Branch-free over the bytes; which byte was bad is worked out only on failure.
    let mut value = 0u64;
    let mut invalid = false;
    for &byte in bytes.iter().rev() {
        let pair = DIGIT_PAIR[usize::from(byte)];
        invalid |= pair == INVALID;
        // At most 18 digits, so a valid field cannot overflow; an invalid one is
        // discarded.
        value = value.wrapping_mul(100).wrapping_add(u64::from(pair));
    }
    (!invalid).then_some(value)
}

/// Decodes a signed packed-BCD field, low byte first: bit 7 of the last (most
/// significant) byte is the sign. Returns `(magnitude, negative)`; a set sign bit on a
/// zero magnitude gives `(0, true)`.
///
/// ```
/// // The spec's worked example: −0.123 A in XXX.XXX is `23 01 80` on the wire.
/// assert_eq!(dlt645::bcd::decode_signed(&[0x23, 0x01, 0x80]), Ok((123, true)));
/// ```
///
/// # Errors
///
/// As [`decode`]; the sign bit itself is never a BCD error.
#[inline]
pub fn decode_signed(bytes: &[u8]) -> Result<(u64, bool), BcdError> {
    let Some((&top, rest)) = bytes.split_last() else {
        return Ok((0, false));
    };
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(BcdError::TooLong { len: bytes.len() });
    }
    let negative = top & 0x80 != 0;
    let top_pair = DIGIT_PAIR[usize::from(top & 0x7F)];
    match (decode(rest), POW100.get(rest.len())) {
        // `rest` has at most 8 bytes = 16 digits; two more still fit a u64.
        (Ok(low), Some(&weight)) if top_pair != INVALID => {
            Ok((u64::from(top_pair) * weight + low, negative))
        }
        _ => Err(first_invalid(bytes, 0x80)),
    }
}

/// 100^n: the weight of the n-th byte of a field.
static POW100: [u64; MAX_DECODE_BYTES] = {
    let mut table = [1u64; MAX_DECODE_BYTES];
    let mut n = 1;
    while n < MAX_DECODE_BYTES {
        table[n] = table[n - 1] * 100;
        n += 1;
    }
    table
};

/// The error for the most significant non-BCD byte of a field known to hold one;
/// `sign_mask` is cleared from the top byte before checking (0x80 for signed fields).
#[cold]
fn first_invalid(bytes: &[u8], sign_mask: u8) -> BcdError {
    let top = bytes.len().saturating_sub(1);
    bytes
        .iter()
        .enumerate()
        .rev()
        .find(|&(index, &byte)| {
            let digits = if index == top {
                byte & !sign_mask
            } else {
                byte
            };
            DIGIT_PAIR[usize::from(digits)] == INVALID
        })
        .map_or(BcdError::TooLong { len: bytes.len() }, |(index, &byte)| {
            BcdError::NotBcd { index, byte }
        })
}

/// Encodes `value` as unsigned packed BCD into the whole of `out`, low byte first,
/// padding with zero digits.
///
/// ```
/// let mut field = [0u8; 4];
/// dlt645::bcd::encode(120_642, &mut field)?;
/// assert_eq!(field, [0x42, 0x06, 0x12, 0x00]);
/// # Ok::<(), dlt645::bcd::BcdError>(())
/// ```
///
/// # Errors
///
/// [`BcdError::Overflow`] when `value` has more than `2 * out.len()` digits; `out` is
/// then left with unspecified content.
pub fn encode(value: u64, out: &mut [u8]) -> Result<(), BcdError> {
    let mut rest = value;
    for byte in out.iter_mut() {
        // `rest % 100` is below 100, so the conversion cannot fail.
        let pair = (rest % 100) as u8;
        *byte = ((pair / 10) << 4) | (pair % 10);
        rest /= 100;
    }
    if rest == 0 {
        Ok(())
    } else {
        Err(BcdError::Overflow {
            value,
            len: out.len(),
        })
    }
}

/// Encodes a sign and magnitude as signed packed BCD into the whole of `out`: the
/// magnitude as by [`encode`], then bit 7 of the last byte set when `negative`.
///
/// ```
/// let mut field = [0u8; 3];
/// dlt645::bcd::encode_signed(123, true, &mut field)?;
/// assert_eq!(field, [0x23, 0x01, 0x80]);
/// # Ok::<(), dlt645::bcd::BcdError>(())
/// ```
///
/// # Errors
///
/// [`BcdError::Overflow`] when the magnitude does not fit or its top digit is above 7
/// (bit 7 belongs to the sign), and when `out` is empty but a sign must be stored.
pub fn encode_signed(magnitude: u64, negative: bool, out: &mut [u8]) -> Result<(), BcdError> {
    let overflow = BcdError::Overflow {
        value: magnitude,
        len: out.len(),
    };
    encode(magnitude, out).map_err(|_| overflow)?;
    match out.last_mut() {
        Some(top) if *top & 0x80 != 0 => Err(overflow),
        Some(top) => {
            if negative {
                *top |= 0x80;
            }
            Ok(())
        }
        None if negative => Err(overflow),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_matches_nibble_rule() {
        for byte in 0..=255u8 {
            let valid = byte >> 4 <= 9 && byte & 0x0F <= 9;
            let expected = valid.then(|| (byte >> 4) * 10 + (byte & 0x0F));
            assert_eq!(byte_to_u8(byte), expected, "byte {byte:#04X}");
        }
    }

    #[test]
    fn decodes_low_byte_first() {
        // Digits in display order 00 12 06 42 → 120642.
        assert_eq!(decode(&[0x42, 0x06, 0x12, 0x00]), Ok(120_642));
        // 1997 voltage B611 `00 01` → display 0100 → 100.
        assert_eq!(decode(&[0x00, 0x01]), Ok(100));
        assert_eq!(decode(&[]), Ok(0));
        // 18 nines is the largest accepted field.
        assert_eq!(decode(&[0x99; 9]), Ok(999_999_999_999_999_999));
    }

    #[test]
    fn rejects_bad_nibbles_with_position() {
        assert_eq!(
            decode(&[0x42, 0x0A, 0x12]),
            Err(BcdError::NotBcd {
                index: 1,
                byte: 0x0A
            })
        );
        assert_eq!(
            decode(&[0x00, 0xA0]),
            Err(BcdError::NotBcd {
                index: 1,
                byte: 0xA0
            })
        );
        assert_eq!(decode(&[0; 10]), Err(BcdError::TooLong { len: 10 }));
        assert_eq!(decode_signed(&[0; 10]), Err(BcdError::TooLong { len: 10 }));
        // Eight bytes take the one-word path, nine the split path.
        assert_eq!(decode(&[0x99; 8]), Ok(9_999_999_999_999_999));
        assert_eq!(
            decode(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0x12]),
            Ok(120_000_000_000_000_001)
        );
        assert_eq!(
            decode(&[0, 0, 0, 0, 0, 0, 0, 0, 0x1F]),
            Err(BcdError::NotBcd {
                index: 8,
                byte: 0x1F
            })
        );
    }

    #[test]
    fn sign_bit_is_bit_7_of_last_byte() {
        // `23 01 80`: display 80 01 23, sign set, magnitude 000123.
        assert_eq!(decode_signed(&[0x23, 0x01, 0x80]), Ok((123, true)));
        // The 0x80 edge that `content[0] > 0x80` tests miss: sign set, magnitude 0.
        assert_eq!(decode_signed(&[0x00, 0x80]), Ok((0, true)));
        // 0x79 top byte: positive 79xx.
        assert_eq!(decode_signed(&[0x01, 0x79]), Ok((7901, false)));
        // Top byte 0xFA: sign set, remaining 0x7A has a bad low nibble.
        assert_eq!(
            decode_signed(&[0x00, 0xFA]),
            Err(BcdError::NotBcd {
                index: 1,
                byte: 0xFA
            })
        );
        assert_eq!(
            decode_signed(&[0x0F, 0x80]),
            Err(BcdError::NotBcd {
                index: 0,
                byte: 0x0F
            })
        );
        assert_eq!(decode_signed(&[]), Ok((0, false)));
    }

    #[test]
    fn encode_rejects_what_does_not_fit() {
        let mut two = [0u8; 2];
        assert_eq!(
            encode(10_000, &mut two),
            Err(BcdError::Overflow {
                value: 10_000,
                len: 2
            })
        );
        assert_eq!(encode(9_999, &mut two), Ok(()));
        assert_eq!(two, [0x99, 0x99]);
        // Signed: top digit 8 would collide with the sign bit.
        assert!(encode_signed(8_000, false, &mut two).is_err());
        assert_eq!(encode_signed(7_999, true, &mut two), Ok(()));
        assert_eq!(two, [0x99, 0xF9]);
        assert!(encode_signed(0, true, &mut []).is_err());
        assert_eq!(encode_signed(0, false, &mut []), Ok(()));
    }

    proptest! {
        #[test]
        fn unsigned_round_trip(len in 1usize..=9, raw in any::<u64>()) {
            let value = raw % 10u64.pow(u32::try_from(2 * len).unwrap_or(18));
            let mut buf = [0u8; 9];
            let field = &mut buf[..len];
            encode(value, field).unwrap();
            prop_assert_eq!(decode(field), Ok(value));
        }

        #[test]
        fn signed_round_trip(len in 1usize..=9, raw in any::<u64>(), negative in any::<bool>()) {
            let digits = u32::try_from(2 * len - 1).unwrap_or(17);
            let magnitude = raw % (8 * 10u64.pow(digits));
            let mut buf = [0u8; 9];
            let field = &mut buf[..len];
            encode_signed(magnitude, negative, field).unwrap();
            prop_assert_eq!(decode_signed(field), Ok((magnitude, negative)));
        }

        #[test]
        fn decode_agrees_with_nibble_arithmetic(bytes in proptest::collection::vec(any::<u8>(), 0..=9)) {
            let reference = bytes.iter().enumerate().rev().try_fold(0u64, |acc, (index, &byte)| {
                let (hi, lo) = (byte >> 4, byte & 0x0F);
                if hi > 9 || lo > 9 {
                    Err(BcdError::NotBcd { index, byte })
                } else {
                    Ok(acc * 100 + u64::from(hi) * 10 + u64::from(lo))
                }
            });
            prop_assert_eq!(decode(&bytes), reference);
        }

        #[test]
        fn decode_signed_agrees_with_nibble_arithmetic(bytes in proptest::collection::vec(any::<u8>(), 0..=9)) {
            let top = bytes.len().saturating_sub(1);
            let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
            let reference = bytes.iter().enumerate().rev().try_fold(0u64, |acc, (index, &byte)| {
                let digits = if index == top { byte & 0x7F } else { byte };
                let (hi, lo) = (digits >> 4, digits & 0x0F);
                if hi > 9 || lo > 9 {
                    Err(BcdError::NotBcd { index, byte })
                } else {
                    Ok(acc * 100 + u64::from(hi) * 10 + u64::from(lo))
                }
            });
            prop_assert_eq!(decode_signed(&bytes), reference.map(|m| (m, negative)));
        }
    }
}
