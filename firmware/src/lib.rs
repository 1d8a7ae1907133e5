//! What the footprint binaries share: a panic handler, the "no heap" allocator, and the
//! "hardware" they talk to.
//!
//! # Why the inputs are volatile
//!
//! A size measurement is only worth something if the code being measured really runs. If
//! a binary decoded a reply written as a constant in its source, LTO would evaluate the
//! whole decode at compile time and keep only the answer — a few bytes that say nothing
//! about the library. So every input (meter address, received frame, reading timestamps)
//! sits in a [`Volatile`] cell, read with [`core::ptr::read_volatile`]: the compiler must assume
//! a DMA channel or an interrupt handler changed it, and keeps the full code path. Every
//! result goes to one with [`core::ptr::write_volatile`], so no computation is
//! dropped as unused. Both are `#[no_mangle]` statics in the binaries, which also keeps LTO
//! from proving them constant.
//!
//! The inputs are real frames (the same captures as the crates' README examples),
//! so on a board or in a debugger the outputs hold the decoded figures. They live in RAM
//! (`.data`); their initial bytes are the only flash the fixtures cost, and `size.sh` reports
//! `.data` apart from the code.
#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::panic::PanicInfo;

/// A value shared with something outside the program: a UART's DMA channel, an interrupt
/// handler, a debugger. Reads and writes are volatile, so the compiler can neither fold an
/// input nor drop the computation of an output.
#[repr(transparent)]
pub struct Volatile<T: Copy>(UnsafeCell<T>);

// SAFETY: the binaries are single-threaded with no interrupt handlers of their own, and
// every access is one volatile read or write of a `Copy` value: no reference into the cell
// is ever handed out, so no aliasing rule can be broken.
unsafe impl<T: Copy> Sync for Volatile<T> {}

impl<T: Copy> Volatile<T> {
    /// A cell holding `initial` until something writes it.
    pub const fn new(initial: T) -> Self {
        Self(UnsafeCell::new(initial))
    }

    /// The current contents.
    pub fn read(&self) -> T {
        // SAFETY: the pointer comes from a live `UnsafeCell`, is aligned and initialised,
        // and see the `Sync` impl for why no other access can overlap.
        unsafe { core::ptr::read_volatile(self.0.get()) }
    }

    /// Publishes `value`.
    pub fn write(&self, value: T) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(self.0.get(), value) }
    }
}

/// `bytes` at the start of an `M`-byte zeroed buffer: a receive buffer holding a capture.
///
/// # Panics
/// At compile time (it is only called in statics) when the capture is longer than the buffer.
#[must_use]
pub const fn padded<const N: usize, const M: usize>(bytes: [u8; N]) -> [u8; M] {
    let mut out = [0; M];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// There is no heap: every allocation fails.
///
/// It exists only because `rust_decimal` (used by meterkit-modbus and meterkit-tariff)
/// declares `extern crate alloc` even without its `std` feature, and rustc refuses to link
/// a program whose crate graph contains `alloc` but no `#[global_allocator]`, whether or not
/// anything allocates. Nothing here does: `size.sh` fails if `NoHeap`'s code (or any
/// `__rust_alloc` shim) survives in a binary, which after LTO means nothing calls it.
struct NoHeap;

// SAFETY: `alloc` returns null, which `GlobalAlloc` allows as "allocation failed", and
// `dealloc` is never given a pointer, because no allocation ever succeeded.
unsafe impl GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static NO_HEAP: NoHeap = NoHeap;

/// Firmware policy on a bug: stop here, so a watchdog resets the board. Ignoring the
/// message keeps `core::fmt` out of the binary (LTO drops the unused formatting code).
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
