//! AWS Signature Version 4 verification (header-based `Authorization: AWS4-HMAC-SHA256 …`).
//!
//! The server recomputes the signature from the request exactly as received and compares it
//! with the one the client sent:
//!
//! 1. [`parse_authorization`] splits the header into credential scope, signed headers and
//!    signature;
//! 2. [`canonical_request`] rebuilds the canonical request from the method, the raw path and
//!    query, the headers named in `SignedHeaders`, and the [`payload_hash`] of the body *as
//!    received* (still gzip-compressed if the client compressed it);
//! 3. [`string_to_sign`] wraps its SHA-256 with the request date and the credential scope;
//! 4. [`signature`] derives the signing key from the secret and HMACs the string to sign.
//!
//! [`verify`] does all of that and compares in constant time. Nothing in this module panics on
//! any input. [`Signer`] is the inverse, for tests that need to craft signed requests.
//!
//! Presigned URLs, the 15-minute clock window, the service scope and `UNSIGNED-PAYLOAD` are
//! checked around this in [`super::sigv4_request`]. Not supported: SigV4a, chunked streaming
//! payload signatures.

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

mod signer;

pub use signer::Signer;

/// The only algorithm accepted in the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every credential scope.
const TERMINATOR: &str = "aws4_request";

/// The literal a client may put in `x-amz-content-sha256` (and the canonical request) instead
/// of a body hash.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

type HmacSha256 = Hmac<Sha256>;

/// What the `Authorization` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key id (first element of `Credential=`).
    pub access_key_id: String,
    /// The scope date, `yyyymmdd`.
    pub date: String,
    /// The scope region, e.g. `us-east-1`.
    pub region: String,
    /// The scope service (signing name), e.g. `ec2`, `monitoring`.
    pub service: String,
    /// Lower-cased header names from `SignedHeaders=`, in the order given.
    pub signed_headers: Vec<String>,
    /// The hex signature from `Signature=`.
    pub signature: String,
}

impl Authorization {
    /// The credential scope: `<date>/<region>/<service>/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }

    /// The header value this authorization would be sent as.
    pub fn header_value(&self) -> String {
        format!(
            "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={}",
            self.access_key_id,
            self.scope(),
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// Why a request failed SigV4 verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// The `Authorization` header (or `x-amz-content-sha256`) is not well formed.
    /// AWS answers `IncompleteSignature` (400).
    #[error("{0}")]
    Malformed(String),
    /// Neither `X-Amz-Date` nor `Date` is present. AWS answers `IncompleteSignature` (400).
    #[error("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")]
    MissingDate,
    /// The date header is present but cannot be read. AWS answers `IncompleteSignature` (400).
    #[error("Date must be in ISO-8601 'basic format'. Got '{0}'.")]
    InvalidDate(String),
    /// The credential scope date is not the day of the request date.
    /// AWS answers `SignatureDoesNotMatch` (403).
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '{scope}' != '{request}'"
    )]
    DateMismatch {
        /// The `yyyymmdd` from the credential scope.
        scope: String,
        /// The ISO-8601 basic date of the request.
        request: String,
    },
    /// `x-amz-content-sha256` carries a hash that is not the hash of the body received.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
    /// The signature does not match. AWS answers `SignatureDoesNotMatch` (403).
    #[error(
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details."
    )]
    Mismatch,
}

impl SigV4Error {
    /// The AWS error code for this failure.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::Malformed(_) | Self::MissingDate | Self::InvalidDate(_) => "IncompleteSignature",
            Self::DateMismatch { .. } | Self::PayloadHashMismatch | Self::Mismatch => {
                "SignatureDoesNotMatch"
            }
        }
    }

    /// The HTTP status AWS uses for this failure.
    pub fn http_status(&self) -> u16 {
        match self.aws_code() {
            "IncompleteSignature" => 400,
            _ => 403,
        }
    }
}

/// Parses an `Authorization` header value:
/// `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=<hex>`.
///
/// The three components may come in any order, separated by commas and optional whitespace;
/// unknown components are ignored.
pub fn parse_authorization(value: &str) -> Result<Authorization, SigV4Error> {
    let value = value.trim();
    let (algorithm, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Malformed(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (expected '{ALGORITHM}')"
        )));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some((key, val)) = component.split_once('=') else {
            return Err(SigV4Error::Malformed(format!(
                "'{component}' not a valid key=value pair (missing equal-sign) in Authorization \
                 header"
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(SigV4Error::Malformed(format!(
                "Authorization header has more than one '{}' parameter.",
                key.trim()
            )));
        }
        *slot = Some(val.trim());
    }

    let (Some(credential), Some(signed_headers), Some(signature)) = (
        non_empty(credential),
        non_empty(signed_headers),
        non_empty(signature),
    ) else {
        let missing: Vec<String> = [
            ("Credential", credential),
            ("SignedHeaders", signed_headers),
            ("Signature", signature),
        ]
        .into_iter()
        .filter(|(_, v)| non_empty(*v).is_none())
        .map(|(k, _)| format!("Authorization header requires '{k}' parameter."))
        .collect();
        return Err(SigV4Error::Malformed(missing.join(" ")));
    };

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(bad_credential(credential));
    };
    if access_key_id.is_empty()
        || region.is_empty()
        || service.is_empty()
        || *terminator != TERMINATOR
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad_credential(credential));
    }

    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(SigV4Error::Malformed(format!(
            "Invalid SignedHeaders list in Authorization header: '{}'",
            signed_headers.join(";")
        )));
    }

    Ok(Authorization {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers,
        signature: signature.to_owned(),
    })
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

fn bad_credential(credential: &str) -> SigV4Error {
    SigV4Error::Malformed(format!(
        "Credential '{credential}' is not of the form \
         <access key id>/<yyyymmdd>/<region>/<service>/{TERMINATOR}"
    ))
}

/// Verifies a request against its parsed `Authorization` header and the secret key of
/// `auth.access_key_id`.
///
/// `path` and `raw_query` are the request target exactly as received (still percent-encoded;
/// no `?`), `body` the body bytes exactly as received (before any gunzip).
pub fn verify(
    method: &str,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    auth: &Authorization,
    secret_key: &str,
) -> Result<(), SigV4Error> {
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::Malformed(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    let amz_date = request_date(headers)?;
    let request_day = amz_date.get(..8).unwrap_or_default();
    if auth.date != request_day {
        return Err(SigV4Error::DateMismatch {
            scope: auth.date.clone(),
            request: request_day.to_owned(),
        });
    }
    let payload = payload_hash(headers, body)?;
    let creq = canonical_request(
        method,
        path,
        raw_query,
        headers,
        &auth.signed_headers,
        &payload,
    );
    let sts = string_to_sign(&amz_date, &auth.scope(), &creq);
    let expected = signature(secret_key, &auth.date, &auth.region, &auth.service, &sts);
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SigV4Error::Mismatch)
    }
}

/// The request timestamp in ISO-8601 basic format (`20150830T123600Z`): the `X-Amz-Date`
/// header if present, else the `Date` header (IMF-fixdate, `Sun, 30 Aug 2015 12:36:00 GMT`)
/// converted to that format.
pub fn request_date(headers: &HeaderMap) -> Result<String, SigV4Error> {
    if let Some(v) = headers.get("x-amz-date") {
        let raw = String::from_utf8_lossy(v.as_bytes());
        let s = raw.trim();
        return if is_basic_iso8601(s) {
            Ok(s.to_owned())
        } else {
            Err(SigV4Error::InvalidDate(s.to_owned()))
        };
    }
    if let Some(v) = headers.get(http::header::DATE) {
        let raw = String::from_utf8_lossy(v.as_bytes());
        let s = raw.trim();
        if is_basic_iso8601(s) {
            return Ok(s.to_owned());
        }
        return parse_imf_fixdate(s).ok_or_else(|| SigV4Error::InvalidDate(s.to_owned()));
    }
    Err(SigV4Error::MissingDate)
}

/// `yyyymmddThhmmssZ`, digits only where digits belong.
fn is_basic_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → `19941106T084937Z`.
fn parse_imf_fixdate(s: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = s.split_ascii_whitespace().collect();
    let [_weekday, day, month, year, clock, "GMT"] = fields.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let digits = |v: &str, n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_digit());
    let clock: Vec<&str> = clock.split(':').collect();
    let [hh, mm, ss] = clock.as_slice() else {
        return None;
    };
    if !(digits(day, 2) && digits(year, 4) && digits(hh, 2) && digits(mm, 2) && digits(ss, 2)) {
        return None;
    }
    Some(format!("{year}{month:02}{day}T{hh}{mm}{ss}Z"))
}

/// The payload hash string used in the canonical request.
///
/// If the client sent `x-amz-content-sha256`, its value is what the client signed: a hex
/// SHA-256 (which must then be the hash of `body`, else [`SigV4Error::PayloadHashMismatch`])
/// or `UNSIGNED-PAYLOAD`. Otherwise the hex SHA-256 of `body`.
pub fn payload_hash(headers: &HeaderMap, body: &[u8]) -> Result<String, SigV4Error> {
    let actual = hex::encode(Sha256::digest(body));
    let Some(v) = headers.get("x-amz-content-sha256") else {
        return Ok(actual);
    };
    let raw = String::from_utf8_lossy(v.as_bytes());
    let claimed = raw.trim();
    if claimed == UNSIGNED_PAYLOAD {
        Ok(claimed.to_owned())
    } else if claimed.len() == 64 && claimed.bytes().all(|b| b.is_ascii_hexdigit()) {
        if claimed.eq_ignore_ascii_case(&actual) {
            Ok(claimed.to_owned())
        } else {
            Err(SigV4Error::PayloadHashMismatch)
        }
    } else {
        Err(SigV4Error::Malformed(format!(
            "x-amz-content-sha256 must be {UNSIGNED_PAYLOAD} or a valid sha256 value, got \
             '{claimed}'"
        )))
    }
}

/// The canonical request, as bytes (header values may legally hold non-UTF-8 bytes):
///
/// ```text
/// METHOD
/// canonical URI      (normalized, every segment URI-encoded again)
/// canonical query    (decoded, re-encoded, sorted by key then value)
/// name:value\n …     (one line per signed header; values trimmed, whitespace runs collapsed,
///                     repeated headers joined with ',')
/// signed;header;names
/// payload hash
/// ```
pub fn canonical_request(
    method: &str,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    signed_headers: &[String],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(raw_query).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in headers.get_all(name.as_str()).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_collapsed(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request))
    )
}

/// The signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`.
pub fn signing_key(secret_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret_key}");
    let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// The hex signature of `string_to_sign` for the given secret and scope.
pub fn signature(
    secret_key: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let key = signing_key(secret_key, date, region, service);
    hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// RFC 3986 unreserved characters are kept; everything else becomes `%XX` (upper-case hex).
fn uri_encode_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    uri_encode_into(&mut out, bytes);
    out
}

/// The canonical URI of a raw request path (non-S3 rules): empty and `.` segments dropped,
/// `..` removes the previous segment, a trailing `/` kept, and every remaining segment
/// URI-encoded *as received*, so an already percent-encoded `%2F` becomes `%252F`.
pub fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        uri_encode_into(&mut out, segment.as_bytes());
    }
    if out.is_empty() || path.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query string of a raw query (without `?`): each `k=v` pair percent-decoded
/// (`+` read as a space), URI-encoded again, sorted by key then value, joined with `&`. A key
/// without `=` gets an empty value.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(raw_query.len());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Lenient percent-decoding: a `%` not followed by two hex digits is kept literally.
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let (Some(hi), Some(lo)) = (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(if c == b'+' { b' ' } else { c });
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends `value` trimmed, with each inner run of whitespace collapsed to one space.
fn push_collapsed(out: &mut Vec<u8>, value: &[u8]) {
    let mut first = true;
    for word in value
        .split(|b| b.is_ascii_whitespace() || *b == 0x0b)
        .filter(|w| !w.is_empty())
    {
        if !first {
            out.push(b' ');
        }
        out.extend_from_slice(word);
        first = false;
    }
}

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;
