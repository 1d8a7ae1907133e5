//! Modbus request/reply policy without I/O: deadlines, the RTU silence, and finding
//! the answer in received bytes (echo, noise, other units, false starts). Shared by
//! [`crate::modbus::ModbusClient`] and the `embedded-io-async` flavour; `core` only.

// Without `std` only the embedded clients use this module: the items the tokio clients
// re-export publicly, or alone use, are unreachable or unused there.
#![cfg_attr(not(feature = "std"), allow(dead_code, unreachable_pub))]

use core::{ops::Range, time::Duration};

use meterkit_modbus::{Decoded, Direction, Request, rtu, tcp};

use crate::timing::{Backoff, LineTiming};

/// How frames are delimited and addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// Modbus RTU: slave address, PDU, CRC-16; on serial lines (or raw through a
    /// transparent gateway).
    Rtu,
    /// Modbus TCP: MBAP header with transaction id and unit id.
    Tcp,
}

/// How a [`ModbusClient`](crate::modbus::ModbusClient) talks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModbusConfig {
    /// RTU or TCP.
    pub framing: Framing,
    /// The serial line's speed (RTU): scales reply deadlines and the silent interval.
    pub line: LineTiming,
    /// Added to the line time of request and reply.
    pub base_timeout: Duration,
    /// Further attempts after a timeout.
    pub retries: u32,
    /// Wait before each retry (grows per retry).
    pub retry_backoff: Backoff,
    /// Silence kept before sending an RTU frame; `None` for the standard's t3.5
    /// ([`silent_interval`]).
    pub inter_frame: Option<Duration>,
    /// The transceiver returns what we send (RS-485 with the receiver always on): drop
    /// the first frame identical to our request. Needed for FC05/FC06, whose replies
    /// are byte-identical to the request.
    pub echo: bool,
}

impl ModbusConfig {
    /// RTU at 9600 bit/s 8E1, 500 ms margin, 2 retries.
    pub fn rtu() -> Self {
        ModbusConfig {
            framing: Framing::Rtu,
            line: LineTiming {
                baud: 9600,
                bits_per_char: 11,
            },
            base_timeout: Duration::from_millis(500),
            retries: 2,
            retry_backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(1),
            },
            inter_frame: None,
            echo: false,
        }
    }

    /// TCP with the same margins (a gateway's serial side is assumed at 9600 bit/s).
    pub fn tcp() -> Self {
        ModbusConfig {
            framing: Framing::Tcp,
            ..ModbusConfig::rtu()
        }
    }

    /// The silence before an RTU frame.
    pub fn silence(&self) -> Duration {
        self.inter_frame
            .unwrap_or_else(|| silent_interval(self.line))
    }

    /// How long to wait for a reply: the margin plus the line time of both frames.
    pub fn reply_timeout(&self, request_len: usize, reply_len: usize) -> Duration {
        self.base_timeout.saturating_add(
            self.line
                .transfer_time(request_len.saturating_add(reply_len)),
        )
    }
}

/// The standard's t3.5: three and a half characters of silence, fixed at 1.75 ms
/// above 19 200 bit/s.
///
/// ```
/// use std::time::Duration;
/// use meterkit_transport::{link::LineTiming, modbus::silent_interval};
/// // 3.5 × 11 bits / 9600 bit/s = 4.0104… ms → 4011 µs (rounded up).
/// let t = silent_interval(LineTiming { baud: 9600, bits_per_char: 11 });
/// assert_eq!(t, Duration::from_micros(4011));
/// assert_eq!(silent_interval(LineTiming { baud: 115_200, bits_per_char: 11 }),
///            Duration::from_micros(1750));
/// ```
pub fn silent_interval(line: LineTiming) -> Duration {
    if line.baud > 19_200 {
        return Duration::from_micros(1750);
    }
    // 3.5 characters = 7 half characters.
    let bits = u64::from(line.bits_per_char) * 7;
    let micros = (bits * 1_000_000).div_ceil(2 * u64::from(line.baud.max(1)));
    Duration::from_micros(micros)
}

/// The ADU length to expect in reply to `request`, for its deadline (the larger of
/// the RTU and TCP forms).
pub fn expected_reply_len(request: &Request<'_>) -> usize {
    // Unit + function + byte count + data, plus the larger envelope (MBAP header 7
    // minus its unit byte, vs. CRC 2).
    let envelope = 6;
    let data = match request {
        Request::ReadHoldingRegisters { quantity, .. }
        | Request::ReadInputRegisters { quantity, .. } => 1 + 2 * usize::from(*quantity),
        Request::ReadCoils { quantity, .. } | Request::ReadDiscreteInputs { quantity, .. } => {
            1 + usize::from(*quantity).div_ceil(8)
        }
        _ => 4,
    };
    2 + data + envelope
}

/// Whether a correct reply to `function` can be byte-identical to its request (FC05
/// and FC06 echo the request; FC08 sub-function 0 returns it). For the others an exact
/// copy of the request at the start of the input is always our echo.
pub fn reply_may_equal_request(function: u8) -> bool {
    matches!(function, 0x05 | 0x06 | 0x08)
}

enum Echo {
    /// The input starts with the whole request.
    Whole,
    /// The input is a beginning of the request: wait.
    Partial,
    /// The input does not start with the request.
    No,
}

fn echo_prefix(input: &[u8], sent: &[u8]) -> Echo {
    if input.starts_with(sent) {
        Echo::Whole
    } else if sent.starts_with(input) {
        // Includes the empty input: nothing has arrived yet.
        Echo::Partial
    } else {
        Echo::No
    }
}

/// A frame found at the start of the input: where it ends, who sent it, and where
/// its PDU lies.
struct Found {
    consumed: usize,
    unit: u8,
    transaction: Option<u16>,
    pdu: Range<usize>,
}

enum Scanned {
    Frame(Found),
    Skip(usize),
    NeedMore,
}

fn scan(framing: Framing, input: &[u8]) -> Scanned {
    match framing {
        Framing::Rtu => match rtu::Decoder::new(Direction::Response).decode(input) {
            // The PDU sits before the two CRC bytes.
            Decoded::Frame { frame, consumed } => Scanned::Frame(Found {
                consumed,
                unit: frame.slave(),
                transaction: None,
                pdu: ending_at(consumed.saturating_sub(2), frame.pdu().len()),
            }),
            Decoded::Skip { count, .. } => Scanned::Skip(count),
            Decoded::NeedMore { .. } => Scanned::NeedMore,
        },
        Framing::Tcp => match tcp::Decoder::new(Direction::Response).decode(input) {
            // The PDU ends the ADU.
            Decoded::Frame { frame, consumed } => Scanned::Frame(Found {
                consumed,
                unit: frame.unit(),
                transaction: Some(frame.transaction()),
                pdu: ending_at(consumed, frame.pdu().len()),
            }),
            Decoded::Skip { count, .. } => Scanned::Skip(count),
            Decoded::NeedMore { .. } => Scanned::NeedMore,
        },
    }
}

fn ending_at(end: usize, len: usize) -> Range<usize> {
    end.saturating_sub(len)..end
}

/// Finds our answer behind a false start: noise that looks like the start of a long
/// frame makes the decoder wait for bytes that would swallow the real reply. Tries a
/// frame at every later offset; returns where the first answering one ends and where
/// its PDU lies.
fn answer_behind_false_start(
    framing: Framing,
    input: &[u8],
    is_answer: impl Fn(&Found, &[u8]) -> bool,
) -> Option<(usize, Range<usize>)> {
    (1..input.len()).find_map(|start| {
        let rest = input.get(start..)?;
        match scan(framing, rest) {
            Scanned::Frame(found) if is_answer(&found, rest) => Some((
                start + found.consumed,
                start + found.pdu.start..start + found.pdu.end,
            )),
            _ => None,
        }
    })
}

/// Whether a frame from `unit` (with `transaction`, TCP) and PDU `pdu` answers our
/// request: same unit, same transaction, same function (exception bit aside).
pub fn answers(
    unit: u8,
    transaction: Option<u16>,
    pdu: &[u8],
    sent_unit: u8,
    sent_transaction: Option<u16>,
    function: u8,
) -> bool {
    unit == sent_unit
        && transaction == sent_transaction
        && pdu.first().is_some_and(|fc| fc & 0x7F == function)
}

/// What the start of the received bytes is, for the request being awaited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Drop this many bytes (our echo, noise, another unit's frame) and look again.
    Drop(usize),
    /// The answer: drop `consumed` bytes after taking the PDU at `pdu`.
    Answer {
        /// Bytes to drop.
        consumed: usize,
        /// Where the answer's PDU lies in the input.
        pdu: Range<usize>,
    },
    /// Read more.
    NeedMore,
}

/// The request being awaited: what was sent and what answers it.
#[derive(Debug)]
pub(crate) struct Awaited<'s> {
    framing: Framing,
    sent: &'s [u8],
    unit: u8,
    transaction: Option<u16>,
    function: u8,
    /// Our echo may still come first.
    echo_pending: bool,
}

impl<'s> Awaited<'s> {
    /// Awaiting the answer to `sent` (function `function`) from `unit`.
    pub(crate) fn new(
        config: &ModbusConfig,
        sent: &'s [u8],
        unit: u8,
        transaction: Option<u16>,
        function: u8,
    ) -> Self {
        Awaited {
            framing: config.framing,
            sent,
            unit,
            transaction,
            function,
            echo_pending: config.echo || !reply_may_equal_request(function),
        }
    }

    fn answers(&self, found: &Found, input: &[u8]) -> bool {
        answers(
            found.unit,
            found.transaction,
            input.get(found.pdu.clone()).unwrap_or_default(),
            self.unit,
            self.transaction,
            self.function,
        )
    }

    /// Looks at the start of `input`.
    pub(crate) fn step(&mut self, input: &[u8]) -> Step {
        // Our own echo goes first, whole: decoded as a reply it could announce a byte
        // count that never arrives.
        let echo = if self.echo_pending {
            echo_prefix(input, self.sent)
        } else {
            Echo::No
        };
        let scanned = match echo {
            Echo::Whole => {
                self.echo_pending = false;
                return Step::Drop(self.sent.len());
            }
            Echo::Partial => Scanned::NeedMore,
            Echo::No => {
                // An echo would have come first: none is coming now.
                self.echo_pending = false;
                scan(self.framing, input)
            }
        };
        match scanned {
            Scanned::Frame(found) if self.answers(&found, input) => Step::Answer {
                consumed: found.consumed,
                pdu: found.pdu,
            },
            Scanned::Frame(found) => Step::Drop(found.consumed.max(1)),
            Scanned::Skip(count) => Step::Drop(count.max(1)),
            Scanned::NeedMore if self.echo_pending => Step::NeedMore,
            Scanned::NeedMore => {
                let hidden = answer_behind_false_start(self.framing, input, |found, rest| {
                    self.answers(found, rest)
                });
                hidden.map_or(Step::NeedMore, |(consumed, pdu)| Step::Answer {
                    consumed,
                    pdu,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit 1, FC03, 1 register of value 1, valid CRC.
    fn rtu_reply() -> Vec<u8> {
        let mut buf = [0u8; 16];
        let n = rtu::Repr {
            slave: 1,
            pdu: meterkit_modbus::Pdu::parse(&[0x03, 0x02, 0x00, 0x01], Direction::Response)
                .unwrap(),
        }
        .emit(&mut buf)
        .unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn silence_and_deadlines_follow_the_line() {
        // 1200 bit/s: 3.5 × 11 / 1200 s = 32.083… ms → 32 084 µs.
        let slow = LineTiming {
            baud: 1200,
            bits_per_char: 11,
        };
        assert_eq!(silent_interval(slow), Duration::from_micros(32_084));
        let mut config = ModbusConfig::rtu();
        config.inter_frame = Some(Duration::from_millis(10));
        assert_eq!(config.silence(), Duration::from_millis(10));
        // Read 2 registers: 2 + 5 + 6 = 13 bytes expected back; request 8 bytes.
        let read = Request::ReadInputRegisters {
            address: 0x48,
            quantity: 2,
        };
        assert_eq!(expected_reply_len(&read), 13);
        // (8 + 13) × 11 bits / 9600 bit/s = 24.0625 ms, + 500 ms.
        assert_eq!(config.reply_timeout(8, 13), Duration::from_micros(524_063));
    }

    #[test]
    fn only_the_matching_unit_transaction_and_function_answer() {
        let pdu = [0x03, 0x02, 0x00, 0x01];
        assert!(answers(1, None, &pdu, 1, None, 0x03));
        assert!(!answers(2, None, &pdu, 1, None, 0x03));
        assert!(!answers(1, Some(7), &pdu, 1, Some(8), 0x03));
        assert!(!answers(1, None, &pdu, 1, None, 0x04));
        // An exception to our function answers it.
        assert!(answers(1, None, &[0x83, 0x02], 1, None, 0x03));
        assert!(!answers(1, None, &[], 1, None, 0x03));
    }

    #[test]
    fn echo_prefix_waits_for_a_whole_copy() {
        let sent = [1, 3, 0, 0, 0, 1, 0x84, 0x0A];
        assert!(matches!(echo_prefix(&[], &sent), Echo::Partial));
        assert!(matches!(echo_prefix(&sent[..3], &sent), Echo::Partial));
        assert!(matches!(echo_prefix(&sent, &sent), Echo::Whole));
        let mut more = sent.to_vec();
        more.extend_from_slice(&[1, 3]);
        assert!(matches!(echo_prefix(&more, &sent), Echo::Whole));
        assert!(matches!(echo_prefix(&[1, 3, 2], &sent), Echo::No));
        assert!(reply_may_equal_request(0x06) && !reply_may_equal_request(0x03));
    }

    #[test]
    fn awaited_skips_echo_and_noise_and_finds_the_answer_behind_a_false_start() {
        let config = ModbusConfig::rtu();
        let sent = [1, 3, 0, 0, 0, 1, 0x84, 0x0A];
        let mut awaited = Awaited::new(&config, &sent, 1, None, 0x03);
        let reply = rtu_reply();
        // Our echo first: dropped whole.
        let mut input = sent.to_vec();
        input.extend_from_slice(&reply);
        assert_eq!(awaited.step(&input), Step::Drop(sent.len()));
        // Then the reply: PDU 03 02 00 01 after the slave byte, 7 bytes with CRC.
        let rest = &input[sent.len()..];
        assert_eq!(
            awaited.step(rest),
            Step::Answer {
                consumed: 7,
                pdu: 1..5
            }
        );
        // Noise announcing a long frame (unit 1, FC03, 0xFA bytes) in front of the
        // reply: the answer is found behind it, 3 bytes in.
        let mut noisy = vec![0x01, 0x03, 0xFA];
        noisy.extend_from_slice(&reply);
        let mut awaited = Awaited::new(&config, &sent, 1, None, 0x03);
        assert_eq!(
            awaited.step(&noisy),
            Step::Answer {
                consumed: 10,
                pdu: 4..8
            }
        );
        // Unit 2's reply is dropped, not taken.
        let mut awaited = Awaited::new(&config, &sent, 2, None, 0x03);
        assert_eq!(awaited.step(&reply), Step::Drop(7));
    }
}
