//! SMS through an HTTP webhook (a gateway of the operator's choosing, or a small relay in front
//! of one), delivered in the background with retries.

use crate::delivery::{Deliveries, Failure, RetryPolicy};
use crate::error::SettingsError;
use crate::smtp::redact_url;
use crate::templates::Templates;
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::auth_settings::MessageTemplate;
use tessera_domain::ports::{Channel, Message, Notifier, NotifyError};

/// Where SMS are posted.
#[derive(Clone)]
pub struct SmsWebhookSettings {
    /// An `https://` (or, for a relay on the same host or a test, `http://`) URL that receives
    /// `POST {"to": "+15551234567", "text": "...", "tenant": "acme"}` and answers 2xx.
    pub url: String,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub bearer_token: Option<String>,
    /// Longest wait for one request.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl SmsWebhookSettings {
    /// Settings with no token, a 10 s timeout and the default retries.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            bearer_token: None,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// The token and the URL's query and password are never shown.
impl std::fmt::Debug for SmsWebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsWebhookSettings")
            .field("url", &redact_url(&self.url))
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

#[derive(Serialize)]
struct Payload {
    to: String,
    text: String,
    tenant: String,
}

/// Posts each SMS as JSON to the configured webhook.
pub struct SmsWebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    bearer_token: Option<Arc<str>>,
    templates: Templates,
    deliveries: Deliveries,
}

impl SmsWebhookSender {
    pub fn new(settings: SmsWebhookSettings) -> Result<Self, SettingsError> {
        let url = reqwest::Url::parse(&settings.url).map_err(|e| {
            SettingsError::new("notify.sms_webhook.url", format!("not a valid URL: {e}"))
        })?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            return Err(SettingsError::new(
                "notify.sms_webhook.url",
                "the webhook URL must be an http(s) URL with a host",
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                SettingsError::new(
                    "notify.sms_webhook",
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(Self {
            client,
            url,
            bearer_token: settings.bearer_token.map(Arc::from),
            templates: Templates::new(),
            deliveries: Deliveries::new(settings.retry),
        })
    }
}

#[async_trait]
impl Notifier for SmsWebhookSender {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let Channel::Sms(to) = &message.channel else {
            return Err(NotifyError::Delivery(
                "this notifier only sends SMS".to_owned(),
            ));
        };
        let rendered = self.templates.render(message)?;
        let body = serde_json::to_vec(&Payload {
            to: to.as_str().to_owned(),
            text: rendered.text,
            tenant: message.tenant_slug.clone(),
        })
        .map_err(|e| NotifyError::Delivery(format!("cannot encode the SMS: {e}")))?;
        let client = self.client.clone();
        let url = self.url.clone();
        let token = self.bearer_token.clone();
        self.deliveries.spawn(
            message.tenant_slug.clone(),
            "sms",
            message.kind,
            move || {
                let mut request = client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                async move { post(request).await }
            },
        );
        Ok(())
    }

    fn check_template(&self, template: &MessageTemplate) -> Result<(), NotifyError> {
        self.templates.check(template)
    }
}

async fn post(request: reqwest::RequestBuilder) -> Result<(), Failure> {
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            // The gateway's answer may quote the message: only its status is kept.
            let retry = status.is_server_error()
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::REQUEST_TIMEOUT;
            Err(Failure {
                retry,
                reason: format!("the SMS webhook answered {}", status.as_u16()),
            })
        }
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            Err(Failure {
                retry: true,
                reason: format!("SMS webhook {what}: {}", e.without_url()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_not_shown_and_bad_urls_are_refused() {
        let mut s = SmsWebhookSettings::new("https://sms.example.com/send?key=abc");
        s.bearer_token = Some("t0ken".to_owned());
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("t0ken") && !shown.contains("abc"),
            "{shown}"
        );
        for bad in ["not a url", "ftp://x/y", "file:///tmp/x"] {
            let e = SmsWebhookSender::new(SmsWebhookSettings::new(bad))
                .err()
                .unwrap();
            assert_eq!(e.field, "notify.sms_webhook.url");
        }
    }
}
