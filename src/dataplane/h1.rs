//! The bytes of HTTP/1.1 on the backend side of the proxy (RFC 9112): request heads written,
//! response heads parsed, and how a response body is framed and de-chunked.
//!
//! Pure functions over buffers; [`super::pool`] owns the sockets. The proxy is the only client,
//! so this is no general client: the request target is already origin-form, the headers are
//! already the ones the backend should see, and hop-by-hop headers of the response are dropped
//! by the proxy after framing has been decided here.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Version};

/// The longest response head accepted (status line and headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// The most response headers accepted.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line (size, extensions) accepted.
const MAX_CHUNK_LINE: usize = 4096;

/// Why a backend's bytes were not HTTP this proxy can pass on.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Bad status line, header, or chunk framing.
    #[error("malformed response from the backend: {0}")]
    Malformed(&'static str),
    /// The head is longer than [`MAX_HEAD`] or has more headers than accepted.
    #[error("response head too large")]
    TooLarge,
}

/// How the request body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFraming {
    /// No body follows the head.
    None,
    /// The body's bytes as they come (the headers carry `Content-Length`).
    Length,
    /// `Transfer-Encoding: chunked` (added to the head).
    Chunked,
}

/// Write a request head: `method target HTTP/1.1`, the headers as given, then `extra` ones
/// (the proxy's `X-Forwarded-*`), and the chunked marker when the framing says so.
pub fn write_request_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    extra: &[(HeaderName, HeaderValue)],
    framing: RequestFraming,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers.iter().chain(extra.iter().map(|(n, v)| (n, v))) {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if framing == RequestFraming::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Write one chunk of a chunked body (`data` not empty).
pub fn write_chunk_header(out: &mut Vec<u8>, len: usize) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{len:x}\r\n");
}

/// The end of a chunked body (no trailers).
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// A parsed response head.
#[derive(Debug)]
pub struct ResponseHead {
    /// The status.
    pub status: StatusCode,
    /// The reason phrase, when it is not the status's usual one.
    pub reason: Option<Bytes>,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The headers, as sent (hop-by-hop ones included).
    pub headers: HeaderMap,
    /// Which framing headers the parse saw, so that deciding the framing looks up only
    /// those present (each lookup hashes its name).
    seen: Seen,
}

/// The framing headers a response head has.
#[derive(Debug, Default)]
struct Seen {
    transfer_encoding: bool,
    connection: bool,
    /// How many `Content-Length` headers, and the first one's value.
    content_lengths: usize,
    content_length: Option<HeaderValue>,
}

impl ResponseHead {
    /// How the body that follows is delimited (RFC 9112 §6.3), for a response to `method`.
    pub fn framing(&self, method: &Method) -> Result<ResponseFraming, WireError> {
        let code = self.status.as_u16();
        if *method == Method::HEAD || code == 204 || code == 304 || self.status.is_informational() {
            return Ok(ResponseFraming::Length(0));
        }
        if let Some(te) = self
            .seen
            .transfer_encoding
            .then(|| {
                self.headers
                    .get_all(header::TRANSFER_ENCODING)
                    .iter()
                    .next_back()
            })
            .flatten()
        {
            let last_coding = te.as_bytes().rsplit(|b| *b == b',').next().unwrap_or(b"");
            return Ok(
                if last_coding.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                    ResponseFraming::Chunked(Dechunker::default())
                } else {
                    ResponseFraming::UntilClose
                },
            );
        }
        let mut length = None;
        // One header (the usual case) was kept by the parse; several are looked up.
        let one = self.seen.content_length.iter();
        let all = (self.seen.content_lengths > 1)
            .then(|| self.headers.get_all(header::CONTENT_LENGTH).iter())
            .into_iter()
            .flatten();
        let values = one
            .take(usize::from(self.seen.content_lengths == 1))
            .chain(all);
        for value in values {
            for part in value.as_bytes().split(|b| *b == b',') {
                let n = std::str::from_utf8(part.trim_ascii())
                    .ok()
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or(WireError::Malformed("Content-Length"))?;
                if length.is_some_and(|l| l != n) {
                    return Err(WireError::Malformed("conflicting Content-Length"));
                }
                length = Some(n);
            }
        }
        Ok(length.map_or(ResponseFraming::UntilClose, ResponseFraming::Length))
    }

    /// Whether the connection may carry another request after this response.
    pub fn keeps_alive(&self) -> bool {
        let has = |token: &[u8]| {
            self.seen.connection
                && self
                    .headers
                    .get_all(header::CONNECTION)
                    .iter()
                    .flat_map(|v| v.as_bytes().split(|b| *b == b','))
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
        };
        if self.version == Version::HTTP_10 {
            has(b"keep-alive")
        } else {
            !has(b"close")
        }
    }
}

/// How a response body is delimited.
#[derive(Debug)]
pub enum ResponseFraming {
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked(Dechunker),
    /// Everything until the backend closes (the connection is not reused).
    UntilClose,
}

/// Parse a response head from the front of `buf`. `Ok(None)`: incomplete, read more. On
/// success the head's bytes are taken off `buf`; header values share them.
pub fn parse_response_head(buf: &mut BytesMut) -> Result<Option<ResponseHead>, WireError> {
    // Left uninitialised: a head has a handful of headers, not a hundred.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut resp, buf, &mut slots);
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(WireError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(WireError::TooLarge),
        Err(_) => return Err(WireError::Malformed("status line or header")),
    };
    if len > MAX_HEAD {
        return Err(WireError::TooLarge);
    }
    let code = resp.code.ok_or(WireError::Malformed("status"))?;
    let status = StatusCode::from_u16(code).map_err(|_| WireError::Malformed("status"))?;
    let version = if resp.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    // Where each value sits in the head, so that the values can share its bytes.
    let base = buf.as_ptr() as usize;
    // Offsets of each name and value in the head (the parse borrows the buffer, which is
    // split off below).
    let mut spans = [[0u32; 4]; MAX_HEADERS];
    let count = resp.headers.len();
    for (h, span) in resp.headers.iter().zip(spans.iter_mut()) {
        let name = h.name.as_ptr() as usize - base;
        let value = h.value.as_ptr() as usize - base;
        // Within MAX_HEAD, so they fit.
        *span = [name, name + h.name.len(), value, value + h.value.len()].map(|o| o as u32);
    }
    let reason = resp
        .reason
        .filter(|r| !r.is_empty() && Some(*r) != status.canonical_reason())
        .map(|r| Bytes::copy_from_slice(r.as_bytes()));
    let head = buf.split_to(len).freeze();
    let mut headers = HeaderMap::with_capacity(count);
    let mut seen = Seen::default();
    for [n0, n1, v0, v1] in spans[..count].iter().map(|s| s.map(|o| o as usize)) {
        let name = HeaderName::from_bytes(&head[n0..n1])
            .map_err(|_| WireError::Malformed("header name"))?;
        let value = HeaderValue::from_maybe_shared(head.slice(v0..v1))
            .map_err(|_| WireError::Malformed("header value"))?;
        if name == header::TRANSFER_ENCODING {
            seen.transfer_encoding = true;
        } else if name == header::CONNECTION {
            seen.connection = true;
        } else if name == header::CONTENT_LENGTH {
            seen.content_lengths += 1;
            if seen.content_length.is_none() {
                seen.content_length = Some(value.clone());
            }
        }
        headers.append(name, value);
    }
    Ok(Some(ResponseHead {
        status,
        reason,
        version,
        headers,
        seen,
    }))
}

/// What the de-chunker made of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Dechunked {
    /// Body bytes.
    Data(Bytes),
    /// More bytes are needed.
    NeedMore,
    /// The last chunk and trailers have been read (trailers are dropped).
    Done,
}

/// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
#[derive(Debug, Default)]
pub struct Dechunker {
    state: ChunkState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Expecting `size[;ext]\r\n`.
    #[default]
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the `\r\n` after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
    /// Finished.
    Done,
}

impl Dechunker {
    /// Whether the last chunk and its trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Take what can be decoded off the front of `buf`.
    pub fn step(&mut self, buf: &mut BytesMut) -> Result<Dechunked, WireError> {
        loop {
            match self.state {
                ChunkState::Done => return Ok(Dechunked::Done),
                ChunkState::Size => {
                    let Some(line) = take_line(buf, MAX_CHUNK_LINE)? else {
                        return Ok(Dechunked::NeedMore);
                    };
                    let size = line[..]
                        .split(|b| *b == b';')
                        .next()
                        .unwrap_or(b"")
                        .trim_ascii();
                    let size = std::str::from_utf8(size)
                        .ok()
                        .filter(|s| !s.is_empty() && s.len() <= 16)
                        .and_then(|s| u64::from_str_radix(s, 16).ok())
                        .ok_or(WireError::Malformed("chunk size"))?;
                    self.state = if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Dechunked::NeedMore);
                    }
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let rest = left - take as u64;
                    self.state = if rest == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(rest)
                    };
                    return Ok(Dechunked::Data(buf.split_to(take).freeze()));
                }
                ChunkState::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Dechunked::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(WireError::Malformed("chunk end"));
                    }
                    let _ = buf.split_to(2);
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    let Some(line) = take_line(buf, MAX_HEAD)? else {
                        return Ok(Dechunked::NeedMore);
                    };
                    if line.is_empty() {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }
}

/// Take one CRLF-terminated line off `buf` (without the CRLF), if a whole one is there.
fn take_line(buf: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, WireError> {
    match buf.windows(2).position(|w| w == b"\r\n") {
        Some(end) => {
            let mut line = buf.split_to(end + 2);
            line.truncate(end);
            Ok(Some(line))
        }
        None if buf.len() > max => Err(WireError::TooLarge),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> ResponseHead {
        let mut buf = BytesMut::from(text);
        parse_response_head(&mut buf).unwrap().unwrap()
    }

    #[test]
    fn request_heads_name_the_target_and_the_framing() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("a.elb.localhost"));
        let mut out = Vec::new();
        write_request_head(
            &mut out,
            &Method::POST,
            "/p?q=1",
            &headers,
            &[(
                HeaderName::from_static("x-forwarded-port"),
                HeaderValue::from_static("80"),
            )],
            RequestFraming::Chunked,
        );
        assert_eq!(
            out,
            b"POST /p?q=1 HTTP/1.1\r\nhost: a.elb.localhost\r\nx-forwarded-port: 80\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        out.clear();
        write_chunk_header(&mut out, 300);
        assert_eq!(out, b"12c\r\n");
    }

    #[test]
    fn response_heads_parse_whole_or_ask_for_more() {
        let text = "HTTP/1.1 200 Fine\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
        let mut buf = BytesMut::from(&text[..20]);
        assert!(parse_response_head(&mut buf).unwrap().is_none());
        let mut buf = BytesMut::from(text);
        let h = parse_response_head(&mut buf).unwrap().unwrap();
        assert_eq!(&buf[..], b"hello");
        assert_eq!(h.status, StatusCode::OK);
        assert_eq!(h.reason.as_deref(), Some(&b"Fine"[..]));
        assert_eq!(h.headers["x-a"], "b");
        assert!(matches!(
            h.framing(&Method::GET).unwrap(),
            ResponseFraming::Length(5)
        ));
        assert!(h.keeps_alive());
        assert!(matches!(
            h.framing(&Method::HEAD).unwrap(),
            ResponseFraming::Length(0)
        ));
        // The usual reason phrase is not kept.
        assert!(head("HTTP/1.1 404 Not Found\r\n\r\n").reason.is_none());
        let mut bad = BytesMut::from("HTTP/1.1 abc\r\n\r\n");
        assert!(parse_response_head(&mut bad).is_err());
        let mut huge = BytesMut::from("HTTP/1.1 200 OK\r\nX: ");
        huge.extend_from_slice(&vec![b'a'; MAX_HEAD + 1]);
        assert!(matches!(
            parse_response_head(&mut huge),
            Err(WireError::TooLarge)
        ));
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert!(matches!(
            chunked.framing(&Method::GET).unwrap(),
            ResponseFraming::Chunked(_)
        ));
        let close = head("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        assert!(matches!(
            close.framing(&Method::GET).unwrap(),
            ResponseFraming::UntilClose
        ));
        assert!(!close.keeps_alive());
        let conflicting = head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        assert!(conflicting.framing(&Method::GET).is_err());
        assert!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n")
                .framing(&Method::GET)
                .is_ok()
        );
        assert!(
            head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")
                .framing(&Method::GET)
                .is_err()
        );
        let no_content = head("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n");
        assert!(matches!(
            no_content.framing(&Method::GET).unwrap(),
            ResponseFraming::Length(0)
        ));
        assert!(!head("HTTP/1.0 200 OK\r\n\r\n").keeps_alive());
        assert!(head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n").keeps_alive());
    }

    /// Decode `wire` fed in pieces of `step` bytes.
    fn dechunk(wire: &[u8], step: usize) -> Result<(Vec<u8>, usize), WireError> {
        let mut d = Dechunker::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in wire.chunks(step) {
            buf.extend_from_slice(piece);
            loop {
                match d.step(&mut buf)? {
                    Dechunked::Data(b) => out.extend_from_slice(&b),
                    Dechunked::NeedMore => break,
                    Dechunked::Done => return Ok((out, buf.len())),
                }
            }
        }
        Err(WireError::Malformed("unfinished"))
    }

    #[test]
    fn chunked_bodies_decode_however_they_are_split() {
        let wire =
            b"5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for step in 1..wire.len() {
            let (body, left) = dechunk(wire, step).unwrap();
            assert_eq!(body, b"helloabcdefghijklmnopqrstuvwxyz", "step {step}");
            // What follows the body stays in the buffer (at most one piece of it was read).
            assert!(left <= 4, "step {step}");
        }
        assert!(dechunk(b"zz\r\n", 4).is_err());
        assert!(dechunk(b"2\r\nabXY0\r\n\r\n", 16).is_err());
        assert!(dechunk(b"11111111111111111\r\n", 32).is_err());
        let mut endless = BytesMut::from(&vec![b'1'; MAX_CHUNK_LINE + 1][..]);
        assert!(Dechunker::default().step(&mut endless).is_err());
    }
}
