//! The baseline: cortex-m-rt's vector table and reset handler, the panic handler, and a
//! loop that touches one volatile word (so the loop is not empty). `size.sh` reports every
//! other binary as this plus a delta; the delta is what the library code costs.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use meterkit_firmware::Volatile;

#[unsafe(no_mangle)]
static TICKS: Volatile<u32> = Volatile::new(0);

#[entry]
fn main() -> ! {
    loop {
        TICKS.write(TICKS.read().wrapping_add(1));
    }
}
