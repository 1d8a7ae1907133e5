//! The DL/T 645 client: one request at a time over a [`Link`], with deadlines scaled
//! to the line speed, retries with backoff, echo and foreign-reply filtering, and
//! automatic follow-up of multi-frame answers.
//!
//! The policy lives in plain functions ([`ClientConfig::reply_timeout`],
//! [`expected_reply_data`], [`classify`]); the async part only moves bytes.

use std::time::Duration;

use chrono::NaiveDateTime;
use dlt645::{
    Address, Di, Direction, Edition, FrameRepr, catalogue,
    frame::{MAX_FRAME_LEN, MIN_FRAME_LEN},
    message::{
        BaudRate, FreezeTime, OperatorCode, Password, ReadSelector, RelayCommand, Reply, Request,
    },
    stream::{Decoded, Decoder},
    value::{self, Value},
};
use tokio::time::Instant;

use crate::{
    error::{Error, ProtocolError},
    link::{Backoff, Connector, LineTiming, Link},
};

/// Most wake-up bytes a client sends; the transmit buffer is sized for it.
pub const MAX_PREAMBLE: usize = 8;

/// Wake-up bytes a meter may put before its reply, counted into the reply time.
const REPLY_PREAMBLE: usize = 4;

/// The largest data field the standard lets a meter send in one read reply.
const READ_REPLY_DATA: usize = 200;

/// How a [`Client`] talks. `Default` gives 4 wake-up bytes, 2400 bit/s 8E1 timing,
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
    /// A reply from a meter the request was not addressed to. Ignored.
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

/// The value bytes of an item, gathered from every frame of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadData {
    /// The item.
    pub di: Di,
    /// Value bytes in wire order, 0x33 removed, all frames concatenated.
    pub data: Vec<u8>,
    /// Frames the answer took.
    pub frames: usize,
}

impl ReadData {
    /// The value, decoded by the catalogue.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::Value`] when the bytes do not fit the item's format.
    pub fn value(&self) -> Result<Value, ProtocolError> {
        Ok(value::decode(self.di, &self.data)?)
    }
}

/// A DL/T 645 master on one [`Link`]. One request at a time; share a bus between
/// tasks with [`crate::bus`].
#[derive(Debug)]
pub struct Client<C: Connector> {
    link: Link<C>,
    config: ClientConfig,
    rx: Vec<u8>,
}

impl<C: Connector> Client<C> {
    /// A client on `link`.
    pub fn new(link: Link<C>, config: ClientConfig) -> Self {
        Client {
            link,
            config,
            rx: Vec::with_capacity(2 * MAX_FRAME_LEN),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The link, e.g. to close it.
    pub fn link_mut(&mut self) -> &mut Link<C> {
        &mut self.link
    }

    /// Sends `request` to `address` and waits for the reply, retrying timeouts and
    /// garbled replies. Returns `None` for requests no meter answers (broadcast time,
    /// heartbeat, anything sent to the broadcast address).
    ///
    /// # Errors
    ///
    /// [`Error::Abnormal`] when the meter refuses; [`Error::Timeout`] when no reply came
    /// in any attempt; [`Error::Disconnected`], [`Error::Io`], [`Error::Open`] from the
    /// link; [`Error::Protocol`] for a reply that does not parse;
    /// [`Error::Request`] when the request cannot be encoded.
    pub async fn request(
        &mut self,
        address: Address,
        request: &Request,
    ) -> Result<Option<Reply>, Error> {
        let frame = request.to_frame(address).map_err(Error::Request)?;
        let mut tx = [0u8; MAX_PREAMBLE + MAX_FRAME_LEN];
        let len = frame
            .emit(self.config.preamble.min(MAX_PREAMBLE), &mut tx)
            .map_err(Error::Request)?;
        let sent = tx.get(..len).unwrap_or_default();
        let awaits_reply = request.expects_reply() && !address.is_broadcast();
        let timeout = self.config.reply_timeout(len, expected_reply_data(request));
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result = self
                .attempt(request, &frame, sent, awaits_reply, timeout)
                .await;
            match result {
                Ok(reply) => {
                    self.link.mark_healthy();
                    return match reply {
                        Some(Reply::Abnormal {
                            function, error, ..
                        }) => Err(Error::Abnormal { function, error }),
                        other => Ok(other),
                    };
                }
                Err(e) if e.is_transient() && attempt <= self.config.retries => {
                    tokio::time::sleep(self.config.retry_backoff.delay(attempt)).await;
                }
                Err(Error::Timeout { waited, .. }) => {
                    return Err(Error::Timeout {
                        waited,
                        attempts: attempt,
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn attempt(
        &mut self,
        request: &Request,
        frame: &FrameRepr,
        sent: &[u8],
        awaits_reply: bool,
        timeout: Duration,
    ) -> Result<Option<Reply>, Error> {
        self.link.open().await?;
        // A late answer to an earlier request must not be taken for this one's.
        self.link.discard_input()?;
        self.rx.clear();
        self.link.write_all(sent).await?;
        if !awaits_reply {
            return Ok(None);
        }
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 256];
        loop {
            match Decoder::new().decode(&self.rx) {
                Decoded::Frame {
                    frame: received,
                    consumed,
                    ..
                } => {
                    let received = FrameRepr::parse(&received);
                    self.rx.drain(..consumed.min(self.rx.len()));
                    match classify(&received, frame, request) {
                        Verdict::Reply(reply) => return Ok(Some(reply)),
                        Verdict::Malformed(e) => {
                            return Err(Error::Protocol(ProtocolError::Frame(e)));
                        }
                        Verdict::Echo | Verdict::Foreign | Verdict::Stale => {}
                    }
                }
                Decoded::Skip { count, .. } => {
                    self.rx.drain(..count.min(self.rx.len()));
                }
                Decoded::NeedMore { .. } => {
                    if let Some((end, reply)) = reply_behind_false_start(&self.rx, frame, request) {
                        self.rx.drain(..end.min(self.rx.len()));
                        return Ok(Some(reply));
                    }
                    let read = tokio::time::timeout_at(deadline, self.link.read(&mut chunk)).await;
                    let Ok(read) = read else {
                        return Err(Error::Timeout {
                            waited: timeout,
                            attempts: 1,
                        });
                    };
                    let n = read?;
                    self.rx
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                }
            }
        }
    }

    async fn expect_reply(&mut self, address: Address, request: &Request) -> Result<Reply, Error> {
        self.request(address, request)
            .await?
            .ok_or(Error::Protocol(ProtocolError::Unexpected {
                function: request.function(),
            }))
    }

    /// Reads the current value bytes of `di`, following a multi-frame answer (0x12 with
    /// sequence numbers 1, 2, … in 2007; 0x02 in 1997) until the meter clears D5.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request); [`ProtocolError::Di`] when the meter answers for
    /// another item, [`ProtocolError::Sequence`] for a subsequent frame out of order,
    /// [`ProtocolError::TooManyFrames`] / [`ProtocolError::TooLong`] past the limits of
    /// the [`ClientConfig`].
    pub async fn read(&mut self, address: Address, di: Di) -> Result<ReadData, Error> {
        let request = Request::Read {
            di,
            selector: ReadSelector::Current,
        };
        let (mut data, mut more) = match self.expect_reply(address, &request).await? {
            Reply::Read {
                di: got,
                data,
                more,
            } => {
                check_di(di, got)?;
                (data.to_vec(), more)
            }
            other => return Err(unexpected(&other)),
        };
        let mut frames = 1usize;
        while more {
            if frames >= self.config.max_frames {
                return Err(ProtocolError::TooManyFrames { frames }.into());
            }
            // Frame n of the answer is asked for with SEQ = n - 1 (the first is 0x11's).
            let seq = u8::try_from(frames).map_err(|_| ProtocolError::TooManyFrames { frames })?;
            let wanted = (di.edition() == Edition::V2007).then_some(seq);
            let follow = Request::ReadSubsequent { di, seq: wanted };
            match self.expect_reply(address, &follow).await? {
                Reply::ReadSubsequent {
                    di: got,
                    data: part,
                    seq: got_seq,
                    more: next,
                } => {
                    check_di(di, got)?;
                    if wanted.is_some() && got_seq != wanted {
                        return Err(ProtocolError::Sequence {
                            expected: seq,
                            got: got_seq,
                        }
                        .into());
                    }
                    data.extend_from_slice(&part);
                    more = next;
                }
                other => return Err(unexpected(&other)),
            }
            frames += 1;
            if data.len() > self.config.max_data {
                return Err(ProtocolError::TooLong {
                    len: data.len(),
                    max: self.config.max_data,
                }
                .into());
            }
        }
        Ok(ReadData { di, data, frames })
    }

    /// Reads `di` and decodes it with the catalogue.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); [`ProtocolError::Value`] when the bytes do not fit the
    /// item's format.
    pub async fn read_value(&mut self, address: Address, di: Di) -> Result<Value, Error> {
        Ok(self.read(address, di).await?.value()?)
    }

    /// Reads the address of the meter answering `to` — [`Address::WILDCARD`] on a
    /// point-to-point line, or a partly wildcarded address
    /// ([`Address::with_wildcard_high`]) to find a meter by its low digits.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request). On a shared bus several meters answer a full
    /// wildcard at once and the collision usually ends in [`Error::Timeout`].
    pub async fn read_address(&mut self, to: Address) -> Result<Address, Error> {
        match self.expect_reply(to, &Request::ReadAddress).await? {
            Reply::ReadAddress { address } => Ok(address),
            other => Err(unexpected(&other)),
        }
    }

    /// Writes `data` (value bytes in wire order, see [`dlt645::value::encode`]) to
    /// `di`. 2007 writes need an operator code, 1997 writes none.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request); a wrong password comes back as
    /// [`Error::Abnormal`] with the "unauthorised" bit.
    pub async fn write(
        &mut self,
        address: Address,
        di: Di,
        password: Password,
        operator: Option<OperatorCode>,
        data: &[u8],
    ) -> Result<(), Error> {
        let data = dlt645::frame::Payload::from_slice(data).map_err(|_| {
            Error::Request(dlt645::Error::DataTooLong {
                len: data.len(),
                max: dlt645::frame::MAX_DATA_LEN,
            })
        })?;
        let request = Request::Write {
            di,
            password,
            operator,
            data,
        };
        self.expect_ack(address, &request).await
    }

    /// Sets every meter's clock to `time` by broadcast. No meter answers, so this
    /// returns once the frame is written.
    ///
    /// # Errors
    ///
    /// Link errors; [`Error::Request`] for a year outside 2000..=2099.
    pub async fn broadcast_time(&mut self, time: NaiveDateTime) -> Result<(), Error> {
        self.request(Address::BROADCAST, &Request::BroadcastTime { time })
            .await
            .map(drop)
    }

    /// Freezes the registers of `address` (or of every meter, sent to
    /// [`Address::BROADCAST`], without a reply) at `at`.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn freeze(&mut self, address: Address, at: FreezeTime) -> Result<(), Error> {
        let request = Request::Freeze { at };
        if address.is_broadcast() {
            return self.request(address, &request).await.map(drop);
        }
        self.expect_ack(address, &request).await
    }

    /// Asks the meter to switch to `rate`; returns the rate it confirms. Switch the
    /// link's baud rate afterwards.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn change_baud(
        &mut self,
        address: Address,
        edition: Edition,
        rate: BaudRate,
    ) -> Result<BaudRate, Error> {
        match self
            .expect_reply(address, &Request::ChangeBaud { edition, rate })
            .await?
        {
            Reply::ChangeBaud { rate, .. } => Ok(rate),
            other => Err(unexpected(&other)),
        }
    }

    /// Relay control (0x1C, State Grid extension): trip, allow closing, alarm, keep
    /// power…, valid until `valid_until`.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn relay_control(
        &mut self,
        address: Address,
        password: Password,
        operator: OperatorCode,
        command: RelayCommand,
        valid_until: NaiveDateTime,
    ) -> Result<(), Error> {
        let request = Request::RelayControl {
            password,
            operator,
            command,
            valid_until,
        };
        self.expect_ack(address, &request).await
    }

    async fn expect_ack(&mut self, address: Address, request: &Request) -> Result<(), Error> {
        let reply = self.expect_reply(address, request).await?;
        if reply.function() == request.function() {
            Ok(())
        } else {
            Err(unexpected(&reply))
        }
    }
}

fn check_di(expected: Di, got: Di) -> Result<(), Error> {
    if expected == got {
        Ok(())
    } else {
        Err(ProtocolError::Di { expected, got }.into())
    }
}

fn unexpected(reply: &Reply) -> Error {
    ProtocolError::Unexpected {
        function: reply.function(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Right address and code, but a data field too short for a read reply.
        let mut broken = reply(meter, 0x0001_0000);
        broken.data.truncate(2);
        assert!(matches!(classify(&broken, &sent), Verdict::Malformed(_)));
    }
}
