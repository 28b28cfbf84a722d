//! Updraft's local certificate authority: RequestCertificate's certificates are issued by it at
//! once (there is no domain to validate locally), and clients trust them by trusting its
//! certificate, served at `GET /_updraft/ca.pem` ([`CA_PATH`]).
//!
//! One CA per server, made on first use. With `--state-dir` its certificate and key are kept
//! there (`ca.pem`, `ca-key.pem`), so a restarted server issues under the CA clients already
//! trust.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

use crate::state::AppState;

/// Where the CA's certificate is served (no token needed: it is public).
pub const CA_PATH: &str = "/_updraft/ca.pem";

/// Days an issued certificate is valid (ACM's 395).
const ISSUED_DAYS: i64 = 395;
/// Years the CA is valid.
const CA_YEARS: i64 = 10;

/// The CA's certificate and key, as PEM.
#[derive(Debug, Clone)]
pub struct CaMaterial {
    /// The CA certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

/// The server's CA, made on first use (`state.tls.ca`).
#[derive(Debug, Default)]
pub struct CaCell(Mutex<Option<CaMaterial>>);

/// A certificate the CA issued.
#[derive(Debug)]
pub struct Issued {
    /// The leaf certificate.
    pub cert_pem: String,
    /// Its key (PKCS#8).
    pub key_pem: String,
    /// The CA certificate (the chain).
    pub chain_pem: String,
}

/// Why the CA could not do something (logged; clients see `InternalFailure`).
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// rcgen refused.
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    /// RSA key generation failed.
    #[error("RSA key generation: {0}")]
    Rsa(String),
    /// Reading or writing the state directory failed.
    #[error("CA files in {dir}: {source}")]
    Files {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl CaCell {
    /// The CA, made (or read from the state directory) on first use.
    pub fn get(&self, state: &AppState) -> Result<CaMaterial, CaError> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(ca) = slot.as_ref() {
            return Ok(ca.clone());
        }
        let dir = state.config.state_dir.as_deref();
        let ca = match dir.map(read_files).transpose()?.flatten() {
            Some(ca) => ca,
            None => {
                let ca = generate(state.clock.now())?;
                if let Some(dir) = dir {
                    write_files(dir, &ca)?;
                }
                tracing::info!("local certificate authority created");
                ca
            }
        };
        *slot = Some(ca.clone());
        Ok(ca)
    }
}

fn read_files(dir: &Path) -> Result<Option<CaMaterial>, CaError> {
    let read = |name: &str| match std::fs::read_to_string(dir.join(name)) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CaError::Files {
            dir: dir.to_owned(),
            source,
        }),
    };
    Ok(match (read("ca.pem")?, read("ca-key.pem")?) {
        (Some(cert_pem), Some(key_pem)) => Some(CaMaterial { cert_pem, key_pem }),
        _ => None,
    })
}

fn write_files(dir: &Path, ca: &CaMaterial) -> Result<(), CaError> {
    let err = |source| CaError::Files {
        dir: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    std::fs::write(dir.join("ca.pem"), &ca.cert_pem).map_err(err)?;
    let key_path = dir.join("ca-key.pem");
    std::fs::write(&key_path, &ca.key_pem).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    Ok(())
}

fn at(epoch: f64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(epoch as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f; // a positive INTEGER
    SerialNumber::from_slice(&bytes)
}

/// A new CA (ECDSA P-256) valid from a day before `now`.
fn generate(now: f64) -> Result<CaMaterial, CaError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let tag: u32 = rand::random();
    params
        .distinguished_name
        .push(DnType::CommonName, format!("Updraft Local CA {tag:08x}"));
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Updraft");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = at(now - 86_400.0);
    params.not_after = at(now + CA_YEARS as f64 * 365.0 * 86_400.0);
    params.serial_number = Some(random_serial());
    let cert = params.self_signed(&key)?;
    Ok(CaMaterial {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A key for ACM's `KeyAlgorithm` (RSA_2048 when none is given, as ACM).
fn leaf_key(algorithm: &str) -> Result<KeyPair, CaError> {
    match algorithm {
        "EC_prime256v1" => Ok(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?),
        "EC_secp384r1" => Ok(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?),
        _ => {
            // ring signs with RSA keys but cannot make them: the rsa crate does.
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .map_err(|e| CaError::Rsa(e.to_string()))?;
            let der = key
                .to_pkcs8_der()
                .map_err(|e| CaError::Rsa(e.to_string()))?;
            Ok(KeyPair::try_from(der.as_bytes())?)
        }
    }
}

/// Issue a server certificate for `names` (the first is the common name) under `ca`.
pub fn issue(
    ca: &CaMaterial,
    names: &[String],
    key_algorithm: &str,
    now: f64,
) -> Result<Issued, CaError> {
    let ca_key = KeyPair::from_pem(&ca.key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, ca_key)?;
    let key = leaf_key(key_algorithm)?;
    let mut params = CertificateParams::new(names.to_vec())?;
    if let Some(first) = names.first() {
        params
            .distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    // A few minutes' slack for clocks a little behind the server's.
    params.not_before = at(now - 300.0);
    params.not_after = at(now + ISSUED_DAYS as f64 * 86_400.0);
    params.serial_number = Some(random_serial());
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        chain_pem: ca.cert_pem.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::acm::x509;

    #[test]
    fn issued_certificates_chain_to_the_ca() {
        let now = 1_800_000_000.0;
        let ca = generate(now).unwrap();
        let names = vec!["a.example.test".to_owned(), "*.b.example.test".to_owned()];
        let issued = issue(&ca, &names, "EC_prime256v1", now).unwrap();
        let (der, info) = x509::certificate(issued.cert_pem.as_bytes()).unwrap();
        assert_eq!(info.domain_name, "a.example.test");
        assert_eq!(info.names, names);
        assert!(info.issuer.contains("Updraft Local CA"), "{}", info.issuer);
        assert_eq!(info.not_after - now, ISSUED_DAYS as f64 * 86_400.0);
        let key = x509::private_key(issued.key_pem.as_bytes()).unwrap();
        assert!(x509::certified_key(vec![der.clone()], &key).is_ok());
        // A verifier that trusts only the CA accepts the leaf for its names.
        let mut roots = rustls::RootCertStore::empty();
        let (ca_der, _) = x509::certificate(ca.cert_pem.as_bytes()).unwrap();
        roots.add(ca_der).unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            std::sync::Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap();
        use rustls::client::danger::ServerCertVerifier;
        let name = rustls::pki_types::ServerName::try_from("x.b.example.test").unwrap();
        let when = rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            now as u64 + 60,
        ));
        assert!(
            verifier
                .verify_server_cert(&der, &[], &name, &[], when)
                .is_ok()
        );
    }
}
