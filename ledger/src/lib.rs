//! Prepaid balance ledger with a crash-safe journal (work in progress).
#![no_std]
