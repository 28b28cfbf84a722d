//! The snapshot file format, versioned.
//!
//! ```text
//! UPDRAFT-STATE\n                       magic line
//! {"format":2,"updraft":"0.1.0",...}\n  header: one JSON line (readable with `head -2`)
//! <body>                                body_bytes bytes: the `Body` in CBOR
//! ```
//!
//! The header says which format and which Updraft wrote the file, how the body is encoded,
//! its length and its CRC-32, so a truncated or damaged file is refused before decoding. CBOR
//! (RFC 8949) is compact, keeps every `f64` bit for bit (NaN and infinities included) and
//! takes map keys of any shape (the stores have tuple-keyed maps), which JSON cannot.
//! A reader refuses a format number above [`FORMAT`]: a newer Updraft's file is never
//! misread, and never overwritten (see [`super::disk`]).

use serde::{Deserialize, Serialize};

use super::Body;
use super::fields::persisting;

/// The format this Updraft writes and the newest it reads. Format 2 packs metric buckets
/// into columns ([`crate::services::cloudwatch::packed`]); format 1 files (tiers as maps of
/// buckets) are still read: the metric decoder takes either shape, nothing else differs.
pub const FORMAT: u32 = 2;
/// The first line of every snapshot.
pub const MAGIC: &[u8] = b"UPDRAFT-STATE\n";
/// The longest header line read.
const MAX_HEADER: usize = 4096;

/// The header line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Format version.
    pub format: u32,
    /// The Updraft version that wrote the file.
    pub updraft: String,
    /// How the body is encoded (`cbor`).
    pub encoding: String,
    /// Length of the body in bytes.
    pub body_bytes: u64,
    /// CRC-32 (IEEE) of the body.
    pub body_crc32: u32,
    /// Virtual time of the snapshot, RFC 3339 (for people reading the header).
    pub virtual_time: String,
}

/// Why a snapshot cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// It does not start with the magic line.
    #[error("not an Updraft state snapshot (it does not start with \"UPDRAFT-STATE\")")]
    NotSnapshot,
    /// A newer Updraft wrote it.
    #[error(
        "written by a newer Updraft ({updraft}, snapshot format {format}); this Updraft ({ours}) reads format {FORMAT} at most",
        ours = env!("CARGO_PKG_VERSION")
    )]
    Newer {
        /// Its format.
        format: u32,
        /// The Updraft that wrote it.
        updraft: String,
    },
    /// Damaged or truncated.
    #[error("corrupt: {0}")]
    Corrupt(String),
}

/// Encode a snapshot body with its header.
pub fn encode(body: &Body) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(64 * 1024);
    // Writing into a Vec fails only on a value serde cannot represent; the stores hold none.
    persisting(|| ciborium::into_writer(body, &mut encoded))
        .unwrap_or_else(|err| panic!("a snapshot body always encodes: {err}"));
    let header = Header {
        format: FORMAT,
        updraft: env!("CARGO_PKG_VERSION").to_owned(),
        encoding: "cbor".to_owned(),
        body_bytes: encoded.len() as u64,
        body_crc32: crc32fast::hash(&encoded),
        virtual_time: crate::protocol::timestamp::format_iso8601(body.clock.now),
    };
    let header = serde_json::to_string(&header).unwrap_or_default();
    let mut out = Vec::with_capacity(MAGIC.len() + header.len() + 1 + encoded.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(header.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&encoded);
    out
}

/// Read the header, checking the magic line and the format version; returns the header and
/// the body's bytes.
pub fn header(bytes: &[u8]) -> Result<(Header, &[u8]), FormatError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(FormatError::NotSnapshot)?;
    let end = rest
        .iter()
        .take(MAX_HEADER)
        .position(|&b| b == b'\n')
        .ok_or_else(|| FormatError::Corrupt("the header line is missing or too long".into()))?;
    let header: Header = serde_json::from_slice(&rest[..end])
        .map_err(|e| FormatError::Corrupt(format!("unreadable header: {e}")))?;
    if header.format > FORMAT {
        return Err(FormatError::Newer {
            format: header.format,
            updraft: header.updraft,
        });
    }
    if header.encoding != "cbor" {
        let why = format!("unknown body encoding {:?}", header.encoding);
        return Err(FormatError::Corrupt(why));
    }
    Ok((header, &rest[end + 1..]))
}

/// Decode a snapshot (header checks, length, checksum, then the body).
pub fn decode(bytes: &[u8]) -> Result<Body, FormatError> {
    let (header, body) = header(bytes)?;
    if body.len() as u64 != header.body_bytes {
        return Err(FormatError::Corrupt(format!(
            "the body is {} bytes, the header says {} (truncated?)",
            body.len(),
            header.body_bytes
        )));
    }
    let crc = crc32fast::hash(body);
    if crc != header.body_crc32 {
        return Err(FormatError::Corrupt(format!(
            "checksum mismatch (CRC-32 {crc:08x}, the header says {:08x})",
            header.body_crc32
        )));
    }
    ciborium::from_reader(body).map_err(|e| FormatError::Corrupt(format!("undecodable body: {e}")))
}
