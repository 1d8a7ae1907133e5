//! The Modbus RTU streaming decoder on arbitrary bytes; the checks are in
//! `common/modbus_stream.rs`, shared with the other transport's target.
#![no_main]

#[macro_use]
#[path = "common/modbus_stream.rs"]
mod modbus_stream;

modbus_stream_target!(rtu, rtu::MIN_ADU_LEN);
