//! Cursor pagination shared by every list port.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// A position in a keyset-ordered list: the sort key and id of the last row seen.
/// Adapters encode it opaquely for clients; its content is not a contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort key of the last row, as text (timestamps in RFC 3339 with fixed precision).
    pub key: String,
    /// The id of the last row (tie breaker).
    pub id: String,
}

/// A page of results and where the next one starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// Page size bounds for every list.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// Clamps a requested page size into `1..=MAX_PAGE_SIZE` (none, or 0, means the default).
pub fn page_size(requested: Option<u32>) -> u32 {
    requested
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE)
}

/// Cursor keys of instants: RFC 3339, UTC, exactly six fractional digits (the precision every
/// store keeps). They sort lexicographically like the instants they encode (years 0000-9999).
const CURSOR_TIME: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

impl Cursor {
    /// The cursor key of an instant; `None` outside the years 0000-9999.
    pub fn time_key(at: time::OffsetDateTime) -> Option<String> {
        at.to_offset(time::UtcOffset::UTC).format(CURSOR_TIME).ok()
    }

    /// Reads a key written by [`Cursor::time_key`].
    pub fn parse_time_key(key: &str) -> Option<time::OffsetDateTime> {
        time::PrimitiveDateTime::parse(key, CURSOR_TIME)
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
    }
}

/// How many rows a store fetches for a page of `limit`: one more, to learn whether more follow.
pub fn overfetch(limit: u32) -> i64 {
    i64::from(limit) + 1
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with [`overfetch`]: keeps `limit` of them and, when more
    /// followed, points `next` after the last one kept.
    pub fn from_overfetch<E>(
        mut items: Vec<T>,
        limit: u32,
        cursor: impl Fn(&T) -> Result<Cursor, E>,
    ) -> Result<Self, E> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(cursor).transpose()?
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_round_trip_and_sort_like_instants() {
        let a = time::OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let b = a + time::Duration::microseconds(1);
        let (ka, kb) = (Cursor::time_key(a).unwrap(), Cursor::time_key(b).unwrap());
        assert_eq!(ka, "2023-11-14T22:13:20.123456Z");
        assert!(ka < kb);
        assert_eq!(Cursor::parse_time_key(&ka), Some(a));
        assert_eq!(Cursor::parse_time_key("' OR 1=1 --"), None);
    }

    #[test]
    fn pages_built_from_an_overfetch_point_after_their_last_item() {
        let key = |n: &u32| {
            Ok::<_, ()>(Cursor {
                key: n.to_string(),
                id: n.to_string(),
            })
        };
        let page = Page::from_overfetch(vec![1, 2, 3], 2, key).unwrap();
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next.unwrap().key, "2");
        let last = Page::from_overfetch(vec![1, 2], 2, key).unwrap();
        assert!(last.next.is_none());
        assert_eq!(overfetch(50), 51);
    }
}
