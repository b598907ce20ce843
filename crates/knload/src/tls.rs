//! TLS at both ends, with rustls and the ring provider. The client verifies
//! the target's certificate against the bundled Mozilla roots (plus the CAs
//! of `--cacert`), or not at all with `--insecure`; it names the server by the
//! Host it sends (SNI) and offers one protocol by ALPN. `knload serve --tls`
//! answers with a self-signed certificate generated at start.

use super::error::{clip, KnloadError, RequestError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// ALPN name of HTTP/2.
pub const ALPN_H2: &[u8] = b"h2";
/// ALPN name of HTTP/1.1.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// How the client treats the target's certificate, as given on the command
/// line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Skip verification (`--insecure`).
    pub insecure: bool,
    /// A PEM file of CA certificates trusted besides the Mozilla roots
    /// (`--cacert`).
    pub cacert: Option<PathBuf>,
}

/// Reads the CA certificates of a PEM file. An unreadable file is an I/O
/// error; a file without a usable certificate is bad input.
pub fn read_cacert(path: &Path) -> Result<Vec<CertificateDer<'static>>, KnloadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| KnloadError::Io {
        path: shown.clone(),
        source: e,
    })?;
    let bad = |d: String| KnloadError::usage("--cacert", format!("{}: {d}", clip(&shown)));
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM file of certificates ({e})")))?;
    if certs.is_empty() {
        return Err(bad(
            "no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certs)
}

/// The client side of TLS for one run: the configuration (shared by every
/// connection) and the name the certificate must carry.
#[derive(Clone)]
pub struct ClientTls {
    connector: tokio_rustls::TlsConnector,
    /// The name verified and sent as SNI (an IP address is verified but,
    /// as the TLS standard says, not sent).
    pub server_name: ServerName<'static>,
    /// Whether HTTP/2 is offered by ALPN (else HTTP/1.1).
    pub h2: bool,
    /// Whether the certificate is verified (not `--insecure`).
    pub verify: bool,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .field("h2", &self.h2)
            .field("verify", &self.verify)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Builds the configuration: `host` is the Host sent (a port after it is
    /// left out of the name), `h2` selects the protocol offered by ALPN.
    pub fn new(opts: &TlsOptions, host: &str, h2: bool) -> Result<Self, KnloadError> {
        let name = host_name(host);
        let server_name = ServerName::try_from(name.to_string()).map_err(|_| {
            KnloadError::usage(
                "--host",
                format!("`{}` is not a name a certificate can carry", clip(name)),
            )
        })?;
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions");
        let mut config = if opts.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            if let Some(path) = &opts.cacert {
                for (i, cert) in read_cacert(path)?.into_iter().enumerate() {
                    roots.add(cert).map_err(|e| {
                        KnloadError::usage(
                            "--cacert",
                            format!(
                                "{}: certificate {} cannot be a trust anchor: {e}",
                                clip(&path.display().to_string()),
                                i + 1
                            ),
                        )
                    })?;
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        config.alpn_protocols = vec![if h2 { ALPN_H2 } else { ALPN_HTTP1 }.to_vec()];
        Ok(ClientTls {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name,
            h2,
            verify: !opts.insecure,
        })
    }

    /// Runs the handshake on a connected stream within `timeout`. With h2
    /// the server must agree to it by ALPN: a server that falls back to
    /// HTTP/1.1 would otherwise answer an HTTP/2 preface with garbage.
    pub async fn handshake(
        &self,
        tcp: TcpStream,
        timeout: Duration,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, RequestError> {
        let tls = tokio::time::timeout(
            timeout,
            self.connector.connect(self.server_name.clone(), tcp),
        )
        .await
        .map_err(|_| RequestError::ConnectTimeout)?
        .map_err(|e| RequestError::Tls {
            detail: handshake_error(&e),
        })?;
        if self.h2 && tls.get_ref().1.alpn_protocol() != Some(ALPN_H2) {
            return Err(RequestError::Tls {
                detail: "the server did not accept HTTP/2 by ALPN".into(),
            });
        }
        Ok(tls)
    }
}

/// The host part of a Host value: no port, no IPv6 brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// rustls' own message when there is one ("invalid peer certificate:
/// UnknownIssuer"), else the I/O error's.
fn handshake_error(e: &std::io::Error) -> String {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map_or_else(|| e.to_string(), rustls::Error::to_string)
}

/// What to do about a failed handshake, when something is known: how to
/// trust a certificate, or that the server does not speak HTTP/2 over TLS
/// (it either says so with an alert or chooses no protocol by ALPN).
pub fn handshake_hint(detail: &str, verify: bool) -> &'static str {
    if detail.contains("NoApplicationProtocol") || detail.contains("HTTP/2 by ALPN") {
        "; the server does not speak HTTP/2 over TLS: leave out --http2 and --h2-streams"
    } else if !verify || !detail.contains("certificate") {
        ""
    } else if detail.contains("not valid for name") {
        "; set --host to a name it carries, or pass --insecure to skip verification"
    } else {
        "; to trust a private CA or a self-signed certificate pass --cacert FILE (PEM), or \
         --insecure to skip verification"
    }
}

/// `--insecure`: any certificate chain and name are accepted, but the
/// handshake signatures are still checked, so the server must hold the key
/// of the certificate it shows.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A freshly generated self-signed certificate and the server configuration
/// that presents it, offering HTTP/2 and HTTP/1.1 by ALPN.
pub struct ServerTls {
    /// The certificate in PEM, for clients to trust with `--cacert`.
    pub certificate_pem: String,
    /// The acceptor wrapping accepted connections.
    pub acceptor: tokio_rustls::TlsAcceptor,
}

impl ServerTls {
    /// Generates a key and a certificate valid for `localhost`, 127.0.0.1,
    /// ::1, the listen address (when it is a specific one) and `names`.
    pub fn generate(listen: IpAddr, names: &[String]) -> Result<Self, KnloadError> {
        let mut sans: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        let listen = (!listen.is_unspecified()).then(|| listen.to_string());
        for name in listen.iter().chain(names) {
            if !sans.contains(name) {
                sans.push(name.clone());
            }
        }
        let bad = |e: rcgen::Error| KnloadError::usage("--tls-name", e.to_string());
        let key = rcgen::KeyPair::generate().map_err(bad)?;
        let mut params = rcgen::CertificateParams::new(sans).map_err(bad)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "knload serve");
        let cert = params.self_signed(&key).map_err(bad)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key_der)
            .map_err(|e| KnloadError::usage("--tls", e.to_string()))?;
        config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()];
        Ok(ServerTls {
            certificate_pem: cert.pem(),
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_name_is_the_host_without_its_port() {
        assert_eq!(host_name("greeter.example.com:8443"), "greeter.example.com");
        assert_eq!(host_name("greeter.example.com"), "greeter.example.com");
        assert_eq!(host_name("[::1]:8443"), "::1");
        assert_eq!(host_name("127.0.0.1:1"), "127.0.0.1");
        let t = ClientTls::new(&TlsOptions::default(), "[::1]:8443", true).unwrap();
        assert!(matches!(t.server_name, ServerName::IpAddress(_)));
        let t = ClientTls::new(&TlsOptions::default(), "a.example.com:1", false).unwrap();
        assert_eq!(t.server_name.to_str(), "a.example.com");
        assert!(ClientTls::new(&TlsOptions::default(), "a b", false).is_err());
    }

    #[test]
    fn a_cacert_file_must_hold_a_pem_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = read_cacert(&empty).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(
            text.contains("--cacert") && text.contains("empty.pem") && text.contains("BEGIN"),
            "{text}"
        );
        let e = read_cacert(&dir.path().join("missing.pem")).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("missing.pem"), "{e}");
        let good = dir.path().join("ca.pem");
        let server = ServerTls::generate("127.0.0.1".parse().unwrap(), &[]).unwrap();
        std::fs::write(&good, &server.certificate_pem).unwrap();
        assert_eq!(read_cacert(&good).unwrap().len(), 1);
    }
}
