//! The one error type of this crate.

/// Why bytes are not a valid Modbus frame, or why a frame cannot be emitted.
///
/// `function` fields carry the raw function code byte (without the 0x80 exception bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The input ends before the structure it announces.
    #[error("truncated: the frame needs {needed} bytes, only {available} present")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The input continues after the structure it announces.
    #[error("length mismatch: the structure is {expected} bytes long, the input {actual}")]
    Length {
        /// Length the structure announces.
        expected: usize,
        /// Length of the input.
        actual: usize,
    },
    /// The frame would exceed the protocol maximum (PDU 253 bytes, RTU 256, TCP 260).
    #[error("frame too long: {len} bytes where at most {max} are allowed")]
    TooLong {
        /// Length found or requested.
        len: usize,
        /// Protocol maximum.
        max: usize,
    },
    /// The caller's output buffer is too small.
    #[error("output buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the encoding needs.
        needed: usize,
        /// Bytes in the buffer.
        available: usize,
    },
    /// The RTU CRC does not match the frame.
    #[error("CRC mismatch: computed {expected:#06X}, frame carries {actual:#06X}")]
    Crc {
        /// CRC computed over the frame.
        expected: u16,
        /// CRC carried by the frame.
        actual: u16,
    },
    /// A function code this crate cannot frame (unknown, user-defined, or an exception bit
    /// in a request).
    #[error("unknown function code {code:#04X}")]
    UnknownFunction {
        /// The function code byte.
        code: u8,
    },
    /// The RTU slave address is reserved (248–255), or 0 on a reply.
    #[error("invalid slave address {slave}")]
    InvalidSlave {
        /// The address byte.
        slave: u8,
    },
    /// A broadcast (slave 0) request for a function that is not a write.
    #[error("function {function:#04X} cannot be broadcast")]
    BroadcastNotAllowed {
        /// The function code.
        function: u8,
    },
    /// A quantity outside the range the function allows.
    #[error("function {function:#04X}: quantity {quantity} outside 1..={max}")]
    Quantity {
        /// The function code.
        function: u8,
        /// The quantity found.
        quantity: u16,
        /// The largest quantity allowed.
        max: u16,
    },
    /// A byte count that does not match the quantity or the function's rules.
    #[error("function {function:#04X}: byte count {actual}, expected {expected}")]
    ByteCount {
        /// The function code.
        function: u8,
        /// The byte count the quantity implies (or the nearest legal one).
        expected: usize,
        /// The byte count found.
        actual: usize,
    },
    /// A write-single-coil value other than 0xFF00 (on) or 0x0000 (off).
    #[error("coil value {value:#06X} is neither 0xFF00 nor 0x0000")]
    CoilValue {
        /// The value found.
        value: u16,
    },
    /// A field holds a value the function does not allow.
    #[error("function {function:#04X}: invalid {field} {value:#X}")]
    Field {
        /// The function code.
        function: u8,
        /// Which field.
        field: &'static str,
        /// The value found.
        value: u16,
    },
    /// The MBAP protocol identifier is not 0 (Modbus).
    #[error("MBAP protocol id {id}, expected 0")]
    ProtocolId {
        /// The protocol identifier found.
        id: u16,
    },
    /// The MBAP length field is outside 2..=254.
    #[error("MBAP length {length} outside 2..=254")]
    MbapLength {
        /// The length field found.
        length: u16,
    },
}
