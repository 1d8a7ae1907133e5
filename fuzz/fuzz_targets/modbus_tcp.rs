//! The Modbus TCP streaming decoder on arbitrary bytes; the checks are in
//! `common/modbus_stream.rs`, shared with the other transport's target.
#![no_main]

#[macro_use]
#[path = "common/modbus_stream.rs"]
mod modbus_stream;

// The shortest ADU: six MBAP bytes before the length field's count, and the smallest count,
// 2 (unit id and function code): 8 bytes.
modbus_stream_target!(tcp, 8);
