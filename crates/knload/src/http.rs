//! The real exchange: one keep-alive HTTP/1.1 or h2c connection per loop,
//! driven inside the loop's own task (no extra task and wake-up per request).

use super::addr::url_port;
use super::error::{clip, KnloadError, RequestError};
use super::exec::Exchange;
use super::split::Classifier;
use super::stats::Outcome;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::header::{HeaderValue, HOST};
use hyper::{HeaderMap, Method, Request, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
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
    /// h2c with prior knowledge instead of HTTP/1.1.
    pub http2: bool,
    /// How responses are classified, if at all.
    pub classifier: Option<Classifier>,
}

impl Target {
    /// Builds the target from a parsed URL, an optional Host override and
    /// extra headers; resolves the host name once.
    pub async fn new(
        url: &Uri,
        host: Option<&str>,
        method: Method,
        mut headers: HeaderMap,
        body: Bytes,
        http2: bool,
        classifier: Option<Classifier>,
    ) -> Result<Self, KnloadError> {
        let bad = |d: &str| KnloadError::usage("URL", format!("`{}`: {d}", clip(&url.to_string())));
        match url.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(bad("https is not supported; use http (h2c with --http2)"))
            }
            _ => return Err(bad("must start with http://")),
        }
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
        let uri = if http2 {
            // HTTP/2 carries the host in :authority, taken from the URI.
            format!("http://{host_value}{path}").parse().map_err(|_| {
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
        Ok(Target {
            addr,
            method,
            uri,
            headers,
            body,
            http2,
            classifier,
        })
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

type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Conn {
    sender: Sender,
    /// hyper's connection future; polled alongside each request.
    driver: Driver,
}

/// An [`Exchange`] over one keep-alive connection, reconnecting after errors.
pub struct HttpExchange {
    target: Arc<Target>,
    timeout: Duration,
    conn: Option<Conn>,
}

impl HttpExchange {
    /// A connection loop's exchange; connects lazily. `timeout` bounds the
    /// TCP connect.
    pub fn new(target: Arc<Target>, timeout: Duration) -> Self {
        HttpExchange {
            target,
            timeout,
            conn: None,
        }
    }
}

async fn open(addr: SocketAddr, http2: bool, timeout: Duration) -> Result<Conn, RequestError> {
    let io = TokioIo::new(connect(addr, timeout).await?);
    let hs = |e: hyper::Error| RequestError::from_hyper(&e);
    Ok(if http2 {
        let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(hs)?;
        Conn {
            sender: Sender::H2(sender),
            driver: Box::pin(async move {
                let _ = conn.await;
            }),
        }
    } else {
        let (sender, conn) = http1::handshake(io).await.map_err(hs)?;
        Conn {
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
        // One retry: a keep-alive connection closed by the server while idle
        // is not the request's fault.
        let target = self.target.clone();
        for _ in 0..2 {
            let mut conn = match self.conn.take() {
                Some(c) => c,
                None => match open(target.addr, target.http2, self.timeout).await {
                    Ok(c) => c,
                    Err(e) => return Outcome::Error(e),
                },
            };
            let mut driver_ended = false;
            let attempt = {
                let fut = send(&mut conn.sender, &target);
                tokio::pin!(fut);
                tokio::select! {
                    biased;
                    a = &mut fut => a,
                    _ = &mut conn.driver => {
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
