//! Real-time prepaid charging sessions (work in progress).
#![no_std]
