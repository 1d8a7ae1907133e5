//! The Modbus client: RTU over a serial line (inter-frame silence kept when sending,
//! replies framed by structure, slave and function checked) and TCP (a fresh
//! transaction id per attempt, so a late reply never answers a later request), and
//! reading a meter profile's quantities into a [`MeterReading`].

use std::time::Duration;

use meterkit_modbus::{
    Decoded, Direction, Registers, Request, Response,
    profile::{Profile, Ratios, ReadRange, RegisterKind},
    rtu, tcp,
};
use meterkit_reading::{MeterReading, Quantity};
use tokio::time::Instant;

use crate::{
    error::{Error, ProtocolError},
    link::{Backoff, Connector, LineTiming, Link},
};

/// How frames are delimited and addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// Modbus RTU: slave address, PDU, CRC-16; on serial lines (or raw through a
    /// transparent gateway).
    Rtu,
    /// Modbus TCP: MBAP header with transaction id and unit id.
    Tcp,
}

/// How a [`ModbusClient`] talks.
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

/// A reply PDU, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pdu: Vec<u8>,
}

impl Answer {
    /// The PDU bytes (function code first).
    pub fn pdu(&self) -> &[u8] {
        &self.pdu
    }

    /// The parsed response.
    ///
    /// # Errors
    ///
    /// None in practice: the decoder already validated the PDU; the parse error is
    /// passed on should that ever differ.
    pub fn response(&self) -> Result<Response<'_>, meterkit_modbus::Error> {
        Response::parse(&self.pdu)
    }
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

/// A frame found in the input: where it ends, who sent it, and its PDU.
struct Found {
    consumed: usize,
    unit: u8,
    transaction: Option<u16>,
    pdu: Vec<u8>,
}

enum Scanned {
    Frame(Found),
    Skip(usize),
    NeedMore,
}

fn scan(framing: Framing, input: &[u8]) -> Scanned {
    match framing {
        Framing::Rtu => match rtu::Decoder::new(Direction::Response).decode(input) {
            Decoded::Frame { frame, consumed } => Scanned::Frame(Found {
                consumed,
                unit: frame.slave(),
                transaction: None,
                pdu: frame.pdu().to_vec(),
            }),
            Decoded::Skip { count, .. } => Scanned::Skip(count),
            Decoded::NeedMore { .. } => Scanned::NeedMore,
        },
        Framing::Tcp => match tcp::Decoder::new(Direction::Response).decode(input) {
            Decoded::Frame { frame, consumed } => Scanned::Frame(Found {
                consumed,
                unit: frame.unit(),
                transaction: Some(frame.transaction()),
                pdu: frame.pdu().to_vec(),
            }),
            Decoded::Skip { count, .. } => Scanned::Skip(count),
            Decoded::NeedMore { .. } => Scanned::NeedMore,
        },
    }
}

/// Finds our answer behind a false start: noise that looks like the start of a long
/// frame makes the decoder wait for bytes that would swallow the real reply. Tries a
/// frame at every later offset; returns where the first answering one ends and its PDU.
fn answer_behind_false_start(
    framing: Framing,
    input: &[u8],
    is_answer: impl Fn(&Found) -> bool,
) -> Option<(usize, Vec<u8>)> {
    (1..input.len()).find_map(|start| match scan(framing, input.get(start..)?) {
        Scanned::Frame(found) if is_answer(&found) => Some((start + found.consumed, found.pdu)),
        _ => None,
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

/// A Modbus master on one [`Link`].
#[derive(Debug)]
pub struct ModbusClient<C: Connector> {
    link: Link<C>,
    config: ModbusConfig,
    rx: Vec<u8>,
    transaction: u16,
    line_busy_until: Option<Instant>,
}

impl<C: Connector> ModbusClient<C> {
    /// A client on `link`.
    pub fn new(link: Link<C>, config: ModbusConfig) -> Self {
        ModbusClient {
            link,
            config,
            rx: Vec::with_capacity(2 * tcp::MAX_ADU_LEN),
            transaction: 0,
            line_busy_until: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ModbusConfig {
        &self.config
    }

    /// The link.
    pub fn link_mut(&mut self) -> &mut Link<C> {
        &mut self.link
    }

    /// Sends `request` to `unit` and returns the reply. An RTU write to unit 0
    /// (broadcast) gets no reply: `None`.
    ///
    /// # Errors
    ///
    /// [`Error::Exception`] for an exception reply; [`Error::Timeout`] after every
    /// retry; link errors; [`Error::ModbusRequest`] when the request cannot be encoded.
    pub async fn request(
        &mut self,
        unit: u8,
        request: &Request<'_>,
    ) -> Result<Option<Answer>, Error> {
        let broadcast = self.config.framing == Framing::Rtu && unit == 0;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.attempt(unit, request, broadcast).await {
                Ok(answer) => {
                    self.link.mark_healthy();
                    return answer.map(check_exception).transpose();
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

    fn encode(
        &mut self,
        unit: u8,
        request: &Request<'_>,
        out: &mut [u8],
    ) -> Result<(usize, Option<u16>), Error> {
        match self.config.framing {
            Framing::Rtu => {
                let repr = rtu::Repr {
                    slave: unit,
                    pdu: (*request).into(),
                };
                Ok((repr.emit(out).map_err(Error::ModbusRequest)?, None))
            }
            Framing::Tcp => {
                // A new id per attempt: the reply to an abandoned attempt never matches.
                self.transaction = self.transaction.wrapping_add(1);
                let repr = tcp::Repr {
                    transaction: self.transaction,
                    unit,
                    pdu: (*request).into(),
                };
                Ok((
                    repr.emit(out).map_err(Error::ModbusRequest)?,
                    Some(self.transaction),
                ))
            }
        }
    }

    async fn attempt(
        &mut self,
        unit: u8,
        request: &Request<'_>,
        broadcast: bool,
    ) -> Result<Option<Answer>, Error> {
        let mut tx = [0u8; tcp::MAX_ADU_LEN];
        let (len, transaction) = self.encode(unit, request, &mut tx)?;
        let sent = tx.get(..len).unwrap_or_default();
        self.link.open().await?;
        if self.config.framing == Framing::Rtu
            && let Some(busy) = self.line_busy_until
        {
            tokio::time::sleep_until(busy + self.config.silence()).await;
        }
        self.link.discard_input()?;
        self.rx.clear();
        self.link.write_all(sent).await?;
        // The frame is still on the wire when the write returns.
        self.line_busy_until = Some(Instant::now() + self.config.line.transfer_time(len));
        if broadcast {
            return Ok(None);
        }
        let timeout = self.config.reply_timeout(len, expected_reply_len(request));
        let deadline = Instant::now() + timeout;
        let function = request.function().code();
        let mut echo_pending = self.config.echo || !reply_may_equal_request(function);
        let mut chunk = [0u8; 256];
        loop {
            // Our own echo goes first, whole: decoded as a reply it could announce a
            // byte count that never arrives.
            let echo = if echo_pending {
                echo_prefix(&self.rx, sent)
            } else {
                Echo::No
            };
            let scanned = match echo {
                Echo::Whole => {
                    echo_pending = false;
                    Scanned::Skip(sent.len())
                }
                Echo::Partial => Scanned::NeedMore,
                Echo::No => {
                    // An echo would have come first: none is coming now.
                    echo_pending = false;
                    scan(self.config.framing, &self.rx)
                }
            };
            match scanned {
                Scanned::Frame(found) => {
                    self.rx.drain(..found.consumed.min(self.rx.len()));
                    if answers(
                        found.unit,
                        found.transaction,
                        &found.pdu,
                        unit,
                        transaction,
                        function,
                    ) {
                        return Ok(Some(Answer { pdu: found.pdu }));
                    }
                }
                Scanned::Skip(count) => {
                    self.rx.drain(..count.min(self.rx.len()));
                }
                Scanned::NeedMore => {
                    let hidden = if echo_pending {
                        None
                    } else {
                        answer_behind_false_start(self.config.framing, &self.rx, |found| {
                            answers(
                                found.unit,
                                found.transaction,
                                &found.pdu,
                                unit,
                                transaction,
                                function,
                            )
                        })
                    };
                    if let Some((end, pdu)) = hidden {
                        self.rx.drain(..end.min(self.rx.len()));
                        return Ok(Some(Answer { pdu }));
                    }
                    let read = tokio::time::timeout_at(deadline, self.link.read(&mut chunk)).await;
                    let Ok(read) = read else {
                        return Err(Error::Timeout {
                            waited: timeout,
                            attempts: 1,
                        });
                    };
                    let n = read?;
                    self.line_busy_until = Some(Instant::now());
                    self.rx
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                }
            }
        }
    }

    async fn registers(&mut self, unit: u8, request: &Request<'_>) -> Result<Vec<u16>, Error> {
        let answer = self.expect(unit, request).await?;
        let response = answer.response().map_err(ProtocolError::Modbus)?;
        match response {
            Response::ReadHoldingRegisters { registers }
            | Response::ReadInputRegisters { registers } => Ok(registers.iter().collect()),
            other => Err(unexpected(&other)),
        }
    }

    async fn expect(&mut self, unit: u8, request: &Request<'_>) -> Result<Answer, Error> {
        self.request(unit, request)
            .await?
            .ok_or(Error::ModbusRequest(
                meterkit_modbus::Error::BroadcastNotAllowed {
                    function: request.function().code(),
                },
            ))
    }

    /// Reads `quantity` holding registers (FC03) from `address`.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn read_holding(
        &mut self,
        unit: u8,
        address: u16,
        quantity: u16,
    ) -> Result<Vec<u16>, Error> {
        self.registers(unit, &Request::ReadHoldingRegisters { address, quantity })
            .await
    }

    /// Reads `quantity` input registers (FC04) from `address`.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn read_input(
        &mut self,
        unit: u8,
        address: u16,
        quantity: u16,
    ) -> Result<Vec<u16>, Error> {
        self.registers(unit, &Request::ReadInputRegisters { address, quantity })
            .await
    }

    /// Writes one holding register (FC06).
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn write_register(
        &mut self,
        unit: u8,
        address: u16,
        value: u16,
    ) -> Result<(), Error> {
        self.request(unit, &Request::WriteSingleRegister { address, value })
            .await
            .map(drop)
    }

    /// Writes consecutive holding registers (FC10).
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request).
    pub async fn write_registers(
        &mut self,
        unit: u8,
        address: u16,
        values: &[u16],
    ) -> Result<(), Error> {
        let request = Request::WriteMultipleRegisters {
            address,
            registers: Registers::from_values(values),
        };
        self.request(unit, &request).await.map(drop)
    }

    /// Reads `quantities` as `profile` maps them: executes the planned range reads
    /// and decodes them into one reading stamped `timestamp`. Quantities the profile
    /// lacks, or that hold the not-available value, stay empty.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request); [`ProtocolError::Profile`] for a reply that
    /// does not fit the plan.
    pub async fn read_profile<T>(
        &mut self,
        unit: u8,
        profile: &Profile<'_>,
        quantities: &[Quantity],
        ratios: &Ratios,
        timestamp: T,
    ) -> Result<MeterReading<T>, Error> {
        let empty = ReadRange {
            kind: RegisterKind::Holding,
            address: 0,
            quantity: 0,
        };
        let mut plan = [empty; Quantity::ALL.len()];
        let planned = profile
            .plan(quantities, &mut plan)
            .map_err(ProtocolError::Profile)?;
        let mut reading = MeterReading::new(timestamp);
        for range in plan.get(..planned).unwrap_or_default() {
            let answer = self.expect(unit, &range.request()).await?;
            let response = answer.response().map_err(ProtocolError::Modbus)?;
            profile
                .decode_reply(range, &response, ratios, &mut reading)
                .map_err(ProtocolError::Profile)?;
        }
        Ok(reading)
    }
}

fn check_exception(answer: Answer) -> Result<Answer, Error> {
    match answer.response() {
        Ok(Response::Exception { function, code }) => Err(Error::Exception { function, code }),
        _ => Ok(answer),
    }
}

fn unexpected(response: &Response<'_>) -> Error {
    ProtocolError::Modbus(meterkit_modbus::Error::UnknownFunction {
        code: response.function_code(),
    })
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
