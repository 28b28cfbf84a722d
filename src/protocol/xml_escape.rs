//! Text escaping for the XML writers (the rules are in the parent module's docs).

use std::borrow::Cow;

/// Escape character data (see the module docs).
pub(super) fn escape_text(text: &str) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>' | '\r') || !is_xml_char(c);
    if !text.contains(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape_text`] appended to a buffer; printable ASCII without `&<>` (nearly every value)
/// is copied as is.
// Inlined into the element writers: it runs once per value of a large listing.
#[inline]
pub(super) fn escape_into(buf: &mut Vec<u8>, text: &str) {
    if may_need_escaping(text.as_bytes()) {
        buf.extend_from_slice(escape_text(text).as_bytes());
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
}

/// Whether `text` holds a byte outside printable ASCII or one of `&<>` (a line feed counts
/// too, though [`escape_text`] keeps it). Eight bytes are tested at a time with word
/// arithmetic: values are short, so a byte-at-a-time loop spent most of its time in its
/// tail, and this test runs on every value of a large listing.
#[inline]
pub(super) fn may_need_escaping(text: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Each test is exact about whether any byte of the word qualifies (the classic
    // "has a zero byte" / "has a byte less than n" tricks).
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let special = |w: u64| {
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let delete_or_high = (w.wrapping_add(ONES) | w) & HIGH;
        control
            | delete_or_high
            | zero_byte(w ^ (ONES * u64::from(b'&')))
            | zero_byte(w ^ (ONES * u64::from(b'<')))
            | zero_byte(w ^ (ONES * u64::from(b'>')))
    };
    let (words, rest) = text.as_chunks::<8>();
    // The tail is tested as the last eight bytes (again testing some, which is harmless), or
    // when the text is shorter, shifted into a word of spaces, which need nothing. (Copying
    // it into a padded array compiled to a `memcpy` call per value.)
    let tail = match text.last_chunk::<8>() {
        _ if rest.is_empty() => 0,
        Some(last) => special(u64::from_ne_bytes(*last)),
        None => special(
            rest.iter()
                .fold(ONES * u64::from(b' '), |w, &b| (w << 8) | u64::from(b)),
        ),
    };
    let found = words.iter().fold(tail, |found, word| {
        found | special(u64::from_ne_bytes(*word))
    });
    found != 0
}

/// An attribute value in double quotes, escaped as quick-xml escapes them.
pub(super) fn escape_attribute_into(buf: &mut Vec<u8>, text: &str) {
    for c in escape_text(text).chars() {
        match c {
            '"' => buf.extend_from_slice(b"&quot;"),
            '\'' => buf.extend_from_slice(b"&apos;"),
            c => {
                let mut utf8 = [0; 4];
                buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
}

/// XML 1.0 `Char`: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
