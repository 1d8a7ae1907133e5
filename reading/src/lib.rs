//! Protocol-neutral meter readings (work in progress).
#![no_std]
