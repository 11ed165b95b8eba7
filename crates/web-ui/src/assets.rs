//! The stylesheet and the passkey script, compiled into the binary and served with a long
//! cache lifetime; pages link them with a content hash in the query so that a new release is
//! fetched at once.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub(crate) const CSS_PATH: &str = "/assets/tessera.css";
const CSS: &str = include_str!("../assets/tessera.css");
pub(crate) const JS_PATH: &str = "/assets/webauthn.js";
const JS: &str = include_str!("../assets/webauthn.js");

/// FNV-1a of a file, computed at compile time.
const fn fnv1a(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const CSS_HASH: u64 = fnv1a(CSS);
const JS_HASH: u64 = fnv1a(JS);

/// The stylesheet's URL as pages link it.
pub(crate) fn css_href() -> String {
    format!("{CSS_PATH}?v={CSS_HASH:016x}")
}

/// The passkey script's URL as pages link it.
pub(crate) fn js_href() -> String {
    format!("{JS_PATH}?v={JS_HASH:016x}")
}

fn immutable(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
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

pub(crate) async fn stylesheet() -> Response {
    immutable(CSS, "text/css; charset=utf-8")
}

pub(crate) async fn script() -> Response {
    immutable(JS, "text/javascript; charset=utf-8")
}
