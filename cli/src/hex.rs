//! Hex text in, bytes out; bytes in, hex text out.

use std::fmt::Write as _;

/// Why a piece of hex text is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HexError {
    #[error("not a hex digit: {found:?} at character {position} of the input")]
    NotHex { found: char, position: usize },
    #[error("odd number of hex digits ({count}): every byte takes two")]
    Odd { count: usize },
}

/// Parses hex the way captures are pasted: whitespace and commas separate nothing
/// (they are ignored), each token may carry a `0x` prefix, case does not matter.
pub(crate) fn parse(text: &str) -> Result<Vec<u8>, HexError> {
    let mut digits = Vec::with_capacity(text.len());
    let mut position = 0;
    for token in text.split(|c: char| c.is_whitespace() || c == ',') {
        let (skipped, body) = match token.get(..2) {
            Some("0x" | "0X") => (2, &token[2..]),
            _ => (0, token),
        };
        for (i, c) in body.chars().enumerate() {
            let digit = c.to_digit(16).ok_or(HexError::NotHex {
                found: c,
                position: position + skipped + i + 1,
            })?;
            digits.push(u8::try_from(digit).unwrap_or_default());
        }
        position += token.chars().count() + 1;
    }
    if digits.len() % 2 != 0 {
        return Err(HexError::Odd {
            count: digits.len(),
        });
    }
    Ok(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// Uppercase hex, one space between bytes.
pub(crate) fn spaced(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// Uppercase hex without separators.
pub(crate) fn compact(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_prefixes_and_case_are_ignored() {
        let want = vec![0x68, 0x12, 0xAB, 0x16];
        for text in [
            "68 12 ab 16",
            "0x68,0x12,0xAB,0x16",
            "6812AB16",
            "68\n12\tAb, 0X16",
            "681 2ab16",
        ] {
            assert_eq!(parse(text), Ok(want.clone()), "{text:?}");
        }
        assert_eq!(parse(""), Ok(vec![]));
    }

    #[test]
    fn bad_text_names_the_problem() {
        assert_eq!(parse("68 1"), Err(HexError::Odd { count: 3 }));
        assert_eq!(
            parse("68 zz"),
            Err(HexError::NotHex {
                found: 'z',
                position: 4
            })
        );
        assert_eq!(
            parse("0x6g"),
            Err(HexError::NotHex {
                found: 'g',
                position: 4
            })
        );
    }

    #[test]
    fn formatting() {
        assert_eq!(spaced(&[0xFE, 0x68, 0x01]), "FE 68 01");
        assert_eq!(compact(&[0xFE, 0x68, 0x01]), "FE6801");
    }
}
