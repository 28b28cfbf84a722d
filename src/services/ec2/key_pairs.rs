//! Key pairs: CreateKeyPair (a real RSA-2048 or ED25519 key, returned once, never kept),
//! ImportKeyPair (OpenSSH public keys), DescribeKeyPairs, DeleteKeyPair.
//!
//! Fingerprints follow AWS: a created RSA key's is the SHA-1 of its PKCS#8 DER private key, an
//! imported RSA key's the MD5 of its DER public key, and an ED25519 key's the base64 SHA-256
//! of its OpenSSH public key blob.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::errors::{Ec2Error, invalid, missing};
use super::filters::{self, Filter};
use super::store::KeyPair;
use super::{
    Tag, TagSpecification, dry_run_ok, spec_tags, tag_filter_values, tag_list, with_store,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::state::{AppState, Topic};

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn ssh_mpint(out: &mut Vec<u8>, bytes: &[u8]) {
    let trimmed: &[u8] = {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        &bytes[start..]
    };
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        let mut padded = vec![0u8];
        padded.extend_from_slice(trimmed);
        ssh_string(out, &padded);
    } else {
        ssh_string(out, trimmed);
    }
}

/// A generated key: (private key PEM, OpenSSH public key line, fingerprint).
type Generated = (String, String, String);

fn internal(err: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %err, "key generation failed");
    ApiError::internal()
}

fn generate_rsa(name: &str) -> Result<Generated, ApiError> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(internal)?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(internal)?
        .to_string();
    let der = key.to_pkcs8_der().map_err(internal)?;
    let fingerprint = colon_hex(&Sha1::digest(der.as_bytes()));
    let mut blob = Vec::new();
    ssh_string(&mut blob, b"ssh-rsa");
    ssh_mpint(&mut blob, &key.e().to_bytes_be());
    ssh_mpint(&mut blob, &key.n().to_bytes_be());
    Ok((
        pem,
        format!("ssh-rsa {} {name}", B64.encode(&blob)),
        fingerprint,
    ))
}

fn ed25519_blob(public: &[u8; 32]) -> Vec<u8> {
    let mut blob = Vec::new();
    ssh_string(&mut blob, b"ssh-ed25519");
    ssh_string(&mut blob, public);
    blob
}

/// An ED25519 key in the OpenSSH private key format, as AWS returns it.
fn generate_ed25519(name: &str) -> Generated {
    let seed: [u8; 32] = rand::random();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = key.verifying_key().to_bytes();
    let blob = ed25519_blob(&public);
    let check: u32 = rand::random();
    let mut private = Vec::new();
    private.extend_from_slice(&check.to_be_bytes());
    private.extend_from_slice(&check.to_be_bytes());
    ssh_string(&mut private, b"ssh-ed25519");
    ssh_string(&mut private, &public);
    let mut secret = seed.to_vec();
    secret.extend_from_slice(&public);
    ssh_string(&mut private, &secret);
    ssh_string(&mut private, name.as_bytes());
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut body = b"openssh-key-v1\0".to_vec();
    ssh_string(&mut body, b"none");
    ssh_string(&mut body, b"none");
    ssh_string(&mut body, b"");
    body.extend_from_slice(&1u32.to_be_bytes());
    ssh_string(&mut body, &blob);
    ssh_string(&mut body, &private);
    let encoded = B64.encode(&body);
    let mut pem = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for chunk in encoded.as_bytes().chunks(70) {
        pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    let fingerprint = B64.encode(Sha256::digest(&blob));
    (
        pem,
        format!("ssh-ed25519 {} {name}", B64.encode(&blob)),
        fingerprint,
    )
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 255 || !name.is_ascii() {
        return Err(invalid(format!(
            "Value ({name}) for parameter keyName is invalid. Length exceeds maximum of 255 ASCII characters."
        )));
    }
    Ok(())
}

/// CreateKeyPair's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateKeyPairRequest {
    key_name: String,
    key_type: Option<String>,
    key_format: Option<String>,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// A key pair about to be stored.
struct NewKey<'a> {
    name: &'a str,
    key_type: &'a str,
    fingerprint: String,
    public_key: String,
    tags: Vec<(String, String)>,
}

/// `KeyPair` (CreateKeyPair's output).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyPairOut {
    key_pair_id: String,
    tags: Vec<Tag>,
    key_name: String,
    key_fingerprint: String,
    key_material: String,
}

/// `ImportKeyPairResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyPairOut {
    key_fingerprint: String,
    key_name: String,
    key_pair_id: String,
    tags: Vec<Tag>,
}

/// Store a key pair (unless its name is taken); returns its id and output tags.
fn insert(
    ctx: &RequestContext,
    state: &AppState,
    key: NewKey<'_>,
    dry_run: bool,
) -> Result<(String, Vec<Tag>), ApiError> {
    let now = state.clock.now();
    let NewKey {
        name,
        key_type,
        fingerprint,
        public_key,
        tags,
    } = key;
    let out = with_store(ctx, state, |s| {
        if s.key_pairs.contains_key(name) {
            return Err(Ec2Error::InvalidKeyPairDuplicate
                .with(format!("The keypair '{name}' already exists.")));
        }
        if dry_run {
            return Err(dry_run_ok());
        }
        let id = state.ids.resource("key");
        s.key_pairs.insert(
            name.to_owned(),
            KeyPair {
                id: id.clone(),
                name: name.to_owned(),
                key_type: key_type.to_owned(),
                fingerprint,
                public_key,
                create_time: now,
            },
        );
        s.set_tags(&id, tags);
        Ok((id.clone(), tag_list(s.tags_of(&id))))
    })?;
    state.touched(Topic::Ec2);
    Ok(out)
}

/// CreateKeyPair.
pub fn create_key_pair(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateKeyPairRequest,
) -> Result<CreateKeyPairOut, ApiError> {
    check_name(&req.key_name)?;
    let key_type = req.key_type.clone().unwrap_or_else(|| "rsa".into());
    if req.key_format.as_deref().is_some_and(|f| f != "pem") {
        return Err(invalid("Updraft creates keys in the 'pem' format only."));
    }
    let tags = spec_tags(&req.tag_specifications, "key-pair")?;
    // Fail fast on a duplicate before the (slow) key generation; `insert` checks again.
    let exists = with_store(ctx, state, |s| s.key_pairs.contains_key(&req.key_name));
    if exists {
        return Err(Ec2Error::InvalidKeyPairDuplicate
            .with(format!("The keypair '{}' already exists.", req.key_name)));
    }
    if req.dry_run {
        return Err(dry_run_ok());
    }
    let (material, public_key, fingerprint) = match key_type.as_str() {
        "rsa" => generate_rsa(&req.key_name)?,
        "ed25519" => generate_ed25519(&req.key_name),
        other => {
            return Err(invalid(format!(
                "Value ({other}) for parameter keyType is invalid."
            )));
        }
    };
    let key = NewKey {
        name: &req.key_name,
        key_type: &key_type,
        fingerprint: fingerprint.clone(),
        public_key,
        tags,
    };
    let (key_pair_id, tags) = insert(ctx, state, key, false)?;
    Ok(CreateKeyPairOut {
        key_pair_id,
        tags,
        key_name: req.key_name,
        key_fingerprint: fingerprint,
        key_material: material,
    })
}

/// Parse an OpenSSH public key line: (key type, fingerprint as AWS computes it for imports).
fn parse_openssh_public(text: &str) -> Option<(&'static str, String)> {
    let mut parts = text.split_whitespace();
    let kind = parts.next()?;
    let blob = B64.decode(parts.next()?).ok()?;
    let mut rest = blob.as_slice();
    let mut read = || -> Option<Vec<u8>> {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let value = rest.get(4..4 + len)?.to_vec();
        rest = &rest[4 + len..];
        Some(value)
    };
    if read()? != kind.as_bytes() {
        return None;
    }
    match kind {
        "ssh-rsa" => {
            use rsa::pkcs8::EncodePublicKey;
            let e = rsa::BigUint::from_bytes_be(&read()?);
            let n = rsa::BigUint::from_bytes_be(&read()?);
            let key = rsa::RsaPublicKey::new(n, e).ok()?;
            let der = key.to_public_key_der().ok()?;
            Some(("rsa", colon_hex(&Md5::digest(der.as_bytes()))))
        }
        "ssh-ed25519" => {
            let public = read()?;
            (public.len() == 32).then(|| ("ed25519", B64.encode(Sha256::digest(&blob))))
        }
        _ => None,
    }
}

/// ImportKeyPair's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImportKeyPairRequest {
    key_name: String,
    public_key_material: String,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// ImportKeyPair (OpenSSH `ssh-rsa` / `ssh-ed25519` public keys).
pub fn import_key_pair(
    ctx: &RequestContext,
    state: &AppState,
    req: ImportKeyPairRequest,
) -> Result<ImportKeyPairOut, ApiError> {
    check_name(&req.key_name)?;
    let invalid =
        || Ec2Error::InvalidKeyFormat.with("Key is not in valid OpenSSH public key format");
    let text = B64
        .decode(req.public_key_material.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(text).map_err(|_| invalid())?;
    let (key_type, fingerprint) = parse_openssh_public(text.trim()).ok_or_else(invalid)?;
    let tags = spec_tags(&req.tag_specifications, "key-pair")?;
    let public = text.trim().to_owned();
    let key = NewKey {
        name: &req.key_name,
        key_type,
        fingerprint: fingerprint.clone(),
        public_key: public,
        tags,
    };
    let (key_pair_id, tags) = insert(ctx, state, key, req.dry_run)?;
    Ok(ImportKeyPairOut {
        key_fingerprint: fingerprint,
        key_name: req.key_name,
        key_pair_id,
        tags,
    })
}

/// DescribeKeyPairs's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeKeyPairsRequest {
    key_names: Vec<String>,
    key_pair_ids: Vec<String>,
    include_public_key: bool,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// `KeyPairInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyPairInfoOut {
    key_pair_id: String,
    key_type: String,
    tags: Vec<Tag>,
    public_key: Option<String>,
    create_time: Timestamp,
    key_name: String,
    key_fingerprint: String,
}

/// `DescribeKeyPairsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKeyPairsOut {
    key_pairs: Vec<KeyPairInfoOut>,
}

/// DescribeKeyPairs.
pub fn describe_key_pairs(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeKeyPairsRequest,
) -> Result<DescribeKeyPairsOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "key-pair-id",
            "fingerprint",
            "key-name",
            "key-type",
            "tag-key",
            "tag-value",
        ],
    )?;
    with_store(ctx, state, |s| {
        if let Some(missing) = req.key_names.iter().find(|n| !s.key_pairs.contains_key(*n)) {
            return Err(Ec2Error::InvalidKeyPairNotFound
                .with(format!("The key pair '{missing}' does not exist")));
        }
        if let Some(missing) = req
            .key_pair_ids
            .iter()
            .find(|id| !s.key_pairs.values().any(|k| &k.id == *id))
        {
            return Err(Ec2Error::InvalidKeyPairNotFound
                .with(format!("The key pair ID '{missing}' does not exist")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let key_pairs = s
            .key_pairs
            .values()
            .filter(|k| req.key_names.is_empty() || req.key_names.contains(&k.name))
            .filter(|k| req.key_pair_ids.is_empty() || req.key_pair_ids.contains(&k.id))
            .filter(|k| {
                let tags = s.tags_of(&k.id);
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "key-pair-id" => vec![k.id.as_str()],
                        "fingerprint" => vec![k.fingerprint.as_str()],
                        "key-name" => vec![k.name.as_str()],
                        "key-type" => vec![k.key_type.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|k| KeyPairInfoOut {
                key_pair_id: k.id.clone(),
                key_type: k.key_type.clone(),
                tags: tag_list(s.tags_of(&k.id)),
                public_key: req
                    .include_public_key
                    .then(|| format!("{}\n", k.public_key)),
                create_time: Timestamp(k.create_time),
                key_name: k.name.clone(),
                key_fingerprint: k.fingerprint.clone(),
            })
            .collect();
        Ok(DescribeKeyPairsOut { key_pairs })
    })
}

/// DeleteKeyPair's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteKeyPairRequest {
    key_name: Option<String>,
    key_pair_id: Option<String>,
    dry_run: bool,
}

/// `DeleteKeyPairResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteKeyPairOut {
    r#return: bool,
    key_pair_id: Option<String>,
}

/// DeleteKeyPair: deleting a name that does not exist succeeds, as on AWS.
pub fn delete_key_pair(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteKeyPairRequest,
) -> Result<DeleteKeyPairOut, ApiError> {
    let id = with_store(ctx, state, |s| {
        let name = match (&req.key_name, &req.key_pair_id) {
            (Some(n), _) => Some(n.clone()),
            (None, Some(id)) => Some(
                s.key_pairs
                    .values()
                    .find(|k| &k.id == id)
                    .map(|k| k.name.clone())
                    .ok_or_else(|| {
                        Ec2Error::InvalidKeyPairNotFound
                            .with(format!("The key pair ID '{id}' does not exist"))
                    })?,
            ),
            (None, None) => {
                return Err(missing("KeyName or KeyPairId"));
            }
        };
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let removed = name.and_then(|n| s.key_pairs.shift_remove(&n));
        if let Some(k) = &removed {
            s.clear_tags(&k.id);
        }
        Ok(removed.map(|k| k.id))
    })?;
    state.touched(Topic::Ec2);
    Ok(DeleteKeyPairOut {
        r#return: true,
        key_pair_id: id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_keys_round_trip_through_the_import_parser() {
        let (pem, public, fingerprint) = generate_ed25519("k");
        assert!(pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        let (kind, imported) = parse_openssh_public(&public).unwrap();
        assert_eq!(kind, "ed25519");
        assert_eq!(imported, fingerprint);
        assert!(parse_openssh_public("ssh-ed25519 AAAA").is_none());
        assert!(parse_openssh_public("not a key").is_none());
    }
}
