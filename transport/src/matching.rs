//! DL/T 645 request/reply policy without I/O: deadlines, what a received frame is,
//! and finding the reply in received bytes. Shared by [`crate::client::Client`] and
//! the `embedded-io-async` flavour; `core` only.

// Without `std` only the embedded clients use this module: the items the tokio clients
// re-export publicly, or alone use, are unreachable or unused there.
#![cfg_attr(not(feature = "std"), allow(dead_code, unreachable_pub))]

use core::time::Duration;

use dlt645::{
    Di, Direction, Edition, FrameRepr, Function, catalogue,
    frame::{MIN_FRAME_LEN, Payload},
    message::{ReadSelector, Reply, Request},
    stream::{Decoded, Decoder},
};

use crate::timing::{Backoff, LineTiming};

/// Most wake-up bytes a client sends; the transmit buffer is sized for it.
pub const MAX_PREAMBLE: usize = 8;

/// Wake-up bytes a meter may put before its reply, counted into the reply time.
const REPLY_PREAMBLE: usize = 4;

/// The wake-up byte.
const PREAMBLE_BYTE: u8 = 0xFE;

/// The largest data field the standard lets a meter send in one read reply.
const READ_REPLY_DATA: usize = 200;

/// How a [`Client`](crate::client::Client) talks. `Default` gives 4 wake-up bytes, 2400 bit/s 8E1 timing,
/// a 500 ms base margin and 2 retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// 0xFE wake-up bytes before every request (at most [`MAX_PREAMBLE`]).
    pub preamble: usize,
    /// The line's speed, which scales reply deadlines (through a TCP gateway: the
    /// gateway's serial side).
    pub line: LineTiming,
    /// Added to the line time of request and reply: the meter's think time, USB
    /// adapter latency, RS-485 turnaround.
    pub base_timeout: Duration,
    /// Further attempts after a timeout or a garbled reply.
    pub retries: u32,
    /// Wait before each retry (grows per retry).
    pub retry_backoff: Backoff,
    /// Most frames a multi-frame answer may have.
    pub max_frames: usize,
    /// Most data bytes a multi-frame answer may add up to.
    pub max_data: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            preamble: 4,
            line: LineTiming::DLT645_DEFAULT,
            base_timeout: Duration::from_millis(500),
            retries: 2,
            retry_backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(1),
            },
            max_frames: 64,
            max_data: 16 * 1024,
        }
    }
}

impl ClientConfig {
    /// Defaults with the timing of `line`.
    pub fn with_line(line: LineTiming) -> Self {
        ClientConfig {
            line,
            ..ClientConfig::default()
        }
    }

    /// How long to wait for a reply after writing a request of `request_len` bytes
    /// when the reply's data field is expected to be `reply_data` bytes: the base
    /// margin plus the line time of both frames (the request is still on the wire
    /// when the write returns; the reply may carry wake-up bytes).
    ///
    /// ```
    /// use std::time::Duration;
    /// use meterkit_transport::client::ClientConfig;
    /// let c = ClientConfig::default();
    /// // (16 request + 4 + 12 + 200 reply) bytes × 11 bits / 2400 bit/s
    /// // = 232 × 11 / 2400 s = 1.063 333… s → 1 063 334 µs, plus 500 ms.
    /// assert_eq!(c.reply_timeout(16, 200), Duration::from_micros(1_563_334));
    /// ```
    pub fn reply_timeout(&self, request_len: usize, reply_data: usize) -> Duration {
        let bytes = request_len
            .saturating_add(REPLY_PREAMBLE + MIN_FRAME_LEN)
            .saturating_add(reply_data);
        self.base_timeout
            .saturating_add(self.line.transfer_time(bytes))
    }
}

/// The data-field length to expect in reply to `request`, for its deadline: the
/// catalogue length for a known item (capped at one frame's 200 bytes), a full frame
/// for anything open-ended, one byte (an ERR word) for acknowledgements.
pub fn expected_reply_data(request: &Request) -> usize {
    let frame_data = match request {
        Request::Read {
            di,
            selector: ReadSelector::Current,
        } => catalogue::lookup(*di).map_or(READ_REPLY_DATA, |info| {
            di.wire_len() + usize::from(info.item_len) * usize::from(info.max_items)
        }),
        Request::Read { .. } | Request::ReadSubsequent { .. } | Request::SecurityAuth { .. } => {
            READ_REPLY_DATA
        }
        Request::ReadAddress => 6,
        Request::ChangePassword { .. } => 4,
        _ => 1,
    };
    frame_data.min(READ_REPLY_DATA)
}

/// What a frame received after a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // consumed at once, never stored or queued
pub enum Verdict {
    /// A request-direction frame: our own echo, or another master. Ignored.
    Echo,
    /// A reply from a meter the request was not addressed to, or a read-address reply
    /// whose header and data name different meters. Ignored (to a wildcard, where only
    /// matching meters answer, counted as collision debris).
    Foreign,
    /// A reply of another function (a late answer to an earlier request). Ignored.
    Stale,
    /// The reply.
    Reply(Reply),
    /// A frame with the right address and function whose data field does not parse.
    Malformed(dlt645::Error),
}

/// Sorts a received frame: is it the reply to `request`, sent as `sent`? A read
/// reply must also name the item read, so a late answer to an earlier read of another
/// item is not taken for this one's.
pub fn classify(received: &FrameRepr, sent: &FrameRepr, request: &Request) -> Verdict {
    if received.control.direction() == Direction::Request {
        return Verdict::Echo;
    }
    if !sent.address.matches(&received.address) {
        return Verdict::Foreign;
    }
    if received.control.code() != sent.control.code() {
        return Verdict::Stale;
    }
    let reply = match Reply::parse(received) {
        Ok(reply) => reply,
        Err(e) => return Verdict::Malformed(e),
    };
    // A meter puts its own address in the header and in the data (some 1997 meters
    // echo the pattern in the header instead); anything else is not from the meter
    // the data names: a collision whose checksum happened to come out right.
    if let Reply::ReadAddress { address } = &reply
        && received.address != *address
        && received.address != sent.address
    {
        return Verdict::Foreign;
    }
    let asked = match request {
        Request::Read { di, .. } | Request::ReadSubsequent { di, .. } => Some(*di),
        _ => None,
    };
    let answered = match &reply {
        Reply::Read { di, .. } | Reply::ReadSubsequent { di, .. } => Some(*di),
        _ => None,
    };
    match (asked, answered) {
        (Some(asked), Some(answered)) if asked != answered => Verdict::Stale,
        _ => Verdict::Reply(reply),
    }
}

/// Finds our reply hiding behind a false start: line noise that looks like the start of
/// a long frame makes the decoder wait for bytes that would swallow the real reply.
/// Looks for a complete frame answering `request` at every later start byte; returns
/// where it ends and the reply.
pub fn reply_behind_false_start(
    input: &[u8],
    sent: &FrameRepr,
    request: &Request,
) -> Option<(usize, Reply)> {
    let starts = input
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, b)| **b == dlt645::frame::START)
        .map(|(i, _)| i);
    for start in starts {
        let rest = input.get(start..)?;
        if let Decoded::Frame {
            frame, consumed, ..
        } = Decoder::new().decode(rest)
            && let Verdict::Reply(reply) = classify(&FrameRepr::parse(&frame), sent, request)
        {
            return Some((start + consumed, reply));
        }
    }
    None
}

/// What the received bytes held so far: how many to drop, how many of those were
/// noise, and the reply (or the malformed frame) if one arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Bytes to drop from the front of the input.
    pub(crate) consumed: usize,
    /// Of those, bytes that belonged to no valid frame (wake-up bytes aside).
    pub(crate) noise: usize,
    /// The reply, or the error of a frame from the right meter that does not parse;
    /// `None`: read more.
    pub(crate) outcome: Option<Result<Reply, dlt645::Error>>,
}

/// Walks `input`: skips echoes, other meters' frames, late replies and garbage, and
/// stops at the reply to `request` (sent as `sent`), including one hiding behind a
/// false start, or where more bytes are needed.
pub(crate) fn find_reply(input: &[u8], sent: &FrameRepr, request: &Request) -> Progress {
    let mut at = 0usize;
    let mut noise = 0usize;
    loop {
        let rest = input.get(at..).unwrap_or_default();
        match Decoder::new().decode(rest) {
            Decoded::Frame {
                frame: received,
                consumed,
                ..
            } => {
                at += consumed;
                let outcome = match classify(&FrameRepr::parse(&received), sent, request) {
                    Verdict::Reply(reply) => Ok(reply),
                    Verdict::Malformed(e) => Err(e),
                    // Under a wildcard only matching meters answer, so another
                    // meter's reply is what a collision made of theirs.
                    Verdict::Foreign if sent.address.has_wildcard() => {
                        noise += received.as_bytes().len();
                        continue;
                    }
                    Verdict::Echo | Verdict::Foreign | Verdict::Stale => continue,
                };
                return Progress {
                    consumed: at,
                    noise,
                    outcome: Some(outcome),
                };
            }
            Decoded::Skip { count, .. } => {
                let skipped = rest.get(..count).unwrap_or(rest);
                noise += skipped.iter().filter(|b| **b != PREAMBLE_BYTE).count();
                at += count.max(1);
            }
            Decoded::NeedMore { .. } => {
                let hidden = reply_behind_false_start(rest, sent, request);
                return Progress {
                    consumed: at + hidden.as_ref().map_or(0, |(end, _)| *end),
                    noise,
                    outcome: hidden.map(|(_, reply)| Ok(reply)),
                };
            }
        }
    }
}

/// Why a read answer cannot be followed further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[cfg_attr(not(feature = "embedded-io-async"), allow(unreachable_pub))]
pub enum FollowError {
    /// The reply names another item.
    #[error("reply for {got} to a request for {expected}")]
    Di {
        /// The item read.
        expected: Di,
        /// The item in the reply.
        got: Di,
    },
    /// A subsequent frame carries another sequence number than the one asked for.
    #[error("subsequent frame {got:?} received, frame {expected} expected")]
    Sequence {
        /// The sequence number asked for.
        expected: u8,
        /// The one in the reply.
        got: Option<u8>,
    },
    /// The meter keeps announcing frames past the limit.
    #[error("meter keeps announcing more frames after {frames} frames")]
    TooManyFrames {
        /// Frames received.
        frames: usize,
    },
    /// A reply that is no (subsequent) read answer.
    #[error("unexpected {function} reply")]
    Unexpected {
        /// The reply's function.
        function: Function,
    },
}

/// Follows a read answer over its frames (0x11 then 0x12 with SEQ 1, 2, … in 2007;
/// 0x01 then 0x02 in 1997) until the meter clears D5: which request comes next, and
/// what each reply must be. Sans-IO, shared by both clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FollowUp {
    di: Di,
    frames: usize,
    max_frames: usize,
    /// The sequence number asked for in the last subsequent-frame request (2007).
    asked: Option<u8>,
}

impl FollowUp {
    /// Starts reading `di`, following at most `max_frames` frames: the state and the
    /// first request.
    pub(crate) fn start(di: Di, max_frames: usize) -> (Self, Request) {
        let follow = FollowUp {
            di,
            frames: 0,
            max_frames,
            asked: None,
        };
        let first = Request::Read {
            di,
            selector: ReadSelector::Current,
        };
        (follow, first)
    }

    /// Frames taken so far.
    pub(crate) fn frames(&self) -> usize {
        self.frames
    }

    /// Takes the reply to the last request: its data, and the request for the next
    /// frame if the meter announced one.
    pub(crate) fn take(&mut self, reply: Reply) -> Result<(Payload, Option<Request>), FollowError> {
        let (got, data, more) = match reply {
            Reply::Read { di, data, more } if self.frames == 0 => (di, data, more),
            Reply::ReadSubsequent {
                di,
                data,
                seq,
                more,
            } if self.frames > 0 => {
                if let Some(expected) = self.asked
                    && seq != Some(expected)
                {
                    return Err(FollowError::Sequence { expected, got: seq });
                }
                (di, data, more)
            }
            other => {
                return Err(FollowError::Unexpected {
                    function: other.function(),
                });
            }
        };
        if got != self.di {
            return Err(FollowError::Di {
                expected: self.di,
                got,
            });
        }
        self.frames += 1;
        if !more {
            return Ok((data, None));
        }
        let frames = self.frames;
        if frames >= self.max_frames {
            return Err(FollowError::TooManyFrames { frames });
        }
        // Frame n of the answer is asked for with SEQ = n - 1 (the first is 0x11's).
        let seq = u8::try_from(frames).map_err(|_| FollowError::TooManyFrames { frames })?;
        self.asked = (self.di.edition() == Edition::V2007).then_some(seq);
        let next = Request::ReadSubsequent {
            di: self.di,
            seq: self.asked,
        };
        Ok((data, Some(next)))
    }
}

/// Bytes still in the input when the deadline passes that are no wake-up bytes: a
/// frame cut short, which a collision leaves too.
pub(crate) fn leftover_noise(input: &[u8]) -> usize {
    input.iter().filter(|b| **b != PREAMBLE_BYTE).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlt645::{Address, message::FreezeTime};

    fn read_frame(address: Address, di: u32) -> FrameRepr {
        Request::Read {
            di: Di::V2007(di),
            selector: ReadSelector::Current,
        }
        .to_frame(address)
        .unwrap()
    }

    #[test]
    fn reply_timeout_scales_with_baud() {
        let slow = ClientConfig::default();
        let fast = ClientConfig::with_line(LineTiming {
            baud: 9600,
            bits_per_char: 11,
        });
        // Same bytes, four times the speed: the line part is a quarter.
        // 2400: (20 + 16 + 8) × 11 / 2400 s = 44 × 11 / 2400 = 201 667 µs.
        assert_eq!(
            slow.reply_timeout(20, 8),
            Duration::from_millis(500) + Duration::from_micros(201_667)
        );
        // 9600: 484 bits / 9600 = 50 417 µs.
        assert_eq!(
            fast.reply_timeout(20, 8),
            Duration::from_millis(500) + Duration::from_micros(50_417)
        );
    }

    #[test]
    fn expected_reply_length_follows_the_catalogue() {
        let read = |di| Request::Read {
            di: Di::V2007(di),
            selector: ReadSelector::Current,
        };
        // Energy total: DI (4) + one 4-byte item.
        assert_eq!(expected_reply_data(&read(0x0001_0000)), 8);
        // Voltage block: DI (4) + 3 phases × 2 bytes.
        assert_eq!(expected_reply_data(&read(0x0201_FF00)), 10);
        // Energy block of 64 tariffs would be 4 + 256: one frame carries at most 200.
        assert_eq!(expected_reply_data(&read(0x0001_FF00)), 200);
        // Unknown item: a full frame.
        assert_eq!(expected_reply_data(&read(0x0F0F_0F0F)), 200);
        assert_eq!(expected_reply_data(&Request::ReadAddress), 6);
        let freeze = Request::Freeze {
            at: FreezeTime::default(),
        };
        assert_eq!(expected_reply_data(&freeze), 1);
    }

    #[test]
    fn classify_sorts_echo_foreign_stale_and_reply() {
        let meter: Address = "123456789012".parse().unwrap();
        let other: Address = "000000000001".parse().unwrap();
        let request = Request::Read {
            di: Di::V2007(0x0001_0000),
            selector: ReadSelector::Current,
        };
        let sent = read_frame(meter, 0x0001_0000);
        let classify = |received: &FrameRepr, sent: &FrameRepr| classify(received, sent, &request);
        assert_eq!(classify(&sent, &sent), Verdict::Echo);
        let reply = |address, di| {
            Reply::Read {
                di: Di::V2007(di),
                data: dlt645::frame::Payload::from_slice(&[0x42, 0, 0, 0]).unwrap(),
                more: false,
            }
            .to_frame(address)
            .unwrap()
        };
        assert_eq!(
            classify(&reply(other, 0x0001_0000), &sent),
            Verdict::Foreign
        );
        let stale = Reply::ReadAddress { address: meter }
            .to_frame(meter)
            .unwrap();
        assert_eq!(classify(&stale, &sent), Verdict::Stale);
        assert!(matches!(
            classify(&reply(meter, 0x0001_0000), &sent),
            Verdict::Reply(Reply::Read { more: false, .. })
        ));
        // The right meter answering a read of another item: a late reply.
        assert_eq!(classify(&reply(meter, 0x0001_0100), &sent), Verdict::Stale);
        // A wildcard request accepts any answering address.
        let probe = Request::ReadAddress.to_frame(Address::WILDCARD).unwrap();
        let answer = Reply::ReadAddress { address: meter }
            .to_frame(meter)
            .unwrap();
        assert_eq!(
            super::classify(&answer, &probe, &Request::ReadAddress),
            Verdict::Reply(Reply::ReadAddress { address: meter })
        );
        // The same data under the pattern's own address (some 1997 meters) is fine;
        // under a third address it is a collision that kept a valid checksum.
        let echoed = Reply::ReadAddress { address: meter }
            .to_frame(Address::WILDCARD)
            .unwrap();
        assert!(matches!(
            super::classify(&echoed, &probe, &Request::ReadAddress),
            Verdict::Reply(_)
        ));
        let mixed = Reply::ReadAddress { address: meter }
            .to_frame(other)
            .unwrap();
        assert_eq!(
            super::classify(&mixed, &probe, &Request::ReadAddress),
            Verdict::Foreign
        );
        // Right address and code, but a data field too short for a read reply.
        let mut broken = reply(meter, 0x0001_0000);
        broken.data.truncate(2);
        assert!(matches!(classify(&broken, &sent), Verdict::Malformed(_)));
    }

    #[test]
    fn follow_up_asks_for_each_frame_and_checks_it() {
        let di = Di::V2007(0x0001_FF00);
        let part = |bytes: &[u8]| Payload::from_slice(bytes).unwrap();
        let (mut follow, first) = FollowUp::start(di, 3);
        assert_eq!(
            first,
            Request::Read {
                di,
                selector: ReadSelector::Current
            }
        );
        // Frame 1 announces more: frame 2 is asked for with SEQ 1.
        let (data, next) = follow
            .take(Reply::Read {
                di,
                data: part(&[1, 2]),
                more: true,
            })
            .unwrap();
        assert_eq!(&data[..], [1, 2]);
        assert_eq!(next, Some(Request::ReadSubsequent { di, seq: Some(1) }));
        // A reply with SEQ 2 to the request for SEQ 1 is out of order.
        let mut wrong = follow;
        assert_eq!(
            wrong.take(Reply::ReadSubsequent {
                di,
                data: part(&[3]),
                seq: Some(2),
                more: false,
            }),
            Err(FollowError::Sequence {
                expected: 1,
                got: Some(2)
            })
        );
        // Another item's frame is refused.
        let other = Di::V2007(0x0002_FF00);
        assert_eq!(
            follow.clone().take(Reply::ReadSubsequent {
                di: other,
                data: part(&[3]),
                seq: Some(1),
                more: false,
            }),
            Err(FollowError::Di {
                expected: di,
                got: other
            })
        );
        // Frame 2 announces more again; a limit of 3 frames allows SEQ 2…
        let (_, next) = follow
            .take(Reply::ReadSubsequent {
                di,
                data: part(&[3]),
                seq: Some(1),
                more: true,
            })
            .unwrap();
        assert_eq!(next, Some(Request::ReadSubsequent { di, seq: Some(2) }));
        // …and gives up when frame 3 still announces more.
        assert_eq!(
            follow.take(Reply::ReadSubsequent {
                di,
                data: part(&[4]),
                seq: Some(2),
                more: true,
            }),
            Err(FollowError::TooManyFrames { frames: 3 })
        );
        // A 1997 item carries no sequence numbers.
        let old = Di::V1997(0x9010);
        let (mut follow, _) = FollowUp::start(old, 4);
        let (_, next) = follow
            .take(Reply::Read {
                di: old,
                data: part(&[0]),
                more: true,
            })
            .unwrap();
        assert_eq!(next, Some(Request::ReadSubsequent { di: old, seq: None }));
        // A subsequent frame before the first is no answer to the first request.
        let (mut fresh, _) = FollowUp::start(old, 4);
        assert!(matches!(
            fresh.take(Reply::ReadSubsequent {
                di: old,
                data: part(&[0]),
                seq: None,
                more: false,
            }),
            Err(FollowError::Unexpected { .. })
        ));
    }
}
