//! Where a URL, a Host value or a listen address becomes a port. Every port
//! is checked here, before anything connects: the `http` crate reads a port
//! beyond 65535 as "no port", which would silently mean port 80.

use super::error::{clip, KnloadError};
use hyper::Uri;
use std::net::SocketAddr;

/// The port written after the host in an authority (`user@host:port`,
/// `[::1]:port`), if there is a `:` for one; the text may be empty or not a
/// number.
fn written_port(authority: &str) -> Option<&str> {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after_host = match host_port.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or("", |(_, after)| after),
        None => host_port,
    };
    after_host.rsplit_once(':').map(|(_, p)| p)
}

/// Checks a written port: decimal digits within `lowest..=65535`.
fn check_port(text: &str, lowest: u16) -> Result<u16, String> {
    if text.is_empty() {
        return Err("the port after `:` is empty".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port `{}` is not a number", clip(text)));
    }
    let range = format!("{lowest}-65535");
    match text.parse::<u32>() {
        Ok(p) if p > 65535 => Err(format!("port {p} is out of range ({range})")),
        Ok(p) if p < u32::from(lowest) => Err(format!("port {p} is out of range ({range})")),
        Ok(p) => Ok(p as u16),
        Err(_) => Err(format!("port {} is out of range ({range})", clip(text))),
    }
}

/// The port a target URL connects to: the one written (1-65535), else 443
/// for https and 80 otherwise.
pub fn url_port(url: &Uri) -> Result<u16, KnloadError> {
    let authority = url.authority().ok_or_else(|| {
        KnloadError::usage("URL", format!("`{}` has no host", clip(&url.to_string())))
    })?;
    match written_port(authority.as_str()) {
        None if url.scheme_str() == Some("https") => Ok(443),
        None => Ok(80),
        Some(p) => check_port(p, 1)
            .map_err(|d| KnloadError::usage("URL", format!("`{}`: {d}", clip(&url.to_string())))),
    }
}

/// Checks a Host value (`--host`, or `-H 'Host: ...'`): a port, if written,
/// must be one a server could listen on.
pub fn check_host(what: &str, value: &str) -> Result<(), KnloadError> {
    match written_port(value) {
        Some(p) => check_port(p, 1)
            .map(|_| ())
            .map_err(|d| KnloadError::usage(what, format!("`{}`: {d}", clip(value)))),
        None => Ok(()),
    }
}

/// Parses `knload serve --listen IP:PORT`; port 0 asks for a free port.
pub fn listen_addr(text: &str) -> Result<SocketAddr, KnloadError> {
    let bad = |d: String| KnloadError::usage("--listen", format!("`{}`: {d}", clip(text)));
    match written_port(text) {
        None => return Err(bad("expected IP:PORT, e.g. 127.0.0.1:8080".into())),
        Some(p) => {
            check_port(p, 0).map_err(bad)?;
        }
    }
    text.parse()
        .map_err(|_| bad("expected IP:PORT with a numeric IP, e.g. 127.0.0.1:8080".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port_of(url: &str) -> Result<u16, String> {
        url_port(&url.parse().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn ports_outside_1_to_65535_are_rejected_not_read_as_80() {
        for (url, needle) in [
            (
                "http://127.0.0.1:99999/",
                "port 99999 is out of range (1-65535)",
            ),
            ("http://127.0.0.1:65536/", "port 65536 is out of range"),
            ("http://127.0.0.1:165616/", "port 165616 is out of range"),
            ("http://127.0.0.1:0/", "port 0 is out of range"),
            ("http://127.0.0.1:99999999999999999999999/", "out of range"),
            ("http://[::1]:70000/", "port 70000 is out of range"),
            ("http://user:pw@127.0.0.1:65536/", "port 65536"),
            ("http://127.0.0.1:/", "empty"),
        ] {
            let e = port_of(url).expect_err(url);
            assert!(e.contains(needle), "{url}: {e}");
        }
    }

    #[test]
    fn ports_in_range_and_the_default_are_kept() {
        assert_eq!(port_of("http://127.0.0.1:65535/"), Ok(65535));
        assert_eq!(port_of("http://127.0.0.1:1/x"), Ok(1));
        assert_eq!(port_of("http://[::1]:8080/"), Ok(8080));
        assert_eq!(port_of("http://[::1]/"), Ok(80));
        assert_eq!(port_of("http://user:pw@example.com/"), Ok(80));
        assert_eq!(port_of("http://example.com/"), Ok(80));
        assert_eq!(port_of("https://example.com/"), Ok(443));
        assert_eq!(port_of("https://example.com:8443/"), Ok(8443));
    }

    #[test]
    fn host_values_and_listen_addresses_are_checked_too() {
        assert!(check_host("--host", "greeter.default.example.com").is_ok());
        assert!(check_host("--host", "greeter.example.com:8080").is_ok());
        let e = check_host("--host", "greeter.example.com:99999").unwrap_err();
        assert!(e.to_string().contains("port 99999 is out of range"), "{e}");
        assert_eq!(listen_addr("127.0.0.1:0").unwrap().port(), 0);
        let e = listen_addr("127.0.0.1:99999").unwrap_err().to_string();
        assert!(e.contains("port 99999 is out of range (0-65535)"), "{e}");
        assert!(listen_addr("127.0.0.1").is_err());
        assert!(listen_addr("localhost:80").is_err());
    }
}
