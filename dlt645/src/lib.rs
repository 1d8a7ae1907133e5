#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

pub mod bcd;
pub mod catalogue;
pub mod di;
pub mod value;

pub use di::{Di, Edition};
