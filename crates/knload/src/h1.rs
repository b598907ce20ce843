//! A lean HTTP/1.1 client for one keep-alive connection: the request is
//! serialized once per run, each exchange is one write and as few reads as
//! the response needs, parsed in place in a buffer the connection keeps.
//! No task, channel, header map or allocation per request, so that the
//! client spends its CPU on the load and not on itself: a load generator
//! shares the machine with the server it measures (hyper stays the HTTP/2
//! client).

use super::error::RequestError;
use super::split::Classifier;
use super::stats::Outcome;
use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{HeaderMap, Method, Uri};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// At most this much of a body is kept for classification.
const BODY_KEEP: usize = 64 * 1024;

/// A response head larger than this is a protocol error, as in hyper.
const MAX_HEAD: usize = 400 * 1024;

/// Headers parsed per response; more is a protocol error.
const MAX_HEADERS: usize = 100;

/// The buffer a connection starts with: a typical response fits at once.
const BUF_START: usize = 16 * 1024;

/// The run's request, serialized once.
#[derive(Debug, Clone)]
pub struct Wire {
    bytes: Vec<u8>,
    /// A HEAD request's response has no body whatever its headers say.
    head: bool,
}

impl Wire {
    /// Serializes the request line, the headers (Host among them) and the
    /// body. A body gets a Content-Length unless one, or a
    /// Transfer-Encoding, is among the headers; so does an empty POST, PUT
    /// or PATCH, which servers otherwise may refuse with 411.
    pub fn new(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut b = Vec::with_capacity(256 + body.len());
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        b.extend_from_slice(method.as_str().as_bytes());
        b.push(b' ');
        b.extend_from_slice(path.as_bytes());
        b.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in headers {
            b.extend_from_slice(name.as_str().as_bytes());
            b.extend_from_slice(b": ");
            b.extend_from_slice(value.as_bytes());
            b.extend_from_slice(b"\r\n");
        }
        let framed =
            headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
        let wants_length =
            !body.is_empty() || matches!(*method, Method::POST | Method::PUT | Method::PATCH);
        if !framed && wants_length {
            b.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        b.extend_from_slice(b"\r\n");
        b.extend_from_slice(body);
        Wire {
            bytes: b,
            head: *method == Method::HEAD,
        }
    }
}

/// One exchange's failure, and whether the request may be sent again on a
/// new connection: a kept-alive connection that the server closed while it
/// was idle fails before any of the response arrived, which is not the
/// request's fault.
#[derive(Debug)]
pub struct Failed {
    /// What went wrong.
    pub error: RequestError,
    /// Nothing of a response arrived before the connection ended.
    pub nothing_read: bool,
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A response head, as the connection needs it.
#[derive(Debug)]
struct Head {
    status: u16,
    framing: Framing,
    keep_alive: bool,
    class: Option<String>,
}

/// What [`scan_head`] found in a complete head.
#[derive(Debug)]
struct Scanned {
    /// Bytes of the head, its empty line included.
    len: usize,
    status: u16,
    length: Option<u64>,
    chunked: bool,
    keep_alive: bool,
    class: Option<String>,
}

/// Parses a response head with `httparse` and reads the headers that frame
/// the body or end the connection (and the classifier's). The header slots
/// are left uninitialised: filling `MAX_HEADERS` empty slots on every
/// response cost more than parsing a typical head.
fn scan_head(buf: &[u8], classifier: Option<&Classifier>) -> Result<Option<Scanned>, Failed> {
    let mut slots =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut resp, buf, &mut slots);
    let len = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(protocol(format!("invalid HTTP response: {e}"))),
    };
    let minor = resp.version.unwrap_or(1);
    let mut keep_alive = minor == 1;
    let mut length = None;
    let mut chunked = false;
    let mut class = None;
    let class_header = match classifier {
        Some(Classifier::Header(name)) => Some(name.as_str()),
        _ => None,
    };
    for h in resp.headers.iter() {
        let name = h.name.as_bytes();
        match name.len() {
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let n = std::str::from_utf8(h.value.trim_ascii())
                    .ok()
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| protocol("invalid content-length".into()))?;
                if length.is_some_and(|l| l != n) {
                    return Err(protocol("conflicting content-length".into()));
                }
                length = Some(n);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                // Only the last coding says whether the body is chunked.
                chunked = h
                    .value
                    .rsplit(|&b| b == b',')
                    .next()
                    .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for token in h.value.split(|&b| b == b',') {
                    let t = token.trim_ascii();
                    if t.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") {
                        keep_alive = keep_alive || minor == 0;
                    }
                }
            }
            _ => {}
        }
        if let Some(want) = class_header {
            if class.is_none() && want.as_bytes().eq_ignore_ascii_case(name) {
                class = Some(String::from_utf8_lossy(h.value).trim().to_string());
            }
        }
    }
    Ok(Some(Scanned {
        len,
        status: resp.code.unwrap_or(0),
        length,
        chunked,
        keep_alive,
        class,
    }))
}

/// One keep-alive HTTP/1.1 connection.
#[derive(Debug)]
pub struct H1<I> {
    io: I,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
}

/// What the caller does with the connection after a response.
#[derive(Debug)]
pub struct Done {
    /// The outcome to record.
    pub outcome: Outcome,
    /// The connection can carry the next request.
    pub reusable: bool,
}

impl<I: AsyncRead + AsyncWrite + Unpin> H1<I> {
    /// Wraps an open connection.
    pub fn new(io: I) -> Self {
        H1 {
            io,
            buf: vec![0; BUF_START],
            pos: 0,
            end: 0,
        }
    }

    /// Sends the request and reads the whole response; classifies it when a
    /// classifier is given.
    pub async fn exchange(
        &mut self,
        wire: &Wire,
        classifier: Option<&Classifier>,
    ) -> Result<Done, Failed> {
        let io_failed = |e: io::Error, nothing_read: bool| Failed {
            error: RequestError::from_io(&e, false),
            nothing_read,
        };
        if let Err(e) = self.io.write_all(&wire.bytes).await {
            return Err(io_failed(e, true));
        }
        if let Err(e) = self.io.flush().await {
            return Err(io_failed(e, true));
        }
        let mut read_any = false;
        // Interim (1xx) responses come before the final one and are skipped.
        let Head {
            status,
            framing,
            keep_alive,
            class,
        } = loop {
            let head = loop {
                match self.parse_head(wire.head, classifier) {
                    Ok(Some(h)) => break h,
                    Ok(None) => {}
                    Err(e) => return Err(e),
                }
                match self.fill().await {
                    Ok(0) if !read_any => {
                        return Err(Failed {
                            error: RequestError::Closed,
                            nothing_read: true,
                        })
                    }
                    Ok(0) => return Err(closed()),
                    Ok(_) => read_any = true,
                    Err(e) => return Err(io_failed(e, !read_any)),
                }
            };
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
            }
        };
        let keep = classifier.is_some_and(Classifier::needs_body);
        let mut kept = Vec::new();
        let reusable = match framing {
            Framing::Empty => keep_alive,
            Framing::Length(n) => {
                self.body_bytes(n, keep.then_some(&mut kept)).await?;
                keep_alive
            }
            Framing::Chunked => {
                self.chunked(keep.then_some(&mut kept)).await?;
                keep_alive
            }
            Framing::UntilClose => {
                self.until_close(keep.then_some(&mut kept)).await?;
                false
            }
        };
        let class = match (classifier, class) {
            (Some(c), None) if c.needs_body() => c.classify(&HeaderMap::new(), &kept),
            (_, class) => class,
        };
        // Bytes past the response would be read as the next one's start.
        let reusable = reusable && self.pos == self.end;
        Ok(Done {
            outcome: Outcome::Response { status, class },
            reusable,
        })
    }

    /// Parses a complete response head from the buffer and consumes it;
    /// `None` when more bytes are needed.
    fn parse_head(
        &mut self,
        head_request: bool,
        classifier: Option<&Classifier>,
    ) -> Result<Option<Head>, Failed> {
        let buf = &self.buf[self.pos..self.end];
        let Some(head) = scan_head(buf, classifier)? else {
            if buf.len() >= MAX_HEAD {
                return Err(protocol("response head too large".into()));
            }
            return Ok(None);
        };
        let framing = if head_request
            || head.status == 204
            || head.status == 304
            || (100..200).contains(&head.status)
        {
            Framing::Empty
        } else if head.chunked {
            Framing::Chunked
        } else if let Some(n) = head.length {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        };
        self.pos += head.len;
        Ok(Some(Head {
            status: head.status,
            framing,
            keep_alive: head.keep_alive,
            class: head.class,
        }))
    }

    /// Reads more into the buffer, first moving what is left to its front
    /// (and growing it when it is full); 0 at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.pos > 0 && self.end == self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let len = self.buf.len() * 2;
            self.buf.resize(len, 0);
        }
        let n = self.io.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    /// Takes up to `max` buffered bytes, keeping them when asked.
    fn take(&mut self, max: u64, kept: &mut Option<&mut Vec<u8>>) -> u64 {
        let n = ((self.end - self.pos) as u64).min(max) as usize;
        if let Some(k) = kept.as_deref_mut() {
            let room = BODY_KEEP.saturating_sub(k.len()).min(n);
            k.extend_from_slice(&self.buf[self.pos..self.pos + room]);
        }
        self.pos += n;
        n as u64
    }

    /// Reads a body of `n` bytes.
    async fn body_bytes(
        &mut self,
        mut n: u64,
        mut kept: Option<&mut Vec<u8>>,
    ) -> Result<(), Failed> {
        loop {
            n -= self.take(n, &mut kept);
            if n == 0 {
                return Ok(());
            }
            self.fill_or_fail().await?;
        }
    }

    /// Reads a chunked body, its trailers included.
    async fn chunked(&mut self, mut kept: Option<&mut Vec<u8>>) -> Result<(), Failed> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf[self.pos..self.end]) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.pos += used;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => self.fill_or_fail().await?,
                    Err(_) => return Err(protocol("invalid chunk size".into())),
                }
            };
            if size == 0 {
                return self.trailers().await;
            }
            self.body_bytes(size, kept.as_deref_mut()).await?;
            while self.end - self.pos < 2 {
                self.fill_or_fail().await?;
            }
            if &self.buf[self.pos..self.pos + 2] != b"\r\n" {
                return Err(protocol("chunk not followed by CRLF".into()));
            }
            self.pos += 2;
        }
    }

    /// Skips trailer lines up to and including the empty line.
    async fn trailers(&mut self) -> Result<(), Failed> {
        loop {
            match self.buf[self.pos..self.end]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                Some(0) => {
                    self.pos += 2;
                    return Ok(());
                }
                Some(i) => self.pos += i + 2,
                None if self.end - self.pos >= MAX_HEAD => {
                    return Err(protocol("trailers too large".into()))
                }
                None => self.fill_or_fail().await?,
            }
        }
    }

    /// Reads a body that ends when the server closes the connection.
    async fn until_close(&mut self, mut kept: Option<&mut Vec<u8>>) -> Result<(), Failed> {
        loop {
            self.take(u64::MAX, &mut kept);
            match self.fill().await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    return Err(Failed {
                        error: RequestError::from_io(&e, false),
                        nothing_read: false,
                    })
                }
            }
        }
    }

    async fn fill_or_fail(&mut self) -> Result<(), Failed> {
        match self.fill().await {
            Ok(0) => Err(closed()),
            Ok(_) => Ok(()),
            Err(e) => Err(Failed {
                error: RequestError::from_io(&e, false),
                nothing_read: false,
            }),
        }
    }
}

fn closed() -> Failed {
    Failed {
        error: RequestError::Closed,
        nothing_read: false,
    }
}

fn protocol(detail: String) -> Failed {
    Failed {
        error: RequestError::Protocol { detail },
        nothing_read: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use tokio::io::{duplex, DuplexStream};

    fn get() -> Wire {
        let mut h = HeaderMap::new();
        h.insert(hyper::header::HOST, HeaderValue::from_static("x"));
        Wire::new(&Method::GET, &"/a?b=1".parse().unwrap(), &h, b"")
    }

    /// Runs one exchange against a peer that answers `reply`, written in
    /// pieces of `piece` bytes (the pipe holds no more than that either, so
    /// the client's reads are split too). Returns the result and what the
    /// peer received.
    async fn exchange_with(
        wire: &Wire,
        reply: &'static [u8],
        piece: usize,
        classifier: Option<&Classifier>,
    ) -> (Result<Done, Failed>, Vec<u8>, H1<DuplexStream>) {
        let (client, mut server) = duplex(piece);
        let len = wire.bytes.len();
        let peer = tokio::spawn(async move {
            let mut got = vec![0; len];
            server.read_exact(&mut got).await.unwrap();
            for c in reply.chunks(piece) {
                server.write_all(c).await.unwrap();
            }
            // Dropping the peer's end closes the stream.
            got
        });
        let mut h1 = H1::new(client);
        let r = h1.exchange(wire, classifier).await;
        (r, peer.await.unwrap(), h1)
    }

    fn status(r: &Result<Done, Failed>) -> u16 {
        match r {
            Ok(Done {
                outcome: Outcome::Response { status, .. },
                ..
            }) => *status,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_request_is_serialized_once_with_its_length() {
        let mut h = HeaderMap::new();
        h.insert(hyper::header::HOST, HeaderValue::from_static("h:1"));
        h.insert("x-a", HeaderValue::from_static("v"));
        let w = Wire::new(&Method::POST, &"/p".parse().unwrap(), &h, b"body");
        assert_eq!(
            w.bytes,
            b"POST /p HTTP/1.1\r\nhost: h:1\r\nx-a: v\r\ncontent-length: 4\r\n\r\nbody"
        );
        assert_eq!(
            get().bytes,
            b"GET /a?b=1 HTTP/1.1\r\nhost: x\r\n\r\n".to_vec()
        );
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("4"));
        let w = Wire::new(&Method::PUT, &"/p".parse().unwrap(), &h, b"body");
        assert_eq!(
            w.bytes
                .windows(15)
                .filter(|x| x.eq_ignore_ascii_case(b"content-length:"))
                .count(),
            1
        );
    }

    #[tokio::test]
    async fn a_response_split_over_many_reads_is_read_whole() {
        let (r, got, h1) = exchange_with(
            &get(),
            b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world",
            3,
            None,
        )
        .await;
        assert_eq!(got, get().bytes);
        assert_eq!(status(&r), 200);
        assert!(r.unwrap().reusable);
        assert_eq!(h1.pos, h1.end);
    }

    #[tokio::test]
    async fn chunked_bodies_and_trailers_are_decoded_for_the_classifier() {
        let re = Classifier::parse("body:v=(\\w+)").unwrap();
        let (r, _, h1) = exchange_with(
            &get(),
            b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nv=a\r\n4\r\nbcd!\r\n0\r\nx-t: 1\r\n\r\n",
            5,
            Some(&re),
        )
        .await;
        let done = r.unwrap();
        assert!(done.reusable);
        assert_eq!(h1.pos, h1.end);
        match done.outcome {
            Outcome::Response { status, class } => {
                assert_eq!(status, 201);
                assert_eq!(class.as_deref(), Some("abcd"));
            }
            o => panic!("{o:?}"),
        }
    }

    #[tokio::test]
    async fn interim_responses_are_skipped_and_headers_classify() {
        let c = Classifier::parse("header:X-Rev").unwrap();
        let (r, _, _) = exchange_with(
            &get(),
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nx-rev:  blue \r\n\r\n",
            7,
            Some(&c),
        )
        .await;
        match r.unwrap().outcome {
            Outcome::Response { status, class } => {
                assert_eq!(status, 204);
                assert_eq!(class.as_deref(), Some("blue"));
            }
            o => panic!("{o:?}"),
        }
    }

    #[tokio::test]
    async fn connection_close_and_bodies_until_close_end_the_connection() {
        let (r, _, _) = exchange_with(
            &get(),
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            64,
            None,
        )
        .await;
        assert!(!r.unwrap().reusable);
        let (r, _, _) = exchange_with(&get(), b"HTTP/1.0 200 OK\r\n\r\nsome body", 4, None).await;
        assert_eq!(status(&r), 200);
        assert!(!r.unwrap().reusable);
        let (r, _, _) = exchange_with(
            &get(),
            b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 1\r\n\r\nx",
            4,
            None,
        )
        .await;
        assert!(r.unwrap().reusable);
    }

    #[tokio::test]
    async fn a_head_response_has_no_body_whatever_its_length_says() {
        let mut h = HeaderMap::new();
        h.insert(hyper::header::HOST, HeaderValue::from_static("x"));
        let head = Wire::new(&Method::HEAD, &"/".parse().unwrap(), &h, b"");
        let (r, _, _) = exchange_with(
            &head,
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n",
            64,
            None,
        )
        .await;
        assert!(r.unwrap().reusable);
    }

    fn scanned(head: &[u8]) -> Result<Option<Scanned>, Failed> {
        scan_head(head, None)
    }

    #[test]
    fn the_head_parser_reads_framing_and_rejects_what_is_not_a_head() {
        let input =
            b"\r\nHTTP/1.1 200 OK\nServer: x\r\nCONTENT-LENGTH:\t13 \r\nX-Rev: a b\n\r\nbody";
        let h = scanned(input).unwrap().unwrap();
        assert_eq!(
            (h.status, h.length, h.chunked, h.keep_alive),
            (200, Some(13), false, true)
        );
        assert_eq!(h.len, input.len() - 4, "the head ends after its empty line");
        let h = scanned(
            b"HTTP/1.0 404\r\nTransfer-Encoding: gzip, Chunked\r\nConnection: Keep-Alive\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!((h.status, h.chunked, h.keep_alive), (404, true, true));
        let h = scanned(b"HTTP/1.1 200 OK\r\nconnection: upgrade, close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.keep_alive);
        // Incomplete heads wait for more bytes.
        for partial in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 1"[..],
            b"HTTP/1.1 2",
            b"HT",
            b"\r",
        ] {
            assert!(scanned(partial).unwrap().is_none(), "{partial:?}");
        }
        let c = Classifier::parse("header:X-Rev").unwrap();
        let h = scan_head(
            b"HTTP/1.1 200 OK\r\nx-rev: blue \r\nX-REV: green\r\n\r\n",
            Some(&c),
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.class.as_deref(), Some("blue"), "the first value, trimmed");
        let too_many = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "a: b\r\n".repeat(MAX_HEADERS + 1)
        );
        for bad in [
            &b"HTTX/1.1 200 OK\r\n\r\n"[..],
            b"HTTX",
            b"HTTP/2.0 200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nname : v\r\n\r\n",
            b"HTTP/1.1 200 OK\r\na: b\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n: v\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            too_many.as_bytes(),
        ] {
            assert!(
                matches!(
                    scanned(bad),
                    Err(Failed {
                        error: RequestError::Protocol { .. },
                        ..
                    })
                ),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[tokio::test]
    async fn truncated_and_malformed_responses_fail_with_their_kind() {
        let (r, _, _) = exchange_with(&get(), b"", 64, None).await;
        let f = r.unwrap_err();
        assert_eq!(f.error, RequestError::Closed);
        assert!(f.nothing_read, "a close before any byte may be retried");
        let (r, _, _) = exchange_with(
            &get(),
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
            64,
            None,
        )
        .await;
        let f = r.unwrap_err();
        assert_eq!(f.error, RequestError::Closed);
        assert!(!f.nothing_read);
        let (r, _, _) = exchange_with(&get(), b"HTTX/1.1 200 OK\r\n\r\n", 64, None).await;
        assert!(matches!(
            r.unwrap_err().error,
            RequestError::Protocol { .. }
        ));
        let (r, _, _) = exchange_with(
            &get(),
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            64,
            None,
        )
        .await;
        assert!(matches!(
            r.unwrap_err().error,
            RequestError::Protocol { .. }
        ));
    }
}
