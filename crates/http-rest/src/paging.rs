//! Cursor pagination parameters and pages on the wire.

use crate::errors::ApiError;
use tessera_api_types::common::Page as WirePage;
use tessera_application::{decode_cursor, encode_cursor};
use tessera_domain::paging::{Cursor, Page, page_size};

/// Decodes an optional client cursor.
pub fn cursor(raw: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    raw.map(decode_cursor).transpose().map_err(ApiError::from)
}

pub fn limit(raw: Option<u32>) -> u32 {
    page_size(raw)
}

/// Converts a domain page into its wire form.
pub fn page<T, W>(page: Page<T>, convert: impl Fn(T) -> W) -> WirePage<W> {
    WirePage {
        items: page.items.into_iter().map(convert).collect(),
        next_cursor: page.next.as_ref().map(encode_cursor),
    }
}
