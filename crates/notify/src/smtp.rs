//! Email over SMTP (lettre over rustls), delivered in the background with retries.

use crate::delivery::{Deliveries, Failure, RetryPolicy};
use crate::error::SettingsError;
use crate::templates::Templates;
use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message as Email};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::auth_settings::MessageTemplate;
use tessera_domain::ports::{Channel, Message, Notifier, NotifyError};

/// Where and as whom email is sent.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtps://[user:pass@]host[:port]` (TLS from the start, port 465 by default),
    /// `smtp://[user:pass@]host[:port]?tls=required` (STARTTLS, port 587), or
    /// `smtp://host[:port]` (no TLS: only for a relay on the same host or a test server).
    /// The user and password are URL-encoded.
    pub url: String,
    /// The sender, `no-reply@example.com` or `Example <no-reply@example.com>`.
    pub from: String,
    /// Longest wait for the server, per command.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl SmtpSettings {
    /// Settings with a 10 s timeout and the default retries.
    pub fn new(url: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            from: from.into(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// The URL's password is never shown.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &redact_url(&self.url))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

pub(crate) fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.set_query(None);
            url.to_string()
        }
        Err(_) => "<unparsable>".to_owned(),
    }
}

/// Sends email through one SMTP server. `send` renders, builds the email and returns; the
/// delivery runs in the background with retries and exponential back-off.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    templates: Templates,
    deliveries: Deliveries,
}

impl SmtpSender {
    /// Must be called within a Tokio runtime (the connection pool runs a task). Nothing is
    /// connected yet: a wrong password or an unreachable server shows in the log at the first
    /// message.
    pub fn new(settings: SmtpSettings) -> Result<Self, SettingsError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SettingsError::new(
                "notify.smtp",
                "the SMTP sender must be created within a Tokio runtime",
            ));
        }
        let from: Mailbox = settings.from.parse().map_err(|e| {
            SettingsError::new(
                "notify.smtp.from",
                format!("not a valid sender address: {e}"),
            )
        })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| {
                SettingsError::new("notify.smtp.url", format!("not a usable SMTP URL: {e}"))
            })?
            .timeout(Some(settings.timeout))
            .build();
        Ok(Self {
            transport,
            from,
            templates: Templates::new(),
            deliveries: Deliveries::new(settings.retry),
        })
    }
}

#[async_trait]
impl Notifier for SmtpSender {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let Channel::Email(to) = &message.channel else {
            return Err(NotifyError::Delivery(
                "this notifier only sends email".to_owned(),
            ));
        };
        let rendered = self.templates.render(message)?;
        let to: Address = to.as_str().parse().map_err(|_| {
            NotifyError::Delivery("the mail library does not accept this address".to_owned())
        })?;
        let email = Email::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(rendered.subject.unwrap_or_default())
            .header(ContentType::TEXT_PLAIN)
            .body(rendered.text)
            .map_err(|e| NotifyError::Delivery(format!("the email cannot be built: {e}")))?;
        let email = Arc::new(email);
        let transport = self.transport.clone();
        self.deliveries.spawn(
            message.tenant_slug.clone(),
            "email",
            message.kind,
            move || {
                let transport = transport.clone();
                let email = Arc::clone(&email);
                async move {
                    transport
                        .send(Email::clone(&email))
                        .await
                        .map(|_| ())
                        .map_err(|e| describe(&e))
                }
            },
        );
        Ok(())
    }

    fn check_template(&self, template: &MessageTemplate) -> Result<(), NotifyError> {
        self.templates.check(template)
    }
}

/// What went wrong, without the server's words: a rejection often quotes the recipient.
fn describe(e: &SmtpError) -> Failure {
    let status = e.status().map(|c| format!(" {c}")).unwrap_or_default();
    let (retry, reason) = if e.is_permanent() {
        (false, format!("permanent SMTP error{status}"))
    } else if e.is_transient() {
        (true, format!("transient SMTP error{status}"))
    } else if e.is_timeout() {
        (true, "the SMTP server timed out".to_owned())
    } else if e.is_tls() {
        (true, "TLS error with the SMTP server".to_owned())
    } else if e.is_client() {
        (false, "the SMTP client refused the message".to_owned())
    } else if e.is_response() {
        (true, "unexpected SMTP response".to_owned())
    } else {
        let io = std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(|io| format!(": {}", io.kind()))
            .unwrap_or_default();
        (true, format!("cannot reach the SMTP server{io}"))
    };
    Failure { retry, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_not_shown() {
        let s = SmtpSettings::new(
            "smtps://mailer:s3cret@smtp.example.com:465",
            "a@example.com",
        );
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("smtp.example.com"));
    }

    #[tokio::test]
    async fn bad_settings_are_refused() {
        let e = SmtpSender::new(SmtpSettings::new("smtp://127.0.0.1:25", "not an address"))
            .err()
            .unwrap();
        assert_eq!(e.field, "notify.smtp.from");
        let e = SmtpSender::new(SmtpSettings::new("http://x", "a@example.com"))
            .err()
            .unwrap();
        assert_eq!(e.field, "notify.smtp.url");
    }
}
