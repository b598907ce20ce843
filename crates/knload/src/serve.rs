//! `knload serve`: a stand-in for a Knative revision. It answers with a
//! message, its host name and a request counter (like the tutorial's greeter:
//! "Hi" in v1, "Namaste" in v2), takes a service time from a distribution, and
//! limits concurrency the way the queue-proxy's breaker does: at most CC
//! requests run, at most 10 x CC more wait, and beyond that it answers 503.
//! It speaks HTTP/1.1 and h2c, or HTTPS with a generated certificate, and
//! counts what a client test needs to see: connections, the most requests
//! in flight on one connection, the TLS server names and Host values.

use super::error::{clip, clip_in, KnloadError};
use super::tls::{ServerTls, ALPN_H2};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use knsim::knative::dataplane::queue_proxy_breaker_capacity;
use knsim::sim::parse_go_duration;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How long the emulated application takes per request.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceTime {
    /// Always the same (`5ms`; `0s` answers at once).
    Constant(Duration),
    /// Exponential with this mean (`exp:10ms`).
    Exponential(Duration),
    /// Uniform between two bounds (`uniform:5ms..15ms`).
    Uniform(Duration, Duration),
    /// Log-normal with this median and shape sigma (`lognormal:10ms,0.5`).
    LogNormal(Duration, f64),
}

impl ServiceTime {
    /// Parses the forms listed on each variant; durations in Go syntax.
    pub fn parse(s: &str) -> Result<Self, KnloadError> {
        let bad = |d: String| KnloadError::usage("--service-time", d);
        let dur = |x: &str| {
            parse_go_duration(x.trim())
                .map(|d| Duration::from_nanos(d.0))
                .map_err(|e| bad(format!("`{}`: {}", clip(x), clip_in(e, x.trim()))))
        };
        match s.split_once(':') {
            None => dur(s).map(ServiceTime::Constant),
            Some(("exp", m)) => dur(m).map(ServiceTime::Exponential),
            Some(("uniform", r)) => {
                let (a, b) = r
                    .split_once("..")
                    .ok_or_else(|| bad(format!("`{}` is not LOW..HIGH", clip(r))))?;
                let (a, b) = (dur(a)?, dur(b)?);
                if a > b {
                    return Err(bad(format!("{a:?} is above {b:?}")));
                }
                Ok(ServiceTime::Uniform(a, b))
            }
            Some(("lognormal", r)) => {
                let (m, sigma) = r
                    .split_once(',')
                    .ok_or_else(|| bad(format!("`{}` is not MEDIAN,SIGMA", clip(r))))?;
                let sigma: f64 = sigma
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| {
                        bad(format!(
                            "sigma `{}` is not a non-negative number",
                            clip(sigma)
                        ))
                    })?;
                Ok(ServiceTime::LogNormal(dur(m)?, sigma))
            }
            Some((kind, _)) => Err(bad(format!("unknown distribution `{}`", clip(kind)))),
        }
    }

    fn sample(&self, rng: &mut impl Rng) -> Duration {
        let secs = match *self {
            ServiceTime::Constant(d) => return d,
            ServiceTime::Exponential(m) if m.is_zero() => return m,
            ServiceTime::Exponential(m) => Exp::new(1.0 / m.as_secs_f64())
                .expect("positive rate")
                .sample(rng),
            ServiceTime::Uniform(a, b) => rng.random_range(a.as_secs_f64()..=b.as_secs_f64()),
            ServiceTime::LogNormal(m, _) if m.is_zero() => return m,
            ServiceTime::LogNormal(m, sigma) => LogNormal::new(m.as_secs_f64().ln(), sigma)
                .expect("finite parameters")
                .sample(rng),
        };
        Duration::from_secs_f64(secs.clamp(0.0, 3600.0))
    }
}

/// Configuration of one emulated revision.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free one).
    pub listen: SocketAddr,
    /// First word of every answer (default "Hi").
    pub message: String,
    /// Host name in every answer (default: $HOSTNAME, else "knload-serve").
    pub hostname: String,
    /// An extra response header, e.g. `x-revision: v1` (default none).
    pub header: Option<(HeaderName, HeaderValue)>,
    /// Service time per request (default 0).
    pub service_time: ServiceTime,
    /// containerConcurrency: 0 is unlimited (the default).
    pub container_concurrency: usize,
    /// Time after binding before connections are accepted (default 0).
    pub startup_delay: Duration,
    /// Seed of the service-time stream (default 1).
    pub seed: u64,
    /// Serve HTTPS with a self-signed certificate generated at start
    /// (default false).
    pub tls: bool,
    /// Names the certificate carries besides localhost, 127.0.0.1 and ::1.
    pub tls_names: Vec<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            message: "Hi".into(),
            hostname: std::env::var("HOSTNAME").unwrap_or_else(|_| "knload-serve".into()),
            header: None,
            service_time: ServiceTime::Constant(Duration::ZERO),
            container_concurrency: 0,
            startup_delay: Duration::ZERO,
            seed: 1,
            tls: false,
            tls_names: Vec::new(),
        }
    }
}

struct State {
    cfg: ServeConfig,
    counter: AtomicU64,
    /// Requests executing or waiting (the breaker's inFlight).
    in_flight: AtomicUsize,
    slots: Option<Semaphore>,
    rng: Mutex<knsim::sim::SimRng>,
    rejected: AtomicU64,
    connections: AtomicU64,
    /// Of those, connections that spoke HTTP/2.
    h2_connections: AtomicU64,
    /// The most requests seen in flight at once on one connection.
    peak_per_connection: AtomicUsize,
    /// TLS server names (SNI) per connection; "" when none was sent.
    server_names: Mutex<BTreeMap<String, u64>>,
    /// Host header (HTTP/1.1) or :authority (HTTP/2) per request.
    hosts: Mutex<BTreeMap<String, u64>>,
}

/// A running emulated revision; stops when dropped or shut down.
pub struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    certificate_pem: Option<String>,
}

impl Server {
    /// Binds at once (so the address is known) and serves in the background
    /// of the current tokio runtime.
    pub async fn start(cfg: ServeConfig) -> Result<Server, KnloadError> {
        let listener = TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| KnloadError::Io {
                path: cfg.listen.to_string(),
                source: e,
            })?;
        let addr = listener.local_addr().map_err(|e| KnloadError::Io {
            path: cfg.listen.to_string(),
            source: e,
        })?;
        let tls = cfg
            .tls
            .then(|| ServerTls::generate(addr.ip(), &cfg.tls_names))
            .transpose()?;
        let cc = cfg.container_concurrency;
        let state = Arc::new(State {
            slots: (cc > 0).then(|| Semaphore::new(cc)),
            rng: Mutex::new(knsim::sim::SimRng::seed_from_u64(cfg.seed)),
            counter: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            rejected: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            h2_connections: AtomicU64::new(0),
            peak_per_connection: AtomicUsize::new(0),
            server_names: Mutex::new(BTreeMap::new()),
            hosts: Mutex::new(BTreeMap::new()),
            cfg,
        });
        let (stop, stopped) = watch::channel(false);
        let certificate_pem = tls.as_ref().map(|t| t.certificate_pem.clone());
        let acceptor = tls.map(|t| t.acceptor);
        tokio::spawn(accept_loop(listener, state.clone(), acceptor, stopped));
        Ok(Server {
            addr,
            state,
            stop,
            certificate_pem,
        })
    }

    /// The generated certificate in PEM (with `tls`), for clients to trust.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// The URL to reach it: `http://` or, with `tls`, `https://`.
    pub fn url(&self) -> String {
        let scheme = if self.certificate_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/", self.addr)
    }

    /// Connections that carried at least one request.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// Of those, connections that spoke HTTP/2 (h2c, or h2 chosen by ALPN).
    pub fn h2_connections(&self) -> u64 {
        self.state.h2_connections.load(Ordering::Relaxed)
    }

    /// The most requests that were in flight at once on one connection
    /// (more than 1 only with HTTP/2 streams).
    pub fn peak_in_flight_per_connection(&self) -> usize {
        self.state.peak_per_connection.load(Ordering::Relaxed)
    }

    /// Completed TLS handshakes per server name (SNI) the clients sent; ""
    /// counts those that sent none (as for an IP address). A client's
    /// reachability probe is one of them.
    pub fn server_names(&self) -> BTreeMap<String, u64> {
        self.state
            .server_names
            .lock()
            .expect("lock is never poisoned")
            .clone()
    }

    /// Requests per Host header (HTTP/1.1) or :authority (HTTP/2).
    pub fn hosts(&self) -> BTreeMap<String, u64> {
        self.state
            .hosts
            .lock()
            .expect("lock is never poisoned")
            .clone()
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests answered with the message so far.
    pub fn served(&self) -> u64 {
        self.state.counter.load(Ordering::Relaxed)
    }

    /// Requests rejected with 503 because the queue was full.
    pub fn rejected(&self) -> u64 {
        self.state.rejected.load(Ordering::Relaxed)
    }

    /// Waits until shutdown is asked for (Ctrl-C in the binary).
    pub async fn wait(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Stops accepting and closes connections.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stopped: watch::Receiver<bool>,
) {
    if !state.cfg.startup_delay.is_zero() {
        // Connections wait in the listen backlog, as they would for a pod
        // that is not ready yet behind a buffering proxy.
        tokio::select! {
            _ = tokio::time::sleep(state.cfg.startup_delay) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => continue,
            },
            _ = stopped.wait_for(|s| *s) => return,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let tls = tls.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = serve_connection(stream, state, tls) => {},
                _ = stopped.wait_for(|s| *s) => {}
            }
        });
    }
}

/// A client that connects and then says nothing is dropped after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve_connection(
    stream: tokio::net::TcpStream,
    state: Arc<State>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let Some(acceptor) = tls else {
        let mut preface = [0u8; 3];
        let is_h2 = matches!(stream.peek(&mut preface).await, Ok(3) if &preface == b"PRI");
        return serve_http(TokioIo::new(stream), is_h2, state).await;
    };
    // A failed handshake (a client that does not trust the certificate
    // aborts it) ends the connection; there is nobody to answer.
    let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
    else {
        return;
    };
    let (_, conn) = stream.get_ref();
    let is_h2 = conn.alpn_protocol() == Some(ALPN_H2);
    let name = conn.server_name().unwrap_or_default().to_string();
    *state
        .server_names
        .lock()
        .expect("lock is never poisoned")
        .entry(name)
        .or_default() += 1;
    serve_http(TokioIo::new(stream), is_h2, state).await;
}

async fn serve_http<I>(io: TokioIo<I>, is_h2: bool, state: Arc<State>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let on_conn = Arc::new(AtomicUsize::new(0));
    // Connections are counted at their first request: a client's probe
    // that connects and leaves is not one.
    let first = std::sync::atomic::AtomicBool::new(true);
    let svc = hyper::service::service_fn(move |req| {
        if first.swap(false, Ordering::Relaxed) {
            state.connections.fetch_add(1, Ordering::Relaxed);
            if is_h2 {
                state.h2_connections.fetch_add(1, Ordering::Relaxed);
            }
        }
        let now = on_conn.fetch_add(1, Ordering::AcqRel) + 1;
        state.peak_per_connection.fetch_max(now, Ordering::AcqRel);
        let guard = InFlightOwned(on_conn.clone());
        let state = state.clone();
        async move {
            let r = handle(state, req).await;
            drop(guard);
            r
        }
    });
    if is_h2 {
        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(io, svc)
            .await;
    } else {
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, svc)
            .await;
    }
}

/// Counts a request off its connection however it ends (also when the
/// client resets the stream and the handler is dropped).
struct InFlightOwned(Arc<AtomicUsize>);

impl Drop for InFlightOwned {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Gives the breaker slot back however the request ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    *state
        .hosts
        .lock()
        .expect("lock is never poisoned")
        .entry(host)
        .or_default() += 1;
    let _permit = match &state.slots {
        None => None,
        Some(sem) => {
            // The same bound as the simulated queue-proxy's breaker.
            let cc = u32::try_from(state.cfg.container_concurrency).unwrap_or(u32::MAX);
            let total_slots = queue_proxy_breaker_capacity(cc) as usize;
            let prev = state.in_flight.fetch_add(1, Ordering::AcqRel);
            let guard = InFlight(&state.in_flight);
            if prev >= total_slots {
                drop(guard);
                state.rejected.fetch_add(1, Ordering::Relaxed);
                let mut r = Response::new(Full::new(Bytes::from_static(
                    b"pending request queue full\n",
                )));
                *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                return Ok(r);
            }
            let permit = sem.acquire().await.expect("the semaphore is never closed");
            Some((permit, guard))
        }
    };
    let wait = {
        let mut rng = state.rng.lock().expect("rng lock is never poisoned");
        state.cfg.service_time.sample(&mut *rng)
    };
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let n = state.counter.fetch_add(1, Ordering::Relaxed) + 1;
    let body = format!("{} {} {}\n", state.cfg.message, state.cfg.hostname, n);
    let mut r = Response::new(Full::new(Bytes::from(body)));
    if let Some((k, v)) = &state.cfg.header {
        r.headers_mut().insert(k.clone(), v.clone());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_times() {
        assert_eq!(
            ServiceTime::parse("5ms").unwrap(),
            ServiceTime::Constant(Duration::from_millis(5))
        );
        assert_eq!(
            ServiceTime::parse("uniform:1ms..3ms").unwrap(),
            ServiceTime::Uniform(Duration::from_millis(1), Duration::from_millis(3))
        );
        assert!(matches!(
            ServiceTime::parse("lognormal:10ms,0.5"),
            Ok(ServiceTime::LogNormal(_, _))
        ));
        for bad in [
            "x",
            "exp:",
            "uniform:3ms..1ms",
            "lognormal:1ms",
            "pareto:1ms",
        ] {
            assert!(ServiceTime::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn exponential_samples_have_the_right_mean() {
        let st = ServiceTime::Exponential(Duration::from_millis(10));
        let mut rng = knsim::sim::SimRng::seed_from_u64(7);
        let n = 20_000;
        let mean: f64 = (0..n)
            .map(|_| st.sample(&mut rng).as_secs_f64())
            .sum::<f64>()
            / n as f64;
        // Standard error is 10 ms / sqrt(20000) = 0.07 ms; allow 5 of them.
        assert!((mean - 0.010).abs() < 0.00035, "{mean}");
    }
}
