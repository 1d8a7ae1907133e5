//! Links: what carries the bytes (a serial port, a TCP connection, any async stream),
//! and the reopen-with-backoff policy that turns an end of file into a typed error
//! instead of a busy loop.

use std::{
    fmt, io,
    pin::Pin,
    str::FromStr,
    task::{Context, Poll, Waker},
};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    time::Instant,
};

use crate::error::{Error, OpenCause};
pub use crate::timing::{Backoff, LineTiming};

/// Something that opens a byte stream to the meters: a serial port, a TCP
/// connection, or a stream handed over once ([`Once`]).
pub trait Connector: Send {
    /// The open stream.
    type Io: AsyncRead + AsyncWrite + Unpin + Send;

    /// Opens (or reopens) the stream.
    ///
    /// # Errors
    ///
    /// [`Error::Open`] naming the link and the cause; [`Error::Disconnected`] when the
    /// stream cannot be had again.
    fn open(&mut self) -> impl Future<Output = Result<Self::Io, Error>> + Send;

    /// The link in a few words for messages, e.g. `serial /dev/ttyUSB0`.
    fn describe(&self) -> String;
}

/// Data bits per character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataBits {
    /// 7 data bits.
    Seven,
    /// 8 data bits, what DL/T 645 and Modbus RTU use.
    Eight,
}

/// Parity bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Odd parity.
    Odd,
    /// Even parity, what DL/T 645 and Modbus RTU expect.
    Even,
}

/// Stop bits per character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopBits {
    /// One stop bit.
    One,
    /// Two stop bits (Modbus RTU without parity).
    Two,
}

/// A line setting that could not be parsed from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {setting} {text:?}: expected one of {expected}")]
pub struct SettingError {
    setting: &'static str,
    text: String,
    expected: &'static str,
}

fn parse_setting<T: Copy>(
    text: &str,
    setting: &'static str,
    table: &[(&str, T)],
    expected: &'static str,
) -> Result<T, SettingError> {
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, value)| *value)
        .ok_or_else(|| SettingError {
            setting,
            text: text.to_owned(),
            expected,
        })
}

impl FromStr for DataBits {
    type Err = SettingError;
    /// `7` or `8`.
    fn from_str(s: &str) -> Result<Self, SettingError> {
        let table = [("7", DataBits::Seven), ("8", DataBits::Eight)];
        parse_setting(s, "data bits", &table, "7, 8")
    }
}

impl FromStr for Parity {
    type Err = SettingError;
    /// `none`, `odd`, `even` or their initials `n`, `o`, `e`, any case.
    fn from_str(s: &str) -> Result<Self, SettingError> {
        let table = [
            ("none", Parity::None),
            ("n", Parity::None),
            ("odd", Parity::Odd),
            ("o", Parity::Odd),
            ("even", Parity::Even),
            ("e", Parity::Even),
        ];
        parse_setting(s, "parity", &table, "none, odd, even")
    }
}

impl FromStr for StopBits {
    type Err = SettingError;
    /// `1` or `2`.
    fn from_str(s: &str) -> Result<Self, SettingError> {
        let table = [("1", StopBits::One), ("2", StopBits::Two)];
        parse_setting(s, "stop bits", &table, "1, 2")
    }
}

/// A serial port and every line setting. Start from [`SerialConfig::dlt645`] or
/// [`SerialConfig::modbus`] and change fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SerialConfig {
    /// Device path, e.g. `/dev/ttyUSB0` or `COM3`.
    pub path: String,
    /// Bits per second.
    pub baud: u32,
    /// Data bits.
    pub data_bits: DataBits,
    /// Parity.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
    /// Lock the port against other programs (TIOCEXCL + flock on Unix). Some systems
    /// report "busy" for exclusive opens; switch it off there.
    pub exclusive: bool,
}

impl SerialConfig {
    /// 2400 bit/s, 8 data bits, even parity, 1 stop bit: DL/T 645-2007 meters.
    pub fn dlt645(path: impl Into<String>) -> Self {
        SerialConfig {
            path: path.into(),
            baud: 2400,
            data_bits: DataBits::Eight,
            parity: Parity::Even,
            stop_bits: StopBits::One,
            exclusive: true,
        }
    }

    /// 9600 bit/s 8E1: the usual Modbus RTU meter setting.
    pub fn modbus(path: impl Into<String>) -> Self {
        SerialConfig {
            baud: 9600,
            ..SerialConfig::dlt645(path)
        }
    }

    /// The wire timing these settings give.
    pub fn timing(&self) -> LineTiming {
        let data = match self.data_bits {
            DataBits::Seven => 7,
            DataBits::Eight => 8,
        };
        let parity = u32::from(self.parity != Parity::None);
        let stop = match self.stop_bits {
            StopBits::One => 1,
            StopBits::Two => 2,
        };
        LineTiming {
            baud: self.baud,
            bits_per_char: 1 + data + parity + stop,
        }
    }

    fn builder(&self) -> tokio_serial::SerialPortBuilder {
        tokio_serial::new(&self.path, self.baud)
            .data_bits(match self.data_bits {
                DataBits::Seven => tokio_serial::DataBits::Seven,
                DataBits::Eight => tokio_serial::DataBits::Eight,
            })
            .parity(match self.parity {
                Parity::None => tokio_serial::Parity::None,
                Parity::Odd => tokio_serial::Parity::Odd,
                Parity::Even => tokio_serial::Parity::Even,
            })
            .stop_bits(match self.stop_bits {
                StopBits::One => tokio_serial::StopBits::One,
                StopBits::Two => tokio_serial::StopBits::Two,
            })
            .flow_control(tokio_serial::FlowControl::None)
    }
}

fn serial_open_error(link: String, e: &tokio_serial::Error) -> Error {
    let cause = match e.kind {
        tokio_serial::ErrorKind::NoDevice if e.description.to_lowercase().contains("busy") => {
            OpenCause::Busy
        }
        tokio_serial::ErrorKind::NoDevice => OpenCause::NotFound,
        tokio_serial::ErrorKind::InvalidInput => OpenCause::Settings,
        tokio_serial::ErrorKind::Io(kind) => OpenCause::from_io(kind),
        tokio_serial::ErrorKind::Unknown => OpenCause::Other,
    };
    Error::Open {
        link,
        cause,
        detail: e.description.clone(),
    }
}

impl Connector for SerialConfig {
    type Io = tokio_serial::SerialStream;

    fn open(&mut self) -> impl Future<Output = Result<Self::Io, Error>> + Send {
        let result = tokio_serial::SerialStream::open(&self.builder())
            .and_then(|mut port| port.set_exclusive(self.exclusive).map(|()| port))
            .map_err(|e| serial_open_error(self.describe(), &e));
        std::future::ready(result)
    }

    fn describe(&self) -> String {
        format!("serial {}", self.path)
    }
}

/// A TCP connection, e.g. to a serial-to-Ethernet gateway (DTU) or a Modbus TCP meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    /// `host:port`.
    pub address: String,
}

impl TcpConfig {
    /// A connection to `host:port`.
    pub fn new(address: impl Into<String>) -> Self {
        TcpConfig {
            address: address.into(),
        }
    }
}

impl Connector for TcpConfig {
    type Io = tokio::net::TcpStream;

    async fn open(&mut self) -> Result<Self::Io, Error> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(|e| Error::Open {
                link: self.describe(),
                cause: OpenCause::from_io(e.kind()),
                detail: e.to_string(),
            })?;
        // Requests are single small frames: send each at once.
        stream.set_nodelay(true).map_err(|e| Error::Io {
            link: self.describe(),
            source: e,
        })?;
        Ok(stream)
    }

    fn describe(&self) -> String {
        format!("tcp {}", self.address)
    }
}

/// A serial port or a TCP connection, chosen at run time (from a configuration file,
/// say), so that meters on either kind of link share one client type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// A serial port.
    Serial(SerialConfig),
    /// A TCP connection (Modbus TCP, or a serial-to-Ethernet gateway).
    Tcp(TcpConfig),
}

impl Endpoint {
    /// The serial side's timing; `None` for TCP, where the gateway's serial side is
    /// not known.
    pub fn timing(&self) -> Option<LineTiming> {
        match self {
            Endpoint::Serial(serial) => Some(serial.timing()),
            Endpoint::Tcp(_) => None,
        }
    }
}

/// The open stream of an [`Endpoint`].
#[derive(Debug)]
pub enum EndpointStream {
    /// An open serial port.
    Serial(tokio_serial::SerialStream),
    /// An open TCP connection.
    Tcp(tokio::net::TcpStream),
}

impl AsyncRead for EndpointStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            EndpointStream::Serial(s) => Pin::new(s).poll_read(cx, buf),
            EndpointStream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for EndpointStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            EndpointStream::Serial(s) => Pin::new(s).poll_write(cx, buf),
            EndpointStream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            EndpointStream::Serial(s) => Pin::new(s).poll_flush(cx),
            EndpointStream::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            EndpointStream::Serial(s) => Pin::new(s).poll_shutdown(cx),
            EndpointStream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl Connector for Endpoint {
    type Io = EndpointStream;

    async fn open(&mut self) -> Result<EndpointStream, Error> {
        match self {
            Endpoint::Serial(serial) => serial.open().await.map(EndpointStream::Serial),
            Endpoint::Tcp(tcp) => tcp.open().await.map(EndpointStream::Tcp),
        }
    }

    fn describe(&self) -> String {
        match self {
            Endpoint::Serial(serial) => serial.describe(),
            Endpoint::Tcp(tcp) => tcp.describe(),
        }
    }
}

/// A stream that is handed over once and cannot be reopened: an in-memory pipe
/// (`tokio::io::duplex`), an already opened port. After it closes, opening again gives
/// [`Error::Disconnected`].
#[derive(Debug)]
pub struct Once<T> {
    stream: Option<T>,
    name: String,
}

impl<T> Once<T> {
    /// Wraps `stream`, named `name` in messages.
    pub fn new(stream: T, name: impl Into<String>) -> Self {
        Once {
            stream: Some(stream),
            name: name.into(),
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connector for Once<T> {
    type Io = T;

    fn open(&mut self) -> impl Future<Output = Result<T, Error>> + Send {
        std::future::ready(self.stream.take().ok_or_else(|| Error::Disconnected {
            link: self.name.clone(),
        }))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// When the next open may be tried: the sans-IO half of reopening. Time is passed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReopenPolicy {
    backoff: Backoff,
    failures: u32,
    not_before: Option<Instant>,
}

impl ReopenPolicy {
    /// A policy with no failures yet.
    pub fn new(backoff: Backoff) -> Self {
        ReopenPolicy {
            backoff,
            failures: 0,
            not_before: None,
        }
    }

    /// Records a failed open or a disconnect at `now`.
    pub fn on_failure(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        self.not_before = Some(now + self.backoff.delay(self.failures));
    }

    /// Records a successful exchange: the next failure waits the initial delay again.
    pub fn on_success(&mut self) {
        self.failures = 0;
        self.not_before = None;
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The earliest moment for the next open, `None` for at once.
    pub fn not_before(&self) -> Option<Instant> {
        self.not_before
    }
}

/// A link to the meters: a [`Connector`] and the stream it opened, reopened on demand
/// with backoff. End of file is [`Error::Disconnected`], never a zero-length read.
pub struct Link<C: Connector> {
    connector: C,
    io: Option<C::Io>,
    reopen: ReopenPolicy,
    name: String,
}

impl<C: Connector> fmt::Debug for Link<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("name", &self.name)
            .field("open", &self.io.is_some())
            .field("reopen", &self.reopen)
            .finish_non_exhaustive()
    }
}

impl<C: Connector> Link<C> {
    /// A link that opens on first use, with the default [`Backoff`].
    pub fn new(connector: C) -> Self {
        Self::with_backoff(connector, Backoff::default())
    }

    /// A link with a chosen reopen backoff.
    pub fn with_backoff(connector: C, backoff: Backoff) -> Self {
        let name = connector.describe();
        Link {
            connector,
            io: None,
            reopen: ReopenPolicy::new(backoff),
            name,
        }
    }

    /// The link's name for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a stream is open now.
    pub fn is_open(&self) -> bool {
        self.io.is_some()
    }

    /// The reopen state.
    pub fn reopen_policy(&self) -> &ReopenPolicy {
        &self.reopen
    }

    /// Opens the stream unless it is open, first waiting out the backoff of earlier
    /// failures.
    ///
    /// # Errors
    ///
    /// What [`Connector::open`] returns.
    pub async fn open(&mut self) -> Result<(), Error> {
        if self.io.is_some() {
            return Ok(());
        }
        if let Some(at) = self.reopen.not_before() {
            tokio::time::sleep_until(at).await;
        }
        match self.connector.open().await {
            Ok(io) => {
                self.io = Some(io);
                Ok(())
            }
            Err(e) => {
                self.reopen.on_failure(Instant::now());
                Err(e)
            }
        }
    }

    /// Drops the stream (it is reopened on next use).
    pub fn close(&mut self) {
        self.io = None;
    }

    /// Records that an exchange succeeded: the reopen backoff starts over.
    pub fn mark_healthy(&mut self) {
        self.reopen.on_success();
    }

    fn broken(&mut self, e: io::Error) -> Error {
        self.io = None;
        self.reopen.on_failure(Instant::now());
        let link = self.name.clone();
        match e.kind() {
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected => Error::Disconnected { link },
            _ => Error::Io { link, source: e },
        }
    }

    fn disconnected(&mut self) -> Error {
        self.broken(io::ErrorKind::UnexpectedEof.into())
    }

    /// Writes all of `bytes` and flushes (on a serial port, flush waits until the
    /// UART has sent them).
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the peer is gone, [`Error::Io`] otherwise, or an
    /// open error.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.open().await?;
        let Some(io) = self.io.as_mut() else {
            return Err(self.disconnected());
        };
        let result = match io.write_all(bytes).await {
            Ok(()) => io.flush().await,
            Err(e) => Err(e),
        };
        result.map_err(|e| self.broken(e))
    }

    /// Reads at least one byte into `buf` (which must not be empty).
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] at end of file (the stream is dropped and reopened with
    /// backoff by the next call), [`Error::Io`] on a read error.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.open().await?;
        let Some(io) = self.io.as_mut() else {
            return Err(self.disconnected());
        };
        match io.read(buf).await {
            Ok(0) if !buf.is_empty() => Err(self.disconnected()),
            Ok(n) => Ok(n),
            Err(e) => Err(self.broken(e)),
        }
    }

    /// Throws away every byte that has already arrived, without waiting for more.
    /// Returns how many were dropped. A closed stream is left for the next request to
    /// reopen.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the stream has reached end of file, [`Error::Io`]
    /// on a read error.
    pub fn discard_input(&mut self) -> Result<usize, Error> {
        let Some(io) = self.io.as_mut() else {
            return Ok(0);
        };
        let mut cx = Context::from_waker(Waker::noop());
        let mut scratch = [0u8; 256];
        let mut dropped = 0usize;
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut *io).poll_read(&mut cx, &mut buf) {
                Poll::Pending => return Ok(dropped),
                Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                    return Err(self.disconnected());
                }
                Poll::Ready(Ok(())) => dropped = dropped.saturating_add(buf.filled().len()),
                Poll::Ready(Err(e)) => return Err(self.broken(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn settings_parse_from_text() {
        assert_eq!("even".parse(), Ok(Parity::Even));
        assert_eq!("N".parse(), Ok(Parity::None));
        assert_eq!("2".parse(), Ok(StopBits::Two));
        assert_eq!("7".parse(), Ok(DataBits::Seven));
        let err = "mark".parse::<Parity>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid parity \"mark\": expected one of none, odd, even"
        );
    }

    #[test]
    fn serial_defaults_and_timing() {
        let d = SerialConfig::dlt645("/dev/ttyUSB0");
        assert_eq!(
            (d.baud, d.parity, d.stop_bits),
            (2400, Parity::Even, StopBits::One)
        );
        // 1 start + 8 data + 1 parity + 1 stop.
        assert_eq!(
            d.timing(),
            LineTiming {
                baud: 2400,
                bits_per_char: 11
            }
        );
        let mut m = SerialConfig::modbus("/dev/ttyUSB1");
        assert_eq!(m.baud, 9600);
        m.parity = Parity::None;
        m.stop_bits = StopBits::Two;
        // 8N2 is also 11 bits per character.
        assert_eq!(m.timing().bits_per_char, 11);
        m.stop_bits = StopBits::One;
        assert_eq!(m.timing().bits_per_char, 10);
    }

    #[test]
    fn transfer_time_rounds_up() {
        // 16 bytes × 11 bits = 176 bits at 2400 bit/s = 73 333.3 µs → 73 334 µs.
        assert_eq!(
            LineTiming::DLT645_DEFAULT.transfer_time(16),
            Duration::from_micros(73_334)
        );
        let fast = LineTiming {
            baud: 9600,
            bits_per_char: 11,
        };
        // 1 byte = 11/9600 s = 1145.83 µs → 1146 µs.
        assert_eq!(fast.transfer_time(1), Duration::from_micros(1146));
        // A zero baud is treated as 1 bit/s instead of dividing by zero.
        let zero = LineTiming {
            baud: 0,
            bits_per_char: 11,
        };
        assert_eq!(zero.transfer_time(1), Duration::from_secs(11));
    }

    #[test]
    fn reopen_policy_backs_off_and_resets() {
        let now = Instant::now();
        let mut p = ReopenPolicy::new(Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(150),
        });
        assert_eq!(p.not_before(), None);
        p.on_failure(now);
        assert_eq!(p.not_before(), Some(now + Duration::from_millis(50)));
        p.on_failure(now);
        assert_eq!(p.not_before(), Some(now + Duration::from_millis(100)));
        p.on_failure(now);
        // 200 ms capped at 150 ms.
        assert_eq!(p.not_before(), Some(now + Duration::from_millis(150)));
        assert_eq!(p.failures(), 3);
        p.on_success();
        assert_eq!((p.failures(), p.not_before()), (0, None));
    }

    proptest::proptest! {
        #[test]
        fn backoff_never_shrinks_and_stays_capped(initial in 0u64..10_000, max in 0u64..100_000, n in 0u32..200) {
            let b = Backoff {
                initial: Duration::from_millis(initial),
                max: Duration::from_millis(max),
            };
            proptest::prop_assert!(b.delay(n) <= b.delay(n + 1));
            proptest::prop_assert!(b.delay(n) <= b.max);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn eof_is_a_disconnect_and_reopen_waits() {
        let (ours, theirs) = tokio::io::duplex(64);
        let mut link = Link::with_backoff(
            Once::new(ours, "pipe"),
            Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(1),
            },
        );
        link.open().await.unwrap();
        drop(theirs);
        let mut buf = [0u8; 8];
        assert!(matches!(
            link.read(&mut buf).await,
            Err(Error::Disconnected { link }) if link == "pipe"
        ));
        assert!(!link.is_open());
        let before = Instant::now();
        // A `Once` link cannot be reopened, but it must wait out the backoff first.
        assert!(matches!(
            link.read(&mut buf).await,
            Err(Error::Disconnected { .. })
        ));
        assert_eq!(Instant::now() - before, Duration::from_secs(1));
    }

    #[tokio::test]
    async fn discard_input_drops_only_what_has_arrived() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut link = Link::new(Once::new(ours, "pipe"));
        link.open().await.unwrap();
        theirs.write_all(&[1, 2, 3]).await.unwrap();
        assert_eq!(link.discard_input().unwrap(), 3);
        assert_eq!(link.discard_input().unwrap(), 0);
        theirs.write_all(&[9]).await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(link.read(&mut buf).await.unwrap(), 1);
        assert_eq!(buf[0], 9);
    }

    #[tokio::test]
    async fn serial_open_error_names_port_and_cause() {
        let mut config = SerialConfig::dlt645("/dev/meterkit-no-such-port");
        let Err(err) = config.open().await else {
            panic!("opened a port that does not exist")
        };
        assert!(
            matches!(
                err,
                Error::Open {
                    cause: OpenCause::NotFound,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("serial /dev/meterkit-no-such-port: not found")
        );
    }
}
