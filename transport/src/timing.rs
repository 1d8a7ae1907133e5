//! Line timing and backoff: plain arithmetic on `core::time::Duration`, shared by
//! the tokio clients and the `embedded-io-async` flavour.

use core::time::Duration;

/// How long bytes take on the wire: the baud rate and the bits each character
/// occupies (start + data + parity + stop; 8E1 and 8N2 are 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineTiming {
    /// Bits per second.
    pub baud: u32,
    /// Bits per character on the wire.
    pub bits_per_char: u32,
}

impl LineTiming {
    /// 2400 bit/s 8E1, the usual DL/T 645-2007 line.
    pub const DLT645_DEFAULT: LineTiming = LineTiming {
        baud: 2400,
        bits_per_char: 11,
    };

    /// The time `bytes` characters take on the wire, rounded up to the microsecond.
    ///
    /// ```
    /// use meterkit_transport::link::LineTiming;
    /// // 200 bytes × 11 bits / 2400 bit/s = 0.916 666… s → 916 667 µs.
    /// let t = LineTiming::DLT645_DEFAULT.transfer_time(200);
    /// assert_eq!(t.as_micros(), 916_667);
    /// ```
    pub fn transfer_time(self, bytes: usize) -> Duration {
        let bits = u128::try_from(bytes)
            .unwrap_or(u128::MAX)
            .saturating_mul(u128::from(self.bits_per_char));
        let baud = u128::from(self.baud.max(1));
        let micros = bits.saturating_mul(1_000_000).div_ceil(baud);
        Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}

/// Exponential backoff: `initial`, doubled after every further failure, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// 100 ms doubling up to 10 s.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The wait after `failures` consecutive failures (none after zero).
    ///
    /// ```
    /// use std::time::Duration;
    /// use meterkit_transport::link::Backoff;
    /// let b = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1) };
    /// assert_eq!(b.delay(0), Duration::ZERO);
    /// assert_eq!(b.delay(3), Duration::from_millis(400)); // 100 × 2²
    /// assert_eq!(b.delay(9), Duration::from_secs(1)); // capped
    /// ```
    pub fn delay(self, failures: u32) -> Duration {
        let Some(doublings) = failures.checked_sub(1) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(doublings.min(31)).unwrap_or(u32::MAX);
        self.initial
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }
}
