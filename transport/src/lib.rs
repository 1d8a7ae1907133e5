#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "std")]
pub mod bus;
#[cfg(feature = "std")]
pub mod client;
#[cfg(feature = "embedded-io-async")]
pub mod embedded;
#[cfg(feature = "std")]
pub mod error;
#[cfg(feature = "std")]
pub mod link;
mod matching;
#[cfg(feature = "std")]
mod metering;
#[cfg(feature = "std")]
pub mod modbus;
mod modbus_matching;
#[cfg(feature = "std")]
pub mod modbus_sim;
#[cfg(feature = "std")]
pub mod poll;
#[cfg(feature = "std")]
pub mod scan;
#[cfg(feature = "std")]
pub mod sim;
mod timing;

#[cfg(feature = "std")]
pub use bus::BusHandle;
#[cfg(feature = "std")]
pub use client::{Client, ClientConfig};
#[cfg(feature = "std")]
pub use error::{Error, FollowError, OpenCause, ProtocolError};
#[cfg(feature = "std")]
pub use link::{Connector, Endpoint, LineTiming, Link, Once, SerialConfig, TcpConfig};
#[cfg(feature = "std")]
pub use modbus::{ModbusClient, ModbusConfig};
