//! The DL/T 645 client: one request at a time over a [`Link`], with deadlines scaled
//! to the line speed, retries with backoff, echo and foreign-reply filtering, and
//! automatic follow-up of multi-frame answers.
//!
//! The policy lives in plain functions ([`ClientConfig::reply_timeout`],
//! [`expected_reply_data`], [`classify`]); the async part only moves bytes.

use std::time::Duration;

use chrono::NaiveDateTime;
use dlt645::{
    Address, Di, Edition, FrameRepr,
    frame::MAX_FRAME_LEN,
    message::{BaudRate, FreezeTime, OperatorCode, Password, RelayCommand, Reply, Request},
    value::{self, Value},
};
use tokio::time::Instant;

pub use crate::matching::{
    ClientConfig, MAX_PREAMBLE, Verdict, classify, expected_reply_data, reply_behind_false_start,
};
use crate::{
    error::{Error, FollowError, ProtocolError},
    link::{Connector, Link},
    matching::{FollowUp, Progress, find_reply, leftover_noise},
};

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
    /// Bytes of the last attempt that belonged to no valid frame (wake-up bytes
    /// aside): what a collision or line noise leaves.
    noise: usize,
}

/// What one attempt at a request met on the line: see [`Client::probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // consumed at once, never stored or queued
#[non_exhaustive]
pub enum Probe {
    /// A valid reply.
    Reply(Reply),
    /// No valid reply before the deadline, but bytes that were no frame (or a frame
    /// that failed to parse): several meters answering at once, or noise.
    Garbled {
        /// Bytes that belonged to no valid frame.
        noise: usize,
    },
    /// Nothing but echoes (and, to a full address, other meters' frames) before the
    /// deadline.
    Silent,
}

impl<C: Connector> Client<C> {
    /// A client on `link`.
    pub fn new(link: Link<C>, config: ClientConfig) -> Self {
        Client {
            link,
            config,
            rx: Vec::with_capacity(2 * MAX_FRAME_LEN),
            noise: 0,
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
        let sent = self.encode(&frame, &mut tx)?;
        let awaits_reply = request.expects_reply() && !address.is_broadcast();
        let timeout = self
            .config
            .reply_timeout(sent.len(), expected_reply_data(request));
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

    fn encode<'t>(&self, frame: &FrameRepr, tx: &'t mut [u8]) -> Result<&'t [u8], Error> {
        let len = frame
            .emit(self.config.preamble.min(MAX_PREAMBLE), tx)
            .map_err(Error::Request)?;
        Ok(tx.get(..len).unwrap_or_default())
    }

    /// Sends `request` to `address` once, without retries, and says what came back:
    /// a reply, garbled bytes (a collision of several meters' replies, or noise), or
    /// silence. An abnormal reply is a [`Probe::Reply`] too. This is what a bus search
    /// ([`crate::scan`]) needs: a retry would only collide again.
    ///
    /// # Errors
    ///
    /// Link errors ([`Error::Disconnected`], [`Error::Io`], [`Error::Open`]) and
    /// [`Error::Request`]; never a timeout or a protocol error.
    pub async fn probe(&mut self, address: Address, request: &Request) -> Result<Probe, Error> {
        let frame = request.to_frame(address).map_err(Error::Request)?;
        let mut tx = [0u8; MAX_PREAMBLE + MAX_FRAME_LEN];
        let sent = self.encode(&frame, &mut tx)?;
        let timeout = self
            .config
            .reply_timeout(sent.len(), expected_reply_data(request));
        match self.attempt(request, &frame, sent, true, timeout).await {
            Ok(Some(reply)) => {
                self.link.mark_healthy();
                Ok(Probe::Reply(reply))
            }
            Err(Error::Timeout { .. }) if self.noise == 0 => Ok(Probe::Silent),
            Ok(None) | Err(Error::Timeout { .. } | Error::Protocol(_)) => Ok(Probe::Garbled {
                noise: self.noise.max(1),
            }),
            Err(e) => Err(e),
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
        self.noise = 0;
        self.link.write_all(sent).await?;
        if !awaits_reply {
            return Ok(None);
        }
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 256];
        loop {
            let Progress {
                consumed,
                noise,
                outcome,
            } = find_reply(&self.rx, frame, request);
            self.rx.drain(..consumed.min(self.rx.len()));
            self.noise += noise;
            match outcome {
                Some(Ok(reply)) => return Ok(Some(reply)),
                Some(Err(e)) => return Err(Error::Protocol(ProtocolError::Frame(e))),
                None => {}
            }
            let read = tokio::time::timeout_at(deadline, self.link.read(&mut chunk)).await;
            let Ok(read) = read else {
                self.noise += leftover_noise(&self.rx);
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

    async fn expect_reply(&mut self, address: Address, request: &Request) -> Result<Reply, Error> {
        self.request(address, request)
            .await?
            .ok_or(Error::Protocol(ProtocolError::Follow(
                FollowError::Unexpected {
                    function: request.function(),
                },
            )))
    }

    /// Reads the current value bytes of `di`, following a multi-frame answer (0x12 with
    /// sequence numbers 1, 2, … in 2007; 0x02 in 1997) until the meter clears D5.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request); [`ProtocolError::Follow`] when the meter answers for
    /// another item, sends a subsequent frame out of order or too many frames, and
    /// [`ProtocolError::TooLong`] past the data limit of the [`ClientConfig`].
    pub async fn read(&mut self, address: Address, di: Di) -> Result<ReadData, Error> {
        let (mut follow, mut request) = FollowUp::start(di, self.config.max_frames);
        let mut data = Vec::new();
        loop {
            let reply = self.expect_reply(address, &request).await?;
            let (part, next) = follow.take(reply).map_err(ProtocolError::from)?;
            data.extend_from_slice(&part);
            if data.len() > self.config.max_data {
                return Err(ProtocolError::TooLong {
                    len: data.len(),
                    max: self.config.max_data,
                }
                .into());
            }
            match next {
                Some(next) => request = next,
                None => break,
            }
        }
        Ok(ReadData {
            di,
            data,
            frames: follow.frames(),
        })
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
    /// wildcard at once and the collision usually ends in [`Error::Timeout`]; find
    /// them all with [`crate::scan::search`].
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

fn unexpected(reply: &Reply) -> Error {
    ProtocolError::Follow(FollowError::Unexpected {
        function: reply.function(),
    })
    .into()
}
