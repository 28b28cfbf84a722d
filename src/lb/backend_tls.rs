//! TLS from a load balancer to its instances or targets: the client side of the connections a
//! load balancer opens when the back end speaks HTTPS, SSL or TLS (Classic `InstanceProtocol`
//! HTTPS/SSL, an ALB target group's `Protocol: HTTPS`, an NLB target group's `Protocol: TLS`),
//! for traffic and for health checks alike.
//!
//! What is checked, as AWS does:
//! - ALB and NLB accept whatever certificate the target presents: self-signed or expired, any
//!   name ("the load balancer doesn't validate the certificate" — ALB guide, "Target groups",
//!   routing configuration; NLB guide, "TLS listeners").
//! - Classic ELB accepts any certificate, unless the instance port has a
//!   `BackendServerAuthenticationPolicyType` policy: then the instance's certificate must carry
//!   one of the public keys of that policy's `PublicKeyPolicyType` policies (CLB guide,
//!   "Configure back-end server authentication"). A `PublicKey` value is read as base64 (PEM
//!   armour and line breaks allowed) of either the SubjectPublicKeyInfo (`openssl x509 -pubkey`)
//!   or a whole certificate (whose key is then taken).
//!
//! Signatures in the handshake are still verified (the target proves it holds the key of the
//! certificate it sent). The target is named by its IP address, so no SNI is sent.
//!
//! A simulated instance has no socket: its built-in web server is in process, so a request or
//! flow "over TLS" to it is handed over as already decrypted (there is nothing in between to
//! encrypt for), and its health checks answer as for HTTP/TCP.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};

/// The TLS a load balancer speaks to a back end (shared; cheap to clone).
pub type BackendTls = Arc<ClientConfig>;

/// Pinned configurations kept at most (cleared when full).
const CACHE_LIMIT: usize = 64;

/// Accepts any certificate (optionally only those with one of `keys`), checking handshake
/// signatures.
#[derive(Debug)]
struct TargetVerifier {
    algorithms: WebPkiSupportedAlgorithms,
    /// SubjectPublicKeyInfo DER the certificate must carry; empty: any.
    keys: Vec<Vec<u8>>,
}

impl ServerCertVerifier for TargetVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.keys.is_empty() {
            return Ok(ServerCertVerified::assertion());
        }
        match spki_of_certificate(end_entity) {
            Some(spki) if self.keys.contains(&spki) => Ok(ServerCertVerified::assertion()),
            _ => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn config(keys: Vec<Vec<u8>>) -> BackendTls {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = TargetVerifier {
        algorithms: provider.signature_verification_algorithms,
        keys,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // The ring provider supports the default versions: this cannot fail.
        .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"));
    Arc::new(
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
    )
}

/// TLS that accepts any certificate the back end presents (ALB, NLB, and Classic without
/// back-end authentication).
pub fn accept_any() -> BackendTls {
    static ANY: OnceLock<BackendTls> = OnceLock::new();
    ANY.get_or_init(|| config(Vec::new())).clone()
}

/// TLS that accepts only a certificate carrying one of `public_keys` (Classic back-end server
/// authentication; values as `PublicKeyPolicyType`'s `PublicKey`). Values that cannot be read
/// match nothing; with none readable, no certificate is accepted.
pub fn pinned(public_keys: &[String]) -> BackendTls {
    static CACHE: OnceLock<Mutex<HashMap<Vec<String>, BackendTls>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let key = public_keys.to_vec();
    if let Some(c) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return c.clone();
    }
    let mut spkis: Vec<Vec<u8>> = public_keys.iter().filter_map(|k| read_key(k)).collect();
    if spkis.is_empty() {
        // Nothing can match (an empty list would mean "any").
        spkis.push(Vec::new());
    }
    let built = config(spkis);
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.insert(key, built.clone());
    built
}

/// The SubjectPublicKeyInfo DER a `PublicKey` value names.
fn read_key(value: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let body: String = value
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .ok()?;
    Some(spki_of_certificate(&CertificateDer::from(der.as_slice())).unwrap_or(der))
}

/// The SubjectPublicKeyInfo of a DER certificate.
pub fn spki_of_certificate(der: &CertificateDer<'_>) -> Option<Vec<u8>> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    Some(cert.tbs_certificate.subject_pki.raw.to_vec())
}

/// Open TLS over `stream` to the back end at `ip`.
pub async fn handshake<S>(
    stream: S,
    ip: IpAddr,
    config: BackendTls,
) -> std::io::Result<tokio_rustls::client::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::IpAddress(ip.into()), stream)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_are_read_from_keys_or_certificates() {
        use base64::Engine as _;
        let kp = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["t.test".to_owned()])
            .unwrap()
            .self_signed(&kp)
            .unwrap();
        let spki = spki_of_certificate(cert.der()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        // `openssl x509 -pubkey -noout`: PEM of the key; the armour may stay.
        assert_eq!(read_key(&kp.public_key_pem()), Some(spki.clone()));
        assert_eq!(read_key(&b64.encode(&spki)), Some(spki.clone()));
        // A whole certificate stands for its key.
        assert_eq!(read_key(&b64.encode(cert.der())), Some(spki));
        assert_eq!(read_key("not base64!"), None);
    }
}
