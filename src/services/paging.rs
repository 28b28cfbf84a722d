//! The one paging helper of every listing: `NextToken`, `Marker` or `NextMarker`, whatever a
//! service calls it. A page is a slice of the listing's items in their order; its token says
//! where the next page starts. Services differ only in how the token looks ([`Token`]), in
//! whether a token past the end is refused ([`PastEnd`]) and in the error they answer a bad
//! token with (the caller maps [`BadToken`] to its own code and words).
//!
//! Listings kept sorted by a name page by that name instead ([`page_after`]): the token is the
//! last name of the page, so pages stay stable while items come and go.

use base64::Engine;

/// How a token encodes the position of the next page (the number of items before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// The position in decimal: `100`.
    Offset,
    /// The position after a fixed prefix: `updraft-100`.
    Prefixed(&'static str),
    /// The prefixed position, base64url without padding (opaque to the eye).
    Base64(&'static str),
}

impl Token {
    /// The token of the page that starts at `position`.
    pub fn encode(self, position: usize) -> String {
        match self {
            Self::Offset => position.to_string(),
            Self::Prefixed(prefix) => format!("{prefix}{position}"),
            Self::Base64(prefix) => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("{prefix}{position}")),
        }
    }

    /// The position `token` names, if it is one of this style.
    pub fn decode(self, token: &str) -> Option<usize> {
        match self {
            Self::Offset => token.parse().ok(),
            Self::Prefixed(prefix) => token.strip_prefix(prefix)?.parse().ok(),
            Self::Base64(prefix) => {
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(token)
                    .ok()?;
                std::str::from_utf8(&bytes)
                    .ok()?
                    .strip_prefix(prefix)?
                    .parse()
                    .ok()
            }
        }
    }
}

/// What a well-formed token that points past the last item means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PastEnd {
    /// A bad token (the listing has no such page).
    Refused,
    /// An empty last page.
    Empty,
}

/// A listing's token style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// How tokens look.
    pub token: Token,
    /// Whether a token past the end is refused.
    pub past_end: PastEnd,
}

impl Paging {
    /// Decimal positions; a position past the end is refused.
    pub const OFFSET: Self = Self {
        token: Token::Offset,
        past_end: PastEnd::Refused,
    };

    /// Decimal positions; a position past the end is an empty page.
    pub const LENIENT_OFFSET: Self = Self {
        token: Token::Offset,
        past_end: PastEnd::Empty,
    };
}

/// A token that names no page of the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadToken;

/// One page of `items`: at most `limit` of them from the position `token` names (from the
/// first when `None`), and the token of the next page when more remain. Items past the page
/// are not visited beyond the one that tells whether there are more, so a listing may pass a
/// lazy iterator over its store.
pub fn page<T>(
    items: impl IntoIterator<Item = T>,
    token: Option<&str>,
    limit: usize,
    paging: Paging,
) -> Result<(Vec<T>, Option<String>), BadToken> {
    let start = match token {
        None => 0,
        Some(t) => paging.token.decode(t).ok_or(BadToken)?,
    };
    let mut rest = items.into_iter();
    let skipped = rest.by_ref().take(start).count();
    if skipped < start {
        return match paging.past_end {
            PastEnd::Refused => Err(BadToken),
            PastEnd::Empty => Ok((Vec::new(), None)),
        };
    }
    let page: Vec<T> = rest.by_ref().take(limit).collect();
    let next = rest
        .next()
        .is_some()
        .then(|| paging.token.encode(start + page.len()));
    Ok((page, next))
}

/// One page in the `Marker`/`NextMarker` style of the load-balancer APIs (Classic ELB and
/// ELBv2): the marker is a decimal position, an empty marker is the first page, and a position
/// past the end is refused.
pub fn page_from_marker<T>(
    items: impl IntoIterator<Item = T>,
    marker: Option<&str>,
    limit: usize,
) -> Result<(Vec<T>, Option<String>), BadToken> {
    page(
        items,
        marker.filter(|m| !m.is_empty()),
        limit,
        Paging::OFFSET,
    )
}

/// One page of `items` sorted by `key`: at most `limit` of those whose key comes after
/// `after` (all when `None`), and the token of the next page (the page's last key) when more
/// remain.
pub fn page_after<T>(
    items: impl IntoIterator<Item = T>,
    after: Option<&str>,
    limit: usize,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let mut rest = items
        .into_iter()
        .filter(|item| after.is_none_or(|a| key(item) > a));
    let page: Vec<T> = rest.by_ref().take(limit).collect();
    let next = match (rest.next(), page.last()) {
        (Some(_), Some(last)) => Some(key(last).to_owned()),
        _ => None,
    };
    (page, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers() -> Vec<u32> {
        (0..10).collect()
    }

    #[test]
    fn pages_chain_to_the_end() {
        for paging in [
            Paging::OFFSET,
            Paging::LENIENT_OFFSET,
            Paging {
                token: Token::Prefixed("updraft-"),
                past_end: PastEnd::Refused,
            },
            Paging {
                token: Token::Base64("updraft-ssm:"),
                past_end: PastEnd::Refused,
            },
        ] {
            let mut seen = Vec::new();
            let mut token = None;
            let mut pages = 0;
            loop {
                let (items, next) = page(numbers(), token.as_deref(), 4, paging).unwrap();
                seen.extend(items);
                pages += 1;
                match next {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            assert_eq!(seen, numbers(), "{paging:?}");
            assert_eq!(pages, 3, "{paging:?}");
        }
    }

    #[test]
    fn tokens_look_as_their_style_says() {
        assert_eq!(Token::Offset.encode(5), "5");
        assert_eq!(Token::Prefixed("updraft-").encode(5), "updraft-5");
        let opaque = Token::Base64("updraft-ssm:").encode(5);
        assert!(!opaque.contains("updraft"));
        assert_eq!(Token::Base64("updraft-ssm:").decode(&opaque), Some(5));
        assert_eq!(Token::Prefixed("updraft-").decode("5"), None);
        assert_eq!(Token::Offset.decode("x"), None);
        assert_eq!(Token::Offset.decode(""), None);
    }

    #[test]
    fn a_full_last_page_has_no_token_and_no_limit_is_one_page() {
        let (items, next) = page(numbers(), Some("5"), 5, Paging::OFFSET).unwrap();
        assert_eq!(items, vec![5, 6, 7, 8, 9]);
        assert_eq!(next, None);
        let (items, next) = page(numbers(), None, usize::MAX, Paging::OFFSET).unwrap();
        assert_eq!(items.len(), 10);
        assert_eq!(next, None);
    }

    #[test]
    fn bad_and_past_end_tokens() {
        assert_eq!(page(numbers(), Some("x"), 4, Paging::OFFSET), Err(BadToken));
        assert_eq!(
            page(numbers(), Some("x"), 4, Paging::LENIENT_OFFSET),
            Err(BadToken)
        );
        // The end itself is a page (empty); past it depends on the listing.
        assert_eq!(
            page(numbers(), Some("10"), 4, Paging::OFFSET),
            Ok((Vec::new(), None))
        );
        assert_eq!(
            page(numbers(), Some("11"), 4, Paging::OFFSET),
            Err(BadToken)
        );
        assert_eq!(
            page(numbers(), Some("11"), 4, Paging::LENIENT_OFFSET),
            Ok((Vec::new(), None))
        );
    }

    #[test]
    fn markers_start_empty_and_refuse_past_the_end() {
        assert_eq!(
            page_from_marker(numbers(), Some(""), 4),
            Ok((vec![0, 1, 2, 3], Some("4".to_owned())))
        );
        assert_eq!(
            page_from_marker(numbers(), Some("8"), 4),
            Ok((vec![8, 9], None))
        );
        assert_eq!(
            page_from_marker(numbers(), Some("10"), 4),
            Ok((Vec::new(), None))
        );
        assert_eq!(page_from_marker(numbers(), Some("11"), 4), Err(BadToken));
        assert_eq!(page_from_marker(numbers(), Some("-1"), 4), Err(BadToken));
    }

    #[test]
    fn pages_after_a_key() {
        let names = ["a", "b", "c", "d", "e"];
        let (items, next) = page_after(names, None, 2, |n| *n);
        assert_eq!(items, ["a", "b"]);
        assert_eq!(next.as_deref(), Some("b"));
        let (items, next) = page_after(names, Some("b"), 2, |n| *n);
        assert_eq!(items, ["c", "d"]);
        let (items, next2) = page_after(names, next.as_deref(), 2, |n| *n);
        assert_eq!(items, ["e"]);
        assert_eq!(next2, None);
        // A key between items starts after it.
        assert_eq!(page_after(names, Some("bb"), 9, |n| *n).0, ["c", "d", "e"]);
    }
}
