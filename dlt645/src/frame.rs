//! The link-layer frame: a zero-copy view and an owned representation.
//!
//! ```text
//! [FE]*n  68  A0 A1 A2 A3 A4 A5  68  C  L  DATA[L] (each byte +33H)  CS  16
//! ```
//!
//! [`Frame`] checks a byte buffer once and then reads fields straight out of it;
//! [`FrameRepr`] owns the fields (with the data field already minus 0x33) and emits
//! them into a caller's buffer.

use crate::{Address, Error, control::Control};

/// The start byte, at offset 0 and 7.
pub const START: u8 = 0x68;
/// The end byte.
pub const END: u8 = 0x16;
/// The wake-up byte a master sends before a frame.
pub const PREAMBLE: u8 = 0xFE;
/// Added to every data-field byte on the wire (mod 256).
pub const DATA_OFFSET: u8 = 0x33;
/// Bytes before the data field: `68 A0..A5 68 C L`.
pub const HEADER_LEN: usize = 10;
/// A frame with an empty data field: header, checksum and end byte.
pub const MIN_FRAME_LEN: usize = HEADER_LEN + 2;
/// The largest data field a length byte can state.
pub const MAX_DATA_LEN: usize = 255;
/// The largest frame, without preamble.
pub const MAX_FRAME_LEN: usize = MIN_FRAME_LEN + MAX_DATA_LEN;

const CONTROL: usize = 8;
const LENGTH: usize = 9;

/// Sum mod 256 of `bytes`: the DL/T 645 checksum of everything from the first 0x68
/// through the last data byte.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b))
}

/// A checked, zero-copy view of one frame (without preamble).
///
/// Construction checks both start bytes, the length, the checksum and the end byte,
/// so every accessor afterwards is infallible. The buffer may be longer than the frame;
/// the bytes after it are ignored.
///
/// ```
/// use dlt645::{Address, Di, frame::Frame};
///
/// let bytes = [
///     0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0x91, 0x08,
///     0x33, 0x33, 0x34, 0x33, 0x89, 0x67, 0x45, 0x33, 0x54, 0x16,
/// ];
/// let frame = Frame::new_checked(&bytes[..])?;
/// assert_eq!(frame.address(), "123456789012".parse::<Address>()?);
/// assert_eq!(frame.control().to_byte(), 0x91);
/// assert_eq!(frame.di(), Some(Di::V2007(0x0001_0000)));
/// # Ok::<(), dlt645::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Checks `buffer` and wraps it.
    ///
    /// # Errors
    ///
    /// [`Error::StartByte`], [`Error::Truncated`], [`Error::Checksum`] or
    /// [`Error::EndByte`], in that order of checking.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check(buffer.as_ref())?;
        Ok(Frame { buffer })
    }

    /// Wraps a buffer that [`check`] has accepted.
    pub(crate) fn new_unchecked(buffer: T) -> Self {
        Frame { buffer }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The frame's bytes, from the first 0x68 through the end byte.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes()[..self.total_len()]
    }

    /// The length of the frame in bytes (12 + data length).
    pub fn total_len(&self) -> usize {
        MIN_FRAME_LEN + self.data_len()
    }

    /// The meter address.
    pub fn address(&self) -> Address {
        let b = self.bytes();
        Address::from_wire([b[1], b[2], b[3], b[4], b[5], b[6]])
    }

    /// The control byte.
    pub fn control(&self) -> Control {
        Control::from_byte(self.bytes()[CONTROL])
    }

    /// The length byte `L`.
    pub fn data_len(&self) -> usize {
        usize::from(self.bytes()[LENGTH])
    }

    /// The data field as on the wire, still offset by 0x33.
    pub fn raw_data(&self) -> &[u8] {
        &self.bytes()[HEADER_LEN..HEADER_LEN + self.data_len()]
    }

    /// The data field with 0x33 removed from every byte.
    pub fn data(&self) -> impl ExactSizeIterator<Item = u8> + Clone + '_ {
        self.raw_data().iter().map(|b| b.wrapping_sub(DATA_OFFSET))
    }

    /// Copies the data field, minus 0x33, into `out` and returns the filled part.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] when `out` is shorter than the data field.
    pub fn copy_data<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let len = self.data_len();
        let available = out.len();
        let out = out.get_mut(..len).ok_or(Error::BufferTooSmall {
            needed: len,
            available,
        })?;
        for (o, b) in out.iter_mut().zip(self.data()) {
            *o = b;
        }
        Ok(out)
    }

    /// The checksum byte.
    pub fn checksum(&self) -> u8 {
        self.bytes()[HEADER_LEN + self.data_len()]
    }

    /// The edition implied by the function code, when the code is a known one.
    pub fn edition(&self) -> Option<crate::Edition> {
        self.control().function(self.data_len()).map(|(_, e)| e)
    }

    /// The data identifier at the start of the data field, for frames whose layout
    /// begins with one (read, read subsequent, write, their normal replies, and a 2007
    /// password change). `None` for other functions, abnormal replies, unknown codes,
    /// and data fields too short to hold an identifier.
    pub fn di(&self) -> Option<crate::Di> {
        use crate::{Di, Edition};
        let control = self.control();
        if control.is_abnormal() {
            return None;
        }
        // The functions whose data field starts with a DI: read (0x11, 0x01), read
        // subsequent (0x12, 0x02), write (0x14, 0x04), and the 2007 password-change
        // request (0x18). Checked on the code directly: this runs for every reply.
        let edition = match control.code() {
            0x11 | 0x12 | 0x14 => Edition::V2007,
            0x18 if control.direction() == crate::control::Direction::Request => Edition::V2007,
            0x01 | 0x02 | 0x04 => Edition::V1997,
            _ => return None,
        };
        let raw = self.raw_data();
        match edition {
            Edition::V2007 => {
                let bytes: [u8; 4] = raw.get(..4)?.try_into().ok()?;
                Some(Di::from_wire_2007(
                    bytes.map(|b| b.wrapping_sub(DATA_OFFSET)),
                ))
            }
            Edition::V1997 => {
                let bytes: [u8; 2] = raw.get(..2)?.try_into().ok()?;
                Some(Di::from_wire_1997(
                    bytes.map(|b| b.wrapping_sub(DATA_OFFSET)),
                ))
            }
        }
    }
}

/// Checks one frame at the start of `bytes` and returns its length.
pub(crate) fn check(bytes: &[u8]) -> Result<usize, Error> {
    let available = bytes.len();
    let truncated = |needed| Error::Truncated { needed, available };
    let first = *bytes.first().ok_or(truncated(MIN_FRAME_LEN))?;
    if first != START {
        return Err(Error::StartByte {
            offset: 0,
            found: first,
        });
    }
    let second = *bytes.get(7).ok_or(truncated(MIN_FRAME_LEN))?;
    if second != START {
        return Err(Error::StartByte {
            offset: 7,
            found: second,
        });
    }
    let len = *bytes.get(LENGTH).ok_or(truncated(MIN_FRAME_LEN))?;
    let total = MIN_FRAME_LEN + usize::from(len);
    let frame = bytes.get(..total).ok_or(truncated(total))?;
    let cs_at = total - 2;
    let computed = checksum(&frame[..cs_at]);
    if computed != frame[cs_at] {
        return Err(Error::Checksum {
            carried: frame[cs_at],
            computed,
        });
    }
    if frame[cs_at + 1] != END {
        return Err(Error::EndByte {
            offset: cs_at + 1,
            found: frame[cs_at + 1],
        });
    }
    Ok(total)
}

/// Skips a leading run of 0xFE wake-up bytes and checks the frame after it.
///
/// # Errors
///
/// As [`Frame::new_checked`]; offsets in the error count from the first 0x68.
pub fn after_preamble(bytes: &[u8]) -> Result<Frame<&[u8]>, Error> {
    let start = bytes
        .iter()
        .position(|b| *b != PREAMBLE)
        .unwrap_or(bytes.len());
    Frame::new_checked(&bytes[start..])
}

/// The data field of an owned frame: up to 255 bytes, held without the 0x33 offset.
pub type Payload = heapless::Vec<u8, MAX_DATA_LEN>;

/// An owned frame: address, control byte and data field (minus 0x33).
///
/// `parse` and `emit` are exact inverses for every frame whose checksum is right.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
pub struct FrameRepr {
    /// The meter address.
    pub address: Address,
    /// The control byte.
    pub control: Control,
    /// The data field, without the 0x33 offset.
    pub data: Payload,
}

impl FrameRepr {
    /// Takes the fields out of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Self {
        let mut data = Payload::new();
        // Cannot overflow: a frame's data field is at most 255 bytes.
        for byte in frame.data() {
            let _ = data.push(byte);
        }
        FrameRepr {
            address: frame.address(),
            control: frame.control(),
            data,
        }
    }

    /// Bytes [`emit`](Self::emit) writes, without preamble.
    pub fn buffer_len(&self) -> usize {
        MIN_FRAME_LEN + self.data.len()
    }

    /// Writes the frame, preceded by `preamble` wake-up bytes (0xFE), into `out`, and
    /// returns the number of bytes written.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] with the size needed when `out` is too short.
    pub fn emit(&self, preamble: usize, out: &mut [u8]) -> Result<usize, Error> {
        let needed = preamble + self.buffer_len();
        let available = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed, available })?;
        let (wake, frame) = out.split_at_mut(preamble);
        wake.fill(PREAMBLE);
        frame[0] = START;
        frame[1..7].copy_from_slice(&self.address.to_wire());
        frame[7] = START;
        frame[CONTROL] = self.control.to_byte();
        // Cannot truncate: a `Payload` holds at most 255 bytes.
        #[allow(clippy::cast_possible_truncation)]
        {
            frame[LENGTH] = self.data.len() as u8;
        }
        let data_end = HEADER_LEN + self.data.len();
        for (o, b) in frame[HEADER_LEN..data_end].iter_mut().zip(&self.data) {
            *o = b.wrapping_add(DATA_OFFSET);
        }
        frame[data_end] = checksum(&frame[..data_end]);
        frame[data_end + 1] = END;
        Ok(needed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Spec example 1: read forward active total energy from 123456789012; CS is 0x68.
    const READ: [u8; 16] = [
        0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0x68,
        0x16,
    ];

    #[test]
    fn checks_and_reads_fields() {
        let f = Frame::new_checked(&READ[..]).unwrap();
        assert_eq!(f.total_len(), 16);
        assert_eq!(f.checksum(), 0x68);
        assert_eq!(f.data().collect::<heapless::Vec<u8, 4>>(), [0, 0, 1, 0]);
        assert_eq!(f.di(), Some(crate::Di::V2007(0x0001_0000)));
    }

    #[test]
    fn every_corruption_is_named() {
        let mut bad = READ;
        bad[14] ^= 1;
        assert_eq!(
            Frame::new_checked(&bad[..]),
            Err(Error::Checksum {
                carried: 0x69,
                computed: 0x68
            })
        );
        let mut bad = READ;
        bad[15] = 0x17;
        assert_eq!(
            Frame::new_checked(&bad[..]),
            Err(Error::EndByte {
                offset: 15,
                found: 0x17
            })
        );
        let mut bad = READ;
        bad[7] = 0x00;
        assert_eq!(
            Frame::new_checked(&bad[..]),
            Err(Error::StartByte {
                offset: 7,
                found: 0x00
            })
        );
        assert_eq!(
            Frame::new_checked(&READ[..15]),
            Err(Error::Truncated {
                needed: 16,
                available: 15
            })
        );
    }

    #[test]
    fn repr_round_trips_with_preamble() {
        let f = Frame::new_checked(&READ[..]).unwrap();
        let repr = FrameRepr::parse(&f);
        let mut out = [0u8; 20];
        assert_eq!(repr.emit(4, &mut out), Ok(20));
        assert_eq!(out[..4], [PREAMBLE; 4]);
        assert_eq!(out[4..], READ);
        assert_eq!(after_preamble(&out).unwrap().as_bytes(), READ);
        assert_eq!(
            repr.emit(4, &mut [0u8; 19]),
            Err(Error::BufferTooSmall {
                needed: 20,
                available: 19
            })
        );
    }
}
