//! Tessera notifier adapter (driven side) implementing the domain's `Notifier` port: it renders
//! messages from templates and delivers them by email or SMS.
//!
//! - [`Templates`]: the default message of every kind and channel, and tenants' overrides
//!   (minijinja, plain text, variables `tenant`, `code`, `link`, `minutes`, `user`).
//! - [`FileOutbox`]: appends every message, code included, as one JSON line to
//!   `<dir>/outbox.jsonl`; the development and test default, never for production.
//! - [`SmtpSender`]: email over SMTP (lettre, rustls); [`SmsWebhookSender`]: SMS through an
//!   HTTP webhook. Both deliver in the background with retries, so that `send` returns at
//!   once and a response's timing never depends on delivery.
//! - [`ChannelRouter`]: email to one notifier, SMS to another; [`NotConfigured`] refuses a
//!   channel that has no provider.
//!
//! Nothing here logs a message's body, code, link or recipient: failures are logged with the
//! tenant, the kind of message and a description of the error only.
//!
//! May depend on: the domain only (plus minijinja, lettre, reqwest, tokio).
//! Entry points: [`FileOutbox::new`], [`SmtpSender::new`], [`SmsWebhookSender::new`],
//! [`ChannelRouter::new`].

mod delivery;
mod error;
mod outbox;
mod router;
mod sms_webhook;
mod smtp;
mod templates;

pub use delivery::RetryPolicy;
pub use error::SettingsError;
pub use outbox::{FileOutbox, OUTBOX_FILE, OutboxEntry, read_outbox};
pub use router::{ChannelRouter, NotConfigured};
pub use sms_webhook::{SmsWebhookSender, SmsWebhookSettings};
pub use smtp::{SmtpSender, SmtpSettings};
pub use templates::{ChannelKind, Rendered, Templates};
