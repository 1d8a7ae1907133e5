//! DL/T 645 and Modbus (RTU and TCP) masters for firmware: any [`Read`] + [`Write`] +
//! [`ReadReady`] link from `embedded-io-async` (an embassy `BufferedUart`, say) and a
//! caller-supplied [`Timer`] (embassy-time, RTIC monotonics, or tokio in tests).
//!
//! This module uses `core` only: fixed buffers, no heap, no tokio. It shares the
//! policy of the tokio clients — deadlines scaled to the line
//! ([`ClientConfig::reply_timeout`], [`ModbusConfig::reply_timeout`]), echo and
//! foreign-frame filtering, the reply found behind a false start, retries with backoff
//! — through the same sans-IO functions, so both behave alike on the wire. What it
//! leaves out: reopening a link (firmware owns its UART), the shared-bus task and the
//! poller, and Modbus meter profiles.
//!
//! ```
//! use core::{future::Future, time::Duration};
//! use meterkit_transport::embedded::Timer;
//!
//! /// A timer on tokio's clock; on an MCU `embassy_time::Instant` and
//! /// `embassy_time::with_deadline` play these parts.
//! struct TokioTimer;
//!
//! impl Timer for TokioTimer {
//!     type Instant = tokio::time::Instant;
//!     fn now(&self) -> Self::Instant {
//!         tokio::time::Instant::now()
//!     }
//!     fn after(&self, at: Self::Instant, delay: Duration) -> Self::Instant {
//!         at + delay
//!     }
//!     fn sleep_until(&mut self, at: Self::Instant) -> impl Future<Output = ()> {
//!         tokio::time::sleep_until(at)
//!     }
//!     async fn timeout_at<F: Future>(&mut self, at: Self::Instant, future: F) -> Option<F::Output> {
//!         tokio::time::timeout_at(at, future).await.ok()
//!     }
//! }
//! ```

use core::{future::Future, time::Duration};

use dlt645::{
    Address, Di, Function,
    frame::MAX_FRAME_LEN,
    message::{ErrorWord, Reply, Request},
};

pub use crate::matching::FollowError;
use embedded_io_async::{Read, ReadReady, Write};
use meterkit_modbus::{ExceptionCode, Request as ModbusRequest, Response, rtu, tcp};

use crate::{
    matching::{ClientConfig, FollowUp, MAX_PREAMBLE, Progress, expected_reply_data, find_reply},
    modbus_matching::{Awaited, Framing, ModbusConfig, Step, expected_reply_len},
    timing::Backoff,
};

/// Time for the embedded clients: instants, sleeping, and a deadline on a future.
pub trait Timer {
    /// A point in time.
    type Instant: Copy + Ord;

    /// Now.
    fn now(&self) -> Self::Instant;

    /// `delay` after `at`.
    fn after(&self, at: Self::Instant, delay: Duration) -> Self::Instant;

    /// Waits until `at`.
    fn sleep_until(&mut self, at: Self::Instant) -> impl Future<Output = ()>;

    /// Runs `future` until `at`: `None` if the deadline passed first.
    fn timeout_at<F: Future>(
        &mut self,
        at: Self::Instant,
        future: F,
    ) -> impl Future<Output = Option<F::Output>>;
}

/// What can go wrong on an embedded link; `E` is the link's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError<E> {
    /// Reading or writing failed.
    #[error("link I/O error: {0:?}")]
    Io(E),
    /// The link reported end of input.
    #[error("the link closed")]
    Disconnected,
    /// No valid reply before the deadline, in any attempt.
    #[error("no reply after {attempts} attempts")]
    Timeout {
        /// Attempts made.
        attempts: u32,
    },
    /// The meter refused (DL/T 645 D6 set) with its ERR word.
    #[error("meter refused {function}: {error} (ERR {:#04X})", error.bits)]
    Abnormal {
        /// The refused function.
        function: Function,
        /// The meter's error bits.
        error: ErrorWord,
    },
    /// A DL/T 645 reply from the right meter that does not parse, or does not answer
    /// the request.
    #[error("malformed reply: {0}")]
    Frame(dlt645::Error),
    /// A DL/T 645 reply that does not continue the read answer.
    #[error("read answer broken off: {0}")]
    Follow(FollowError),
    /// A DL/T 645 answer longer than the caller's buffer.
    #[error("answer of {len} bytes exceeds the buffer of {max}")]
    TooLong {
        /// Bytes the answer has reached.
        len: usize,
        /// The buffer's size.
        max: usize,
    },
    /// A well-formed reply that does not answer the request.
    #[error("unexpected reply: {what}")]
    Unexpected {
        /// What was wrong with it.
        what: &'static str,
    },
    /// The DL/T 645 request cannot be encoded.
    #[error("request cannot be encoded: {0}")]
    Request(dlt645::Error),
    /// A Modbus exception reply.
    #[error("Modbus exception {:#04X} to function {function:#04X}", code.code())]
    Exception {
        /// The function code of the request.
        function: u8,
        /// The exception.
        code: ExceptionCode,
    },
    /// A Modbus request that cannot be encoded, or an answer that does not fit it.
    #[error("Modbus error: {0}")]
    Modbus(meterkit_modbus::Error),
}

impl<E> LinkError<E> {
    /// Whether another attempt may help: timeouts and garbled replies.
    pub fn is_transient(&self) -> bool {
        matches!(self, LinkError::Timeout { .. } | LinkError::Frame(_))
    }
}

/// Received bytes not yet consumed, in a fixed buffer.
#[derive(Debug)]
struct RxBuffer<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> RxBuffer<N> {
    const fn new() -> Self {
        RxBuffer {
            bytes: [0; N],
            len: 0,
        }
    }

    fn filled(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    fn consume(&mut self, count: usize) {
        let count = count.min(self.len);
        self.bytes.copy_within(count..self.len, 0);
        self.len -= count;
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// What a look at the received bytes found.
enum Looked<R> {
    /// Drop this many bytes and look again.
    Drop(usize),
    /// The answer (the buffer is left as it is).
    Done(R),
    /// Read more.
    NeedMore,
}

/// Drops whatever input is waiting: a late answer to an earlier request must not be
/// taken for the next one's.
async fn discard_input<L: Read + ReadReady, const N: usize>(
    link: &mut L,
    rx: &mut RxBuffer<N>,
) -> Result<(), LinkError<L::Error>> {
    rx.clear();
    while link.read_ready().map_err(LinkError::Io)? {
        let mut sink = [0u8; 32];
        if link.read(&mut sink).await.map_err(LinkError::Io)? == 0 {
            return Err(LinkError::Disconnected);
        }
    }
    Ok(())
}

/// Reads until `look` finds the answer or `deadline` passes.
async fn receive<L: Read, T: Timer, R, const N: usize>(
    link: &mut L,
    timer: &mut T,
    rx: &mut RxBuffer<N>,
    deadline: T::Instant,
    mut look: impl FnMut(&[u8]) -> Looked<R>,
) -> Result<R, LinkError<L::Error>> {
    loop {
        match look(rx.filled()) {
            Looked::Drop(count) => rx.consume(count.max(1)),
            Looked::Done(result) => return Ok(result),
            Looked::NeedMore => {
                if rx.len == N {
                    // A full buffer that still needs more is noise: make room.
                    rx.consume(1);
                    continue;
                }
                let space = rx.bytes.get_mut(rx.len..).unwrap_or_default();
                let read = timer
                    .timeout_at(deadline, link.read(space))
                    .await
                    .ok_or(LinkError::Timeout { attempts: 1 })?;
                match read.map_err(LinkError::Io)? {
                    0 => return Err(LinkError::Disconnected),
                    n => rx.len = (rx.len + n).min(N),
                }
            }
        }
    }
}

/// Whether to try again after `error` in attempt `attempt` (1-based), and after how
/// long; the final error otherwise (a timeout counting every attempt).
fn retry<E>(
    error: LinkError<E>,
    attempt: u32,
    retries: u32,
    backoff: Backoff,
) -> Result<Duration, LinkError<E>> {
    match error {
        e if e.is_transient() && attempt <= retries => Ok(backoff.delay(attempt)),
        LinkError::Timeout { .. } => Err(LinkError::Timeout { attempts: attempt }),
        e => Err(e),
    }
}

/// Receive buffer of the DL/T 645 client: two frames, so a reply behind a false start
/// fits.
const DLT645_RX: usize = 2 * MAX_FRAME_LEN;

/// A DL/T 645 master on an embedded-io-async link.
#[derive(Debug)]
pub struct Dlt645Client<L, T> {
    link: L,
    timer: T,
    config: ClientConfig,
    rx: RxBuffer<DLT645_RX>,
}

impl<L: Read + Write + ReadReady, T: Timer> Dlt645Client<L, T> {
    /// A client on `link`, timed by `timer`.
    pub fn new(link: L, timer: T, config: ClientConfig) -> Self {
        Dlt645Client {
            link,
            timer,
            config,
            rx: RxBuffer::new(),
        }
    }

    /// The link and the timer back.
    pub fn into_parts(self) -> (L, T) {
        (self.link, self.timer)
    }

    /// Sends `request` to `address` and waits for the reply, retrying timeouts and
    /// garbled replies; `None` for requests no meter answers (broadcasts).
    ///
    /// # Errors
    ///
    /// [`LinkError::Abnormal`] when the meter refuses, [`LinkError::Timeout`] after
    /// every attempt, [`LinkError::Io`] / [`LinkError::Disconnected`] from the link,
    /// [`LinkError::Frame`] for a reply that does not parse, [`LinkError::Request`]
    /// when the request cannot be encoded.
    pub async fn request(
        &mut self,
        address: Address,
        request: &Request,
    ) -> Result<Option<Reply>, LinkError<L::Error>> {
        let frame = request.to_frame(address).map_err(LinkError::Request)?;
        let mut tx = [0u8; MAX_PREAMBLE + MAX_FRAME_LEN];
        let len = frame
            .emit(self.config.preamble.min(MAX_PREAMBLE), &mut tx)
            .map_err(LinkError::Request)?;
        let sent = tx.get(..len).unwrap_or_default();
        let awaits_reply = request.expects_reply() && !address.is_broadcast();
        let timeout = self.config.reply_timeout(len, expected_reply_data(request));
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            discard_input(&mut self.link, &mut self.rx).await?;
            self.link.write_all(sent).await.map_err(LinkError::Io)?;
            self.link.flush().await.map_err(LinkError::Io)?;
            if !awaits_reply {
                return Ok(None);
            }
            let deadline = self.timer.after(self.timer.now(), timeout);
            let result = receive(
                &mut self.link,
                &mut self.timer,
                &mut self.rx,
                deadline,
                |input| {
                    let Progress {
                        consumed, outcome, ..
                    } = find_reply(input, &frame, request);
                    match outcome {
                        Some(outcome) => Looked::Done(outcome),
                        None if consumed > 0 => Looked::Drop(consumed),
                        None => Looked::NeedMore,
                    }
                },
            )
            .await
            .and_then(|outcome| outcome.map_err(LinkError::Frame));
            match result {
                Ok(Reply::Abnormal {
                    function, error, ..
                }) => return Err(LinkError::Abnormal { function, error }),
                Ok(reply) => return Ok(Some(reply)),
                Err(e) => {
                    let wait = retry(e, attempt, self.config.retries, self.config.retry_backoff)?;
                    let until = self.timer.after(self.timer.now(), wait);
                    self.timer.sleep_until(until).await;
                }
            }
        }
    }

    /// Reads the address of the meter answering `to` ([`Address::WILDCARD`] on a
    /// point-to-point line).
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn read_address(&mut self, to: Address) -> Result<Address, LinkError<L::Error>> {
        match self.request(to, &Request::ReadAddress).await? {
            Some(Reply::ReadAddress { address }) => Ok(address),
            _ => Err(LinkError::Unexpected {
                what: "the reply to read address carries no address",
            }),
        }
    }

    /// Reads the current value bytes of `di` (wire order, 0x33 removed) into `out`,
    /// following a multi-frame answer as the tokio client does; returns how many bytes
    /// were written. Decode them with [`dlt645::value::decode`].
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request); [`LinkError::Follow`] for a reply that does not
    /// continue the answer (another item, a sequence number out of order, more frames
    /// than [`ClientConfig::max_frames`]); [`LinkError::TooLong`] when `out` is full.
    pub async fn read(
        &mut self,
        address: Address,
        di: Di,
        out: &mut [u8],
    ) -> Result<usize, LinkError<L::Error>> {
        let (mut follow, mut request) = FollowUp::start(di, self.config.max_frames);
        let mut len = 0usize;
        loop {
            let reply = self
                .request(address, &request)
                .await?
                .ok_or(LinkError::Unexpected {
                    what: "no reply to a read",
                })?;
            let (part, next) = follow.take(reply).map_err(LinkError::Follow)?;
            let end = len + part.len();
            let max = out.len();
            let slot = out
                .get_mut(len..end)
                .ok_or(LinkError::TooLong { len: end, max })?;
            slot.copy_from_slice(&part);
            len = end;
            match next {
                Some(next) => request = next,
                None => return Ok(len),
            }
        }
    }
}

/// A Modbus master on an embedded-io-async link: RTU on a UART (the t3.5 silence kept
/// before sending, replies framed by structure, slave and function checked) or Modbus
/// TCP on a socket (a new transaction id per attempt, so a late reply never answers a
/// later request), as [`ModbusConfig::framing`] says.
#[derive(Debug)]
pub struct ModbusClient<L, T: Timer> {
    link: L,
    timer: T,
    config: ModbusConfig,
    rx: RxBuffer<{ 2 * tcp::MAX_ADU_LEN }>,
    transaction: u16,
    /// When the line last carried a byte (ours or a reply's); RTU only.
    line_busy_until: Option<T::Instant>,
}

impl<L: Read + Write + ReadReady, T: Timer> ModbusClient<L, T> {
    /// A client on `link`, timed by `timer`.
    pub fn new(link: L, timer: T, config: ModbusConfig) -> Self {
        ModbusClient {
            link,
            timer,
            config,
            rx: RxBuffer::new(),
            transaction: 0,
            line_busy_until: None,
        }
    }

    /// The link and the timer back.
    pub fn into_parts(self) -> (L, T) {
        (self.link, self.timer)
    }

    /// The request as an ADU in `tx`, and its transaction id (TCP).
    fn encode(
        &mut self,
        unit: u8,
        request: &ModbusRequest<'_>,
        tx: &mut [u8],
    ) -> Result<(usize, Option<u16>), LinkError<L::Error>> {
        match self.config.framing {
            Framing::Rtu => rtu::Repr {
                slave: unit,
                pdu: (*request).into(),
            }
            .emit(tx)
            .map(|n| (n, None)),
            Framing::Tcp => {
                self.transaction = self.transaction.wrapping_add(1);
                tcp::Repr {
                    transaction: self.transaction,
                    unit,
                    pdu: (*request).into(),
                }
                .emit(tx)
                .map(|n| (n, Some(self.transaction)))
            }
        }
        .map_err(LinkError::Modbus)
    }

    /// Sends `request` to `unit` and returns the reply, retrying timeouts; `None` for
    /// an RTU broadcast (unit 0), which no slave answers.
    ///
    /// # Errors
    ///
    /// [`LinkError::Exception`] for an exception reply, [`LinkError::Timeout`] after
    /// every attempt, link errors, [`LinkError::Modbus`] for a request that cannot be
    /// encoded.
    pub async fn request(
        &mut self,
        unit: u8,
        request: &ModbusRequest<'_>,
    ) -> Result<Option<Response<'_>>, LinkError<L::Error>> {
        let rtu = self.config.framing == Framing::Rtu;
        let function = request.function().code();
        let mut tx = [0u8; tcp::MAX_ADU_LEN];
        let mut attempt = 0u32;
        let pdu = loop {
            attempt += 1;
            // A new transaction id per attempt (TCP).
            let (len, transaction) = self.encode(unit, request, &mut tx)?;
            let sent = tx.get(..len).unwrap_or_default();
            let timeout = self.config.reply_timeout(len, expected_reply_len(request));
            if rtu && let Some(busy) = self.line_busy_until {
                let quiet = self.timer.after(busy, self.config.silence());
                self.timer.sleep_until(quiet).await;
            }
            discard_input(&mut self.link, &mut self.rx).await?;
            self.link.write_all(sent).await.map_err(LinkError::Io)?;
            self.link.flush().await.map_err(LinkError::Io)?;
            let now = self.timer.now();
            // The frame is still on the wire when the write returns.
            self.line_busy_until = Some(self.timer.after(now, self.config.line.transfer_time(len)));
            if rtu && unit == 0 {
                return Ok(None);
            }
            let deadline = self.timer.after(now, timeout);
            let mut awaited = Awaited::new(&self.config, sent, unit, transaction, function);
            let result = receive(
                &mut self.link,
                &mut self.timer,
                &mut self.rx,
                deadline,
                |input| match awaited.step(input) {
                    Step::Drop(count) => Looked::Drop(count),
                    Step::Answer { pdu, .. } => Looked::Done(pdu),
                    Step::NeedMore => Looked::NeedMore,
                },
            )
            .await;
            self.line_busy_until = Some(self.timer.now());
            match result {
                Ok(pdu) => break pdu,
                Err(e) => {
                    let wait = retry(e, attempt, self.config.retries, self.config.retry_backoff)?;
                    let until = self.timer.after(self.timer.now(), wait);
                    self.timer.sleep_until(until).await;
                }
            }
        };
        let pdu = self.rx.filled().get(pdu).unwrap_or_default();
        match Response::parse(pdu).map_err(LinkError::Modbus)? {
            Response::Exception { function, code } => Err(LinkError::Exception { function, code }),
            response => Ok(Some(response)),
        }
    }

    /// Reads `out.len()` holding registers (FC03) from `address` into `out`.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request); [`LinkError::Modbus`] when the reply carries
    /// another number of registers.
    pub async fn read_holding(
        &mut self,
        unit: u8,
        address: u16,
        out: &mut [u16],
    ) -> Result<(), LinkError<L::Error>> {
        let quantity = u16::try_from(out.len()).unwrap_or(u16::MAX);
        let request = ModbusRequest::ReadHoldingRegisters { address, quantity };
        match self.request(unit, &request).await? {
            Some(Response::ReadHoldingRegisters { registers })
                if registers.iter().count() == out.len() =>
            {
                for (slot, value) in out.iter_mut().zip(registers.iter()) {
                    *slot = value;
                }
                Ok(())
            }
            _ => Err(LinkError::Unexpected {
                what: "the reply does not carry the registers read",
            }),
        }
    }
}
