//! The real exchange: one keep-alive HTTP/1.1 or HTTP/2 connection per loop,
//! in cleartext or over TLS, driven inside the loop's own task (no extra task
//! and wake-up per request). With `--h2-streams N`, N loops share one HTTP/2
//! connection, each with one stream in flight; its driver is then a task of
//! their thread.

use super::addr::url_port;
use super::error::{clip, KnloadError, RequestError};
use super::exec::Exchange;
use super::h1::{Wire, H1};
use super::split::Classifier;
use super::stats::Outcome;
use super::tls::{handshake_hint, ClientTls, TlsOptions};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::header::{HeaderValue, HOST};
use hyper::{HeaderMap, Method, Request, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// At most this much of a body is kept for classification; the rest is read
/// and dropped.
const BODY_KEEP: usize = 64 * 1024;

/// Everything needed to make the run's request.
#[derive(Debug, Clone)]
pub struct Target {
    /// Address connected to.
    pub addr: SocketAddr,
    /// Method.
    pub method: Method,
    /// Origin-form URI for HTTP/1.1, absolute URI for HTTP/2.
    pub uri: Uri,
    /// Headers, including Host for HTTP/1.1.
    pub headers: HeaderMap,
    /// Request body (may be empty).
    pub body: Bytes,
    /// HTTP/2 instead of HTTP/1.1 (h2c with prior knowledge in cleartext,
    /// by ALPN over TLS).
    pub http2: bool,
    /// TLS for an https URL.
    pub tls: Option<ClientTls>,
    /// How responses are classified, if at all.
    pub classifier: Option<Classifier>,
    /// The HTTP/1.1 request, serialized once (none for HTTP/2).
    wire: Option<Wire>,
}

/// How requests travel, besides the URL's scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protocol {
    /// HTTP/2 instead of HTTP/1.1.
    pub http2: bool,
    /// Certificate checks for an https URL (ignored for http).
    pub tls: TlsOptions,
}

impl Target {
    /// Builds the target from a parsed URL, an optional Host override and
    /// extra headers; resolves the host name once and, for https, reads
    /// `--cacert` and sets up TLS (SNI from the Host sent).
    pub async fn new(
        url: &Uri,
        host: Option<&str>,
        method: Method,
        mut headers: HeaderMap,
        body: Bytes,
        protocol: &Protocol,
        classifier: Option<Classifier>,
    ) -> Result<Self, KnloadError> {
        let http2 = protocol.http2;
        let bad = |d: &str| KnloadError::usage("URL", format!("`{}`: {d}", clip(&url.to_string())));
        let https = match url.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("must start with http:// or https://")),
        };
        let authority = url.authority().ok_or_else(|| bad("no host"))?;
        let port = url_port(url)?;
        let host_name = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let addr = tokio::net::lookup_host((host_name, port))
            .await
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| bad("host name does not resolve"))?;
        // --host wins, then a Host given with -H, then the URL's authority.
        let given = headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let host_value = host
            .map(str::to_string)
            .or(given)
            .unwrap_or_else(|| authority.as_str().to_string());
        let host_value = host_value.as_str();
        let path = url.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let tls = https
            .then(|| ClientTls::new(&protocol.tls, host_value, http2))
            .transpose()?;
        let uri = if http2 {
            // HTTP/2 carries the host in :authority and the scheme in
            // :scheme, both taken from the URI.
            let scheme = if https { "https" } else { "http" };
            format!("{scheme}://{host_value}{path}")
                .parse()
                .map_err(|_| {
                    KnloadError::usage("--host", format!("`{}` is not a host", clip(host_value)))
                })?
        } else {
            let v = HeaderValue::from_str(host_value).map_err(|_| {
                KnloadError::usage("--host", format!("`{}` is not a host", clip(host_value)))
            })?;
            headers.insert(HOST, v);
            path.parse().map_err(|_| bad("bad path"))?
        };
        if http2 {
            headers.remove(HOST);
        }
        let wire = (!http2).then(|| Wire::new(&method, &uri, &headers, &body));
        Ok(Target {
            wire,
            addr,
            method,
            uri,
            headers,
            body,
            http2,
            tls,
            classifier,
        })
    }

    /// Checks before the run that the target can be used: it accepts a TCP
    /// connection and, for https, completes the TLS handshake (an untrusted
    /// certificate stops here with advice rather than failing every request).
    pub async fn probe(&self, timeout: Duration) -> Result<(), KnloadError> {
        let tcp = connect(self.addr, timeout)
            .await
            .map_err(|source| KnloadError::Unreachable {
                target: self.addr.to_string(),
                source,
            })?;
        let Some(tls) = &self.tls else {
            return Ok(());
        };
        match tls.handshake(tcp, timeout).await {
            Ok(_) => Ok(()),
            Err(RequestError::Tls { detail }) => {
                let hint = handshake_hint(&detail, tls.verify);
                Err(KnloadError::Tls {
                    target: self.addr.to_string(),
                    server_name: tls.server_name.to_str().into_owned(),
                    detail,
                    hint: hint.into(),
                })
            }
            Err(source) => Err(KnloadError::Unreachable {
                target: self.addr.to_string(),
                source,
            }),
        }
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }
}

/// Opens a TCP connection to `addr` within `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, RequestError> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| RequestError::ConnectTimeout)?
        .map_err(|e| RequestError::from_io(&e, true))?;
    // Requests are small and latency-bound; Nagle would only add delay.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }
}

type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A byte stream, in cleartext or over TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

enum Conn {
    /// HTTP/1.1 on the lean client.
    H1(H1<Box<dyn Stream>>),
    /// HTTP/2 on hyper.
    Hyper {
        sender: Sender,
        /// hyper's connection future; polled alongside each request.
        driver: Driver,
    },
}

/// One HTTP/2 connection that several loops send on at once: whichever
/// loop first finds it missing or closed opens it, and its driver runs as a
/// task of that loop's thread.
#[derive(Default)]
struct SharedConn {
    slot: tokio::sync::Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    sender: Option<http2::SendRequest<Full<Bytes>>>,
    /// The last failure to open it, and when.
    failed: Option<(std::time::Instant, RequestError)>,
}

impl SharedConn {
    async fn sender(
        &self,
        target: &Target,
        timeout: Duration,
    ) -> Result<http2::SendRequest<Full<Bytes>>, RequestError> {
        let asked = std::time::Instant::now();
        // Loops that find the connection missing wait here for the one
        // opening it, instead of each opening its own.
        let mut slot = self.slot.lock().await;
        if let Some(s) = slot.sender.as_ref().filter(|s| !s.is_closed()) {
            return Ok(s.clone());
        }
        // An attempt that failed while this loop waited is its failure too:
        // a dead target costs one attempt per connection, not one per stream.
        if let Some((at, e)) = &slot.failed {
            if *at >= asked {
                return Err(e.clone());
            }
        }
        slot.sender = None;
        let conn = match open(target, timeout).await {
            Ok(c) => c,
            Err(e) => {
                slot.failed = Some((std::time::Instant::now(), e.clone()));
                return Err(e);
            }
        };
        let Conn::Hyper {
            sender: Sender::H2(sender),
            driver,
        } = conn
        else {
            return Err(RequestError::Other {
                detail: "an HTTP/1.1 connection cannot carry several streams".into(),
            });
        };
        tokio::spawn(driver);
        slot.sender = Some(sender.clone());
        slot.failed = None;
        Ok(sender)
    }
}

/// An [`Exchange`] over one keep-alive connection, reconnecting after errors.
pub struct HttpExchange {
    target: Arc<Target>,
    timeout: Duration,
    conn: Option<Conn>,
    /// With `--h2-streams`: the connection shared with the other streams,
    /// and this loop's handle on it.
    shared: Option<(Arc<SharedConn>, Option<Sender>)>,
}

impl fmt::Debug for HttpExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpExchange")
            .field("target", &self.target.addr)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpExchange {
    /// A connection loop's exchange; connects lazily. `timeout` bounds the
    /// TCP connect and the TLS handshake.
    pub fn new(target: Arc<Target>, timeout: Duration) -> Self {
        HttpExchange {
            target,
            timeout,
            conn: None,
            shared: None,
        }
    }

    /// The exchanges of `streams` loops that share one HTTP/2 connection,
    /// so that up to `streams` requests are in flight on it. One stream is
    /// [`HttpExchange::new`]: its connection is driven without a task.
    pub fn streams(target: Arc<Target>, timeout: Duration, streams: usize) -> Vec<Self> {
        if streams <= 1 {
            return vec![HttpExchange::new(target, timeout)];
        }
        let conn = Arc::new(SharedConn::default());
        (0..streams)
            .map(|_| HttpExchange {
                shared: Some((conn.clone(), None)),
                ..HttpExchange::new(target.clone(), timeout)
            })
            .collect()
    }

    /// One request on a stream of the shared connection.
    async fn exchange_on_stream(&mut self) -> Outcome {
        let target = self.target.clone();
        let Some((conn, mine)) = &mut self.shared else {
            return Outcome::Error(RequestError::Closed);
        };
        // One retry, as on a connection of its own.
        for _ in 0..2 {
            let mut sender = match mine.take().filter(|s| !s.is_closed()) {
                Some(s) => s,
                None => match conn.sender(&target, self.timeout).await {
                    Ok(s) => Sender::H2(s),
                    Err(e) => return Outcome::Error(e),
                },
            };
            match send(&mut sender, &target).await {
                Attempt::NotSent => continue,
                Attempt::Done(outcome) => {
                    // A failed stream (a timeout, a reset) leaves the
                    // connection usable; a closed connection is reopened.
                    if !sender.is_closed() {
                        *mine = Some(sender);
                    }
                    return outcome;
                }
            }
        }
        Outcome::Error(RequestError::Closed)
    }
}

async fn open(target: &Target, timeout: Duration) -> Result<Conn, RequestError> {
    let tcp = connect(target.addr, timeout).await?;
    if !target.http2 {
        let io: Box<dyn Stream> = match &target.tls {
            None => Box::new(tcp),
            Some(tls) => Box::new(tls.handshake(tcp, timeout).await?),
        };
        return Ok(Conn::H1(H1::new(io)));
    }
    match &target.tls {
        None => handshake(TokioIo::new(tcp), target.http2).await,
        Some(tls) => {
            handshake(
                TokioIo::new(tls.handshake(tcp, timeout).await?),
                target.http2,
            )
            .await
        }
    }
}

async fn handshake<I>(io: TokioIo<I>, http2: bool) -> Result<Conn, RequestError>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let hs = |e: hyper::Error| RequestError::from_hyper(&e);
    Ok(if http2 {
        let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(hs)?;
        Conn::Hyper {
            sender: Sender::H2(sender),
            driver: Box::pin(async move {
                let _ = conn.await;
            }),
        }
    } else {
        let (sender, conn) = http1::handshake(io).await.map_err(hs)?;
        Conn::Hyper {
            sender: Sender::H1(sender),
            driver: Box::pin(async move {
                let _ = conn.await;
            }),
        }
    })
}

/// Result of one attempt on one connection.
enum Attempt {
    /// The connection was closed before the request went out: retry on a new
    /// one (the server closed an idle keep-alive connection).
    NotSent,
    Done(Outcome),
}

async fn send(sender: &mut Sender, target: &Target) -> Attempt {
    let ready = match sender {
        Sender::H1(s) => s.ready().await,
        Sender::H2(s) => s.ready().await,
    };
    if ready.is_err() {
        return Attempt::NotSent;
    }
    let req = target.request();
    let resp = match sender {
        Sender::H1(s) => s.send_request(req).await,
        Sender::H2(s) => s.send_request(req).await,
    };
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return Attempt::Done(Outcome::Error(RequestError::from_hyper(&e))),
    };
    let status = resp.status().as_u16();
    let (parts, mut body) = resp.into_parts();
    let keep = target
        .classifier
        .as_ref()
        .is_some_and(Classifier::needs_body);
    let mut kept = BytesMut::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if keep && kept.len() < BODY_KEEP {
                    if let Some(d) = f.data_ref() {
                        let n = d.len().min(BODY_KEEP - kept.len());
                        kept.extend_from_slice(&d[..n]);
                    }
                }
            }
            Err(e) => return Attempt::Done(Outcome::Error(RequestError::from_hyper(&e))),
        }
    }
    let class = target
        .classifier
        .as_ref()
        .and_then(|c| c.classify(&parts.headers, &kept));
    Attempt::Done(Outcome::Response { status, class })
}

impl Exchange for HttpExchange {
    async fn exchange(&mut self) -> Outcome {
        if self.shared.is_some() {
            return self.exchange_on_stream().await;
        }
        // One retry: a keep-alive connection closed by the server while idle
        // is not the request's fault.
        let target = &*self.target;
        for _ in 0..2 {
            let (mut conn, reused) = match self.conn.take() {
                Some(c) => (c, true),
                None => match open(target, self.timeout).await {
                    Ok(c) => (c, false),
                    Err(e) => return Outcome::Error(e),
                },
            };
            let (sender, driver) = match &mut conn {
                Conn::H1(h1) => {
                    let wire = target
                        .wire
                        .as_ref()
                        .expect("HTTP/1.1 targets have a wire form");
                    match h1.exchange(wire, target.classifier.as_ref()).await {
                        Ok(done) => {
                            if done.reusable {
                                self.conn = Some(conn);
                            }
                            return done.outcome;
                        }
                        // The server closed the kept-alive connection while
                        // it was idle: the request gets a new one.
                        Err(f) if reused && f.nothing_read => continue,
                        Err(f) => return Outcome::Error(f.error),
                    }
                }
                Conn::Hyper { sender, driver } => (sender, driver),
            };
            let mut driver_ended = false;
            let attempt = {
                let fut = send(sender, target);
                tokio::pin!(fut);
                tokio::select! {
                    biased;
                    a = &mut fut => a,
                    _ = driver => {
                        driver_ended = true;
                        fut.await
                    }
                }
            };
            match attempt {
                Attempt::NotSent => continue,
                Attempt::Done(outcome) => {
                    // Keep the connection only if it is still good; a failed
                    // exchange leaves it in an unknown state.
                    if !driver_ended && matches!(outcome, Outcome::Response { .. }) {
                        self.conn = Some(conn);
                    }
                    return outcome;
                }
            }
        }
        Outcome::Error(RequestError::Closed)
    }
}
