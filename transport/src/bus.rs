//! One task owns a bus; many callers share it through a cloneable [`BusHandle`].
//!
//! The task owns a client (a DL/T 645 [`Client`] or a [`ModbusClient`]); callers send
//! it work. Work queues in one channel and runs one item at a time in arrival order, so
//! frames never interleave on the wire and every caller (awaiting one request at a
//! time) waits for at most one request from each other caller. Each item carries a
//! deadline: one that expires while queued is answered with [`Error::Timeout`] (zero
//! attempts) without touching the line, and one that expires mid-exchange is cut off
//! there (the client clears its input before the next request).

use std::{fmt, future::Future, pin::Pin, time::Duration};

use dlt645::{
    Address, Di,
    message::{Reply, Request},
    value::Value,
};
use meterkit_modbus::profile::{Profile, Ratios};
use meterkit_reading::{MeterReading, Quantity};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
    time::Instant,
};

use crate::{
    client::{Client, ReadData},
    error::Error,
    link::Connector,
    modbus::ModbusClient,
};

/// A future borrowing the bus's client.
pub type WorkFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R, Error>> + Send + 'a>>;

type Job<T> = Box<
    dyn for<'a> FnOnce(&'a mut T, Instant) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> + Send,
>;

/// A cloneable handle to a bus task started by [`spawn`]; `T` is the client it owns.
pub struct BusHandle<T> {
    jobs: mpsc::Sender<Job<T>>,
    timeout: Duration,
}

impl<T> Clone for BusHandle<T> {
    fn clone(&self) -> Self {
        BusHandle {
            jobs: self.jobs.clone(),
            timeout: self.timeout,
        }
    }
}

impl<T> fmt::Debug for BusHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusHandle")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Starts the task that owns `client` and returns a handle to it. `queue` items may
/// wait at once (callers beyond that wait to enqueue); `timeout` is the default
/// per-request deadline, counted from the call, queueing included.
///
/// The task ends when every handle is dropped.
///
/// # Panics
///
/// Outside a tokio runtime (as `tokio::spawn` does).
pub fn spawn<T: Send + 'static>(
    client: T,
    queue: usize,
    timeout: Duration,
) -> (BusHandle<T>, JoinHandle<()>) {
    let (jobs, rx) = mpsc::channel(queue.max(1));
    let task = tokio::spawn(run(client, rx));
    (BusHandle { jobs, timeout }, task)
}

async fn run<T>(mut client: T, mut rx: mpsc::Receiver<Job<T>>) {
    while let Some(job) = rx.recv().await {
        job(&mut client, Instant::now()).await;
    }
}

impl<T: Send + 'static> BusHandle<T> {
    /// The same bus with another default per-request deadline.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs `work` on the bus's client when its turn comes, within this handle's
    /// deadline.
    ///
    /// ```
    /// # async fn demo(bus: meterkit_transport::bus::BusHandle<meterkit_transport::client::Client<meterkit_transport::TcpConfig>>) -> Result<(), meterkit_transport::Error> {
    /// let meter: dlt645::Address = "123456789012".parse().unwrap();
    /// let data = bus.run(move |client| Box::pin(async move {
    ///     client.read(meter, dlt645::Di::V2007(0x0001_0000)).await
    /// })).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// What `work` returns; [`Error::Timeout`] when the deadline passes (queueing
    /// included); [`Error::BusClosed`] when the task has ended.
    pub async fn run<R, F>(&self, work: F) -> Result<R, Error>
    where
        R: Send + 'static,
        F: for<'a> FnOnce(&'a mut T) -> WorkFuture<'a, R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let job: Job<T> = Box::new(move |client, now| {
            Box::pin(async move {
                if reply.is_closed() {
                    // The caller gave up; do not spend line time on it.
                    return;
                }
                let result = if now >= deadline {
                    Err(Error::Timeout {
                        waited: timeout,
                        attempts: 0,
                    })
                } else {
                    tokio::time::timeout_at(deadline, work(client))
                        .await
                        .unwrap_or(Err(Error::Timeout {
                            waited: timeout,
                            attempts: 1,
                        }))
                };
                // The caller may have gone meanwhile; nothing to do then.
                let _ = reply.send(result);
            })
        });
        self.jobs.send(job).await.map_err(|_| Error::BusClosed)?;
        answer.await.map_err(|_| Error::BusClosed)?
    }
}

impl<C: Connector + 'static> BusHandle<Client<C>> {
    /// [`Client::read`] through the bus.
    ///
    /// # Errors
    ///
    /// As [`Client::read`] and [`run`](Self::run).
    pub async fn read(&self, address: Address, di: Di) -> Result<ReadData, Error> {
        self.run(move |c| Box::pin(c.read(address, di))).await
    }

    /// [`Client::read_value`] through the bus.
    ///
    /// # Errors
    ///
    /// As [`Client::read_value`] and [`run`](Self::run).
    pub async fn read_value(&self, address: Address, di: Di) -> Result<Value, Error> {
        self.run(move |c| Box::pin(c.read_value(address, di))).await
    }

    /// [`Client::read_address`] through the bus.
    ///
    /// # Errors
    ///
    /// As [`Client::read_address`] and [`run`](Self::run).
    pub async fn read_address(&self, to: Address) -> Result<Address, Error> {
        self.run(move |c| Box::pin(c.read_address(to))).await
    }

    /// [`Client::request`] through the bus: any request, e.g. a write or a freeze.
    ///
    /// # Errors
    ///
    /// As [`Client::request`] and [`run`](Self::run).
    pub async fn request(
        &self,
        address: Address,
        request: Request,
    ) -> Result<Option<Reply>, Error> {
        self.run(move |c| Box::pin(async move { c.request(address, &request).await }))
            .await
    }
}

impl<C: Connector + 'static> BusHandle<ModbusClient<C>> {
    /// [`ModbusClient::read_profile`] through the bus.
    ///
    /// # Errors
    ///
    /// As [`ModbusClient::read_profile`] and [`run`](Self::run).
    pub async fn read_profile<T: Send + 'static>(
        &self,
        unit: u8,
        profile: Profile<'static>,
        quantities: Vec<Quantity>,
        ratios: Ratios,
        timestamp: T,
    ) -> Result<MeterReading<T>, Error> {
        self.run(move |c| {
            Box::pin(async move {
                c.read_profile(unit, &profile, &quantities, &ratios, timestamp)
                    .await
            })
        })
        .await
    }

    /// [`ModbusClient::read_holding`] through the bus.
    ///
    /// # Errors
    ///
    /// As [`ModbusClient::read_holding`] and [`run`](Self::run).
    pub async fn read_holding(
        &self,
        unit: u8,
        address: u16,
        quantity: u16,
    ) -> Result<Vec<u16>, Error> {
        self.run(move |c| Box::pin(c.read_holding(unit, address, quantity)))
            .await
    }

    /// [`ModbusClient::read_input`] through the bus.
    ///
    /// # Errors
    ///
    /// As [`ModbusClient::read_input`] and [`run`](Self::run).
    pub async fn read_input(
        &self,
        unit: u8,
        address: u16,
        quantity: u16,
    ) -> Result<Vec<u16>, Error> {
        self.run(move |c| Box::pin(c.read_input(unit, address, quantity)))
            .await
    }
}
