//! Conversions between domain values and SQLite columns: UUID text, unix microseconds, JSON
//! text, and the text form of list cursors.

use crate::error::{corrupt, unexpected};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::str::FromStr;
use tessera_domain::paging::{Cursor, Page, page_size};
use tessera_domain::ports::StoreError;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Unix microseconds (floored), the precision every store keeps.
pub(crate) fn micros(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000))
        .map_err(|_| unexpected(format!("instant out of range: {at}")))
}

pub(crate) fn opt_micros(at: Option<OffsetDateTime>) -> Result<Option<i64>, StoreError> {
    at.map(micros).transpose()
}

pub(crate) fn from_micros(value: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(value) * 1_000)
        .map_err(|e| corrupt("instant", e))
}

pub(crate) fn opt_from_micros(value: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    value.map(from_micros).transpose()
}

/// The cursor key of an instant.
pub(crate) fn cursor_time(at: OffsetDateTime) -> Result<String, StoreError> {
    Cursor::time_key(at).ok_or_else(|| unexpected("cannot format a cursor outside years 0-9999"))
}

/// Reads a cursor key written by [`cursor_time`].
pub(crate) fn parse_cursor_time(key: &str) -> Result<OffsetDateTime, StoreError> {
    Cursor::parse_time_key(key).ok_or_else(|| invalid_cursor("not a cursor time"))
}

pub(crate) fn invalid_cursor(error: impl std::fmt::Display) -> StoreError {
    unexpected(format!("invalid list cursor: {error}"))
}

/// Parses a cursor id (a UUID) into the text form stored in id columns.
pub(crate) fn cursor_id(id: &str) -> Result<String, StoreError> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(invalid_cursor)
}

pub(crate) fn format_date(date: Date) -> Result<String, StoreError> {
    date.format(DATE)
        .map_err(|e| unexpected(format!("cannot format a date: {e}")))
}

pub(crate) fn parse_date(raw: &str) -> Result<Date, StoreError> {
    Date::parse(raw, DATE).map_err(|e| corrupt("date", e))
}

/// Parses an id column into its typed id.
pub(crate) fn id<T: FromStr>(raw: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    raw.parse().map_err(|e| corrupt("id", e))
}

pub(crate) fn opt_id<T: FromStr>(raw: Option<&str>) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    raw.map(id).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| unexpected(format!("cannot encode JSON: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &str, raw: &str) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(|e| corrupt(what, e))
}

/// A column that must parse back into a domain value object.
pub(crate) fn parse<T, E: std::fmt::Display>(
    what: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(raw).map_err(|e| corrupt(what, e))
}

/// A text column holding an enum's `as_str()` form.
pub(crate) fn variant<T>(
    what: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(raw).ok_or_else(|| corrupt(what, format!("unknown value `{raw}`")))
}

/// The page size for a requested limit (0 means the default), clamped to the maximum.
pub(crate) fn page_limit(requested: u32) -> u32 {
    page_size(Some(requested))
}

/// How many rows to fetch for a page: one more than its size, to know whether more follow.
pub(crate) fn fetch_limit(limit: u32) -> i64 {
    tessera_domain::paging::overfetch(limit)
}

/// Turns the rows fetched with [`fetch_limit`] into a page whose `next` points after its last
/// item when more rows follow.
pub(crate) fn into_page<T>(
    items: Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> Result<Cursor, StoreError>,
) -> Result<Page<T>, StoreError> {
    Page::from_overfetch(items, limit, cursor)
}

/// A position in a list (`usize`) as a column value.
pub(crate) fn position(index: usize) -> Result<i64, StoreError> {
    i64::try_from(index).map_err(|_| unexpected("too many entries"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_times_round_trip_and_sort() {
        let a = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let b = a + time::Duration::microseconds(1);
        let (ka, kb) = (cursor_time(a).unwrap(), cursor_time(b).unwrap());
        assert_eq!(ka, "2023-11-14T22:13:20.123456Z");
        assert!(ka < kb);
        assert_eq!(parse_cursor_time(&ka).unwrap(), a);
        assert!(parse_cursor_time("' OR 1=1 --").is_err());
    }

    #[test]
    fn micros_floor_before_the_epoch() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(-1_500).unwrap();
        assert_eq!(micros(t).unwrap(), -2);
        assert_eq!(from_micros(-2).unwrap().unix_timestamp_nanos(), -2_000);
    }
}
