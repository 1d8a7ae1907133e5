//! Time-of-use tariff model and exact pricing engine (work in progress).
#![no_std]
