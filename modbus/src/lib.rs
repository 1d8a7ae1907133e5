//! Modbus RTU/TCP codec and meter register profiles (work in progress).
#![no_std]
