//! Reading PEM certificates and private keys: what ACM and IAM show of a certificate (names,
//! validity, serial, algorithms) and the check that a key belongs to its certificate.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertInfo {
    /// The subject's common name, else the first DNS name.
    pub domain_name: String,
    /// Every DNS name (subject alternative names), the domain name first.
    pub names: Vec<String>,
    /// Colon-separated lower-case hex, as ACM shows it.
    pub serial: String,
    /// Subject distinguished name (`CN=…`).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Validity, epoch seconds.
    pub not_before: f64,
    /// Validity, epoch seconds.
    pub not_after: f64,
    /// ACM's output form: `RSA-2048`, `EC-prime256v1`, …
    pub key_algorithm: String,
    /// `SHA256WITHRSA`, `SHA256WITHECDSA`, …
    pub signature_algorithm: String,
}

impl CertInfo {
    /// The ListCertificates filter name of the key algorithm (`RSA_2048`, `EC_prime256v1`).
    pub fn key_type(&self) -> String {
        self.key_algorithm.replace('-', "_")
    }
}

/// Every certificate in a PEM text, in order.
pub fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    certs.map_err(|e| format!("the PEM text does not hold certificates ({e})"))
}

/// The one certificate of a PEM text and what it says.
pub fn certificate(pem: &[u8]) -> Result<(CertificateDer<'static>, CertInfo), String> {
    let mut certs = certificates(pem)?;
    match certs.len() {
        0 => Err("no certificate found in the PEM text".into()),
        1 => {
            let der = certs.remove(0);
            let info = info(&der)?;
            Ok((der, info))
        }
        n => Err(format!(
            "the certificate field holds {n} certificates: put the chain in CertificateChain"
        )),
    }
}

/// A PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
pub fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("the private key is not valid ({e})"))
}

/// The certificate chain and key as rustls serves them; fails when the key does not belong to
/// the certificate or is of an unsupported kind.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: &PrivateKeyDer<'static>,
) -> Result<Arc<rustls::sign::CertifiedKey>, String> {
    let signer = rustls::crypto::ring::sign::any_supported_type(key)
        .map_err(|e| format!("the private key is not supported ({e})"))?;
    let certified = rustls::sign::CertifiedKey::new(chain, signer);
    certified
        .keys_match()
        .map_err(|_| "the private key does not match the certificate".to_owned())?;
    Ok(Arc::new(certified))
}

/// Read what a DER certificate says.
pub fn info(der: &CertificateDer<'_>) -> Result<CertInfo, String> {
    let (_, cert) = X509Certificate::from_der(der.as_ref())
        .map_err(|e| format!("the certificate cannot be parsed ({e})"))?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if let GeneralName::DNSName(d) = n {
                names.push(d.to_ascii_lowercase());
            }
        }
    }
    let domain_name = common_name
        .clone()
        .or_else(|| names.first().cloned())
        .unwrap_or_default();
    if !domain_name.is_empty() && !names.contains(&domain_name.to_ascii_lowercase()) {
        names.insert(0, domain_name.to_ascii_lowercase());
    } else if let Some(i) = names.iter().position(|n| *n == domain_name) {
        let first = names.remove(i);
        names.insert(0, first);
    }
    let key_algorithm = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA-{}", rsa.key_size()),
        Ok(PublicKey::EC(ec)) => match ec.key_size() {
            256 => "EC-prime256v1".to_owned(),
            384 => "EC-secp384r1".to_owned(),
            _ => "EC-secp521r1".to_owned(),
        },
        _ => return Err("the certificate's key algorithm is not supported".into()),
    };
    let signature_algorithm = match cert.signature_algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.5" => "SHA1WITHRSA",
        "1.2.840.113549.1.1.11" => "SHA256WITHRSA",
        "1.2.840.113549.1.1.12" => "SHA384WITHRSA",
        "1.2.840.113549.1.1.13" => "SHA512WITHRSA",
        "1.2.840.10045.4.3.2" => "SHA256WITHECDSA",
        "1.2.840.10045.4.3.3" => "SHA384WITHECDSA",
        "1.2.840.10045.4.3.4" => "SHA512WITHECDSA",
        _ => "UNKNOWN",
    }
    .to_owned();
    let validity = cert.validity();
    Ok(CertInfo {
        domain_name,
        names,
        serial: cert.raw_serial_as_string().to_ascii_lowercase(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: validity.not_before.timestamp() as f64,
        not_after: validity.not_after.timestamp() as f64,
        key_algorithm,
        signature_algorithm,
    })
}

/// Whether a certificate name (`example.com`, `*.example.com`) covers a host name.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    match pattern.strip_prefix("*.") {
        // A wildcard covers exactly one label.
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(parent)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("a.example.com", "A.example.com"));
        assert!(name_matches("*.example.com", "www.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
    }

    #[test]
    fn reads_a_generated_certificate_and_checks_its_key() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["www.example.com".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "example.com");
        let cert = params.self_signed(&key).unwrap();
        let (der, info) = certificate(cert.pem().as_bytes()).unwrap();
        assert_eq!(info.domain_name, "example.com");
        assert_eq!(info.names, ["example.com", "www.example.com"]);
        assert_eq!(info.key_algorithm, "EC-prime256v1");
        assert_eq!(info.signature_algorithm, "SHA256WITHECDSA");
        assert_eq!(info.key_type(), "EC_prime256v1");
        let pk = private_key(key.serialize_pem().as_bytes()).unwrap();
        assert!(certified_key(vec![der.clone()], &pk).is_ok());
        let other = rcgen::KeyPair::generate().unwrap();
        let wrong = private_key(other.serialize_pem().as_bytes()).unwrap();
        assert!(certified_key(vec![der], &wrong).is_err());
        let two = format!("{}{}", cert.pem(), cert.pem());
        assert!(certificate(two.as_bytes()).is_err());
        assert!(certificate(b"not pem").is_err());
    }
}
