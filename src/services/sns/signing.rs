//! Message signatures, so that libraries verifying SNS messages can check Updraft's.
//!
//! AWS signs each HTTP(S) and e-mail-json message with the key of an X.509 certificate it
//! serves at `SigningCertURL`: the string to sign is the message's fields as `Key\nValue\n`
//! lines in a fixed order, signed with RSA PKCS#1 v1.5 over SHA-1 (`SignatureVersion` 1, the
//! default) or SHA-256 (2), base64-encoded ([AWS: "Verifying the signatures of Amazon SNS
//! messages"](https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html)).
//! Updraft makes one 2048-bit key and a self-signed certificate for it per process, on first
//! use, and serves the certificate at `/_updraft/sns/SimpleNotificationService-updraft.pem`.
//! Verifiers that pin the certificate host to `sns.<region>.amazonaws.com` must be told to
//! accept Updraft's URL.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::EncodePublicKey;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::base_url;
use crate::state::AppState;

/// The path the certificate is served at.
pub const CERT_PATH: &str = "/_updraft/sns/SimpleNotificationService-updraft.pem";

/// DER `DigestInfo` prefixes of PKCS#1 v1.5 signatures (RFC 8017, section 9.2, note 1).
const SHA1_PREFIX: &[u8] = &[
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
const SHA256_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

struct Signer {
    key: RsaPrivateKey,
    pem: String,
}

static SIGNER: OnceLock<Option<Signer>> = OnceLock::new();

fn signer() -> Option<&'static Signer> {
    SIGNER
        .get_or_init(|| match make_signer() {
            Ok(s) => Some(s),
            Err(err) => {
                tracing::error!(error = %err, "could not make the SNS signing key; messages go unsigned");
                None
            }
        })
        .as_ref()
}

/// The `SigningCertURL` of this server.
pub fn cert_url(state: &AppState) -> String {
    format!("{}{CERT_PATH}", base_url(state))
}

/// The certificate, PEM-encoded.
pub fn certificate_pem() -> Option<&'static str> {
    signer().map(|s| s.pem.as_str())
}

/// The base64 signature of `to_sign` for `version` ("1" = SHA1withRSA, "2" = SHA256withRSA).
pub fn sign(version: &str, to_sign: &str) -> Option<String> {
    let signer = signer()?;
    let digest_info = if version == "2" {
        [SHA256_PREFIX, &Sha256::digest(to_sign.as_bytes())].concat()
    } else {
        [SHA1_PREFIX, &Sha1::digest(to_sign.as_bytes())].concat()
    };
    match signer
        .key
        .sign(Pkcs1v15Sign::new_unprefixed(), &digest_info)
    {
        Ok(sig) => Some(BASE64.encode(sig)),
        Err(err) => {
            tracing::error!(error = %err, "signing failed; message goes unsigned");
            None
        }
    }
}

/// The signing key (PKCS#8 PEM) and its certificate (PEM), if this process made or loaded
/// them (snapshots keep them, so a restarted server signs as before).
pub fn saved() -> Option<(String, String)> {
    use rsa::pkcs8::EncodePrivateKey;
    let signer = SIGNER.get()?.as_ref()?;
    let key = signer.key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).ok()?;
    Some((key.to_string(), signer.pem.clone()))
}

/// Sign with a saved key and certificate from now on; false when this process already has
/// a key (messages already went out signed with it) or the key does not parse.
pub fn install(key_pem: &str, cert_pem: &str) -> bool {
    use rsa::pkcs8::DecodePrivateKey;
    let Ok(key) = RsaPrivateKey::from_pkcs8_pem(key_pem) else {
        return false;
    };
    SIGNER
        .set(Some(Signer {
            key,
            pem: cert_pem.to_owned(),
        }))
        .is_ok()
}

fn make_signer() -> Result<Signer, String> {
    let mut rng = rsa::rand_core::OsRng;
    let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| e.to_string())?;
    let der = self_signed_certificate(&key)?;
    Ok(Signer {
        key,
        pem: pem("CERTIFICATE", &der),
    })
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// One DER TLV.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// `CN=<cn>` as an X.501 Name.
fn name(cn: &str) -> Vec<u8> {
    const CN_OID: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
    let attr = seq(&[CN_OID, &tlv(0x0c, cn.as_bytes())]);
    seq(&[&tlv(0x31, &attr)])
}

/// A self-signed X.509 v3 certificate for `key`, signed with SHA256withRSA.
fn self_signed_certificate(key: &RsaPrivateKey) -> Result<Vec<u8>, String> {
    const SHA256_WITH_RSA: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
    ];
    let spki = RsaPublicKey::from(key)
        .to_public_key_der()
        .map_err(|e| e.to_string())?;
    let mut serial: [u8; 8] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x01; // positive and minimal
    let issuer = name("sns.updraft.localhost");
    // A fixed validity: the certificate is not an event and must outlive any virtual clock.
    let validity = seq(&[&tlv(0x17, b"200101000000Z"), &tlv(0x17, b"491231235959Z")]);
    let tbs = seq(&[
        &[0xa0, 0x03, 0x02, 0x01, 0x02], // [0] version v3
        &tlv(0x02, &serial),
        SHA256_WITH_RSA,
        &issuer,
        &validity,
        &issuer,
        spki.as_bytes(),
    ]);
    let digest_info = [SHA256_PREFIX, &Sha256::digest(&tbs)].concat();
    let signature = key
        .sign(Pkcs1v15Sign::new_unprefixed(), &digest_info)
        .map_err(|e| e.to_string())?;
    let mut bits = vec![0u8]; // no unused bits
    bits.extend(signature);
    Ok(seq(&[&tbs, SHA256_WITH_RSA, &tlv(0x03, &bits)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_use_the_long_form_past_127() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = tlv(0x04, &[0; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &[0; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn signatures_verify_against_the_certificate_key() {
        let signer = signer().expect("key");
        assert!(signer.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        let public = RsaPublicKey::from(&signer.key);
        for (version, prefix, digest) in [
            ("1", SHA1_PREFIX, Sha1::digest(b"Message\nhi\n").to_vec()),
            (
                "2",
                SHA256_PREFIX,
                Sha256::digest(b"Message\nhi\n").to_vec(),
            ),
        ] {
            let sig = BASE64
                .decode(sign(version, "Message\nhi\n").unwrap())
                .unwrap();
            let info = [prefix, &digest].concat();
            public
                .verify(Pkcs1v15Sign::new_unprefixed(), &info, &sig)
                .expect("verifies");
        }
    }
}
