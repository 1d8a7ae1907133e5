#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod bus;
pub mod client;
pub mod error;
pub mod link;
pub mod modbus;
pub mod modbus_sim;
pub mod poll;
pub mod sim;

pub use bus::BusHandle;
pub use client::{Client, ClientConfig};
pub use error::{Error, OpenCause, ProtocolError};
pub use link::{Connector, LineTiming, Link, Once, SerialConfig, TcpConfig};
pub use modbus::{ModbusClient, ModbusConfig};
