//! The stylesheet, compiled into the binary and served with a long cache lifetime; pages link
//! it with a content hash in the query so that a new release is fetched at once.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub(crate) const CSS_PATH: &str = "/assets/tessera.css";
const CSS: &str = include_str!("../assets/tessera.css");

/// FNV-1a of the stylesheet, computed at compile time.
const CSS_HASH: u64 = {
    let bytes = CSS.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
};

/// The stylesheet's URL as pages link it.
pub(crate) fn css_href() -> String {
    format!("{CSS_PATH}?v={CSS_HASH:016x}")
}

pub(crate) async fn stylesheet() -> Response {
    let mut response = CSS.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
