//! Tessera HTTP kit, shared by every HTTP interface crate: RFC 9457 problem responses,
//! extractors whose refusals are problems too, the common middleware stack (request ids,
//! security headers, body limits, tracing, panic catching) and per-route Prometheus metrics.
//!
//! May depend on: axum, tower, tower-http, serde, prometheus-client. Knows nothing of the
//! domain, the application or any adapter.
//!
//! Entry points: [`Problem`], [`JsonBody`], [`PathParam`], [`QueryParams`],
//! [`layers::apply`], [`metrics::HttpMetrics`].

pub mod client;
pub mod cookies;
mod extract;
pub mod layers;
pub mod metrics;
mod problem;

pub use extract::{JsonBody, PathParam, QueryParams};
pub use problem::{PROBLEM_CONTENT_TYPE, Problem};
