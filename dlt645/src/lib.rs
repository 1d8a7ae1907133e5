#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

pub mod address;
pub mod bcd;
pub mod catalogue;
pub mod control;
pub mod di;
mod error;
pub mod frame;
mod layout;
pub mod message;
pub mod stream;
pub mod value;

pub use address::Address;
pub use control::{Control, Direction, Function};
pub use di::{Di, Edition};
pub use error::Error;
pub use frame::{Frame, FrameRepr};
pub use stream::{Decoded, Decoder};
