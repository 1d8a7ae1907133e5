//! The Modbus client: RTU over a serial line (inter-frame silence kept when sending,
//! replies framed by structure, slave and function checked) and TCP (a fresh
//! transaction id per attempt, so a late reply never answers a later request), and
//! reading a meter profile's quantities into a [`MeterReading`].

use meterkit_modbus::{
    Registers, Request, Response,
    profile::{Profile, Ratios, ReadRange, RegisterKind},
    rtu, tcp,
};
use meterkit_reading::{MeterReading, Quantity};
use tokio::time::Instant;

pub use crate::modbus_matching::{
    Framing, ModbusConfig, answers, expected_reply_len, reply_may_equal_request, silent_interval,
};
use crate::{
    error::{Error, ProtocolError},
    link::{Connector, Link},
    modbus_matching::{Awaited, Step},
};

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
        let mut awaited = Awaited::new(&self.config, sent, unit, transaction, function);
        let mut chunk = [0u8; 256];
        loop {
            match awaited.step(&self.rx) {
                Step::Drop(count) => {
                    self.rx.drain(..count.min(self.rx.len()));
                }
                Step::Answer { consumed, pdu } => {
                    let pdu = self.rx.get(pdu).unwrap_or_default().to_vec();
                    self.rx.drain(..consumed.min(self.rx.len()));
                    return Ok(Some(Answer { pdu }));
                }
                Step::NeedMore => {
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
