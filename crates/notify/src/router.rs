//! Email to one notifier, SMS to another.

use crate::templates::Templates;
use async_trait::async_trait;
use std::sync::Arc;
use tessera_domain::auth_settings::MessageTemplate;
use tessera_domain::ports::{Channel, Message, Notifier, NotifyError};

/// Sends email through one notifier and SMS through another (an [`SmtpSender`](crate::SmtpSender)
/// and an [`SmsWebhookSender`](crate::SmsWebhookSender), say, or [`NotConfigured`] for a
/// channel without a provider).
pub struct ChannelRouter {
    email: Arc<dyn Notifier>,
    sms: Arc<dyn Notifier>,
    templates: Templates,
}

impl ChannelRouter {
    pub fn new(email: Arc<dyn Notifier>, sms: Arc<dyn Notifier>) -> Self {
        Self {
            email,
            sms,
            templates: Templates::new(),
        }
    }
}

#[async_trait]
impl Notifier for ChannelRouter {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        match message.channel {
            Channel::Email(_) => self.email.send(message).await,
            Channel::Sms(_) => self.sms.send(message).await,
        }
    }

    fn check_template(&self, template: &MessageTemplate) -> Result<(), NotifyError> {
        self.templates.check(template)
    }
}

/// A channel with no provider: every message is refused with `Delivery` (after its template
/// is rendered, so that template errors still show).
pub struct NotConfigured {
    channel: &'static str,
    templates: Templates,
}

impl NotConfigured {
    /// `channel` names what is missing in the error, e.g. `SMS`.
    pub fn new(channel: &'static str) -> Self {
        Self {
            channel,
            templates: Templates::new(),
        }
    }
}

#[async_trait]
impl Notifier for NotConfigured {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        self.templates.render(message)?;
        Err(NotifyError::Delivery(format!(
            "no {} provider is configured",
            self.channel
        )))
    }

    fn check_template(&self, template: &MessageTemplate) -> Result<(), NotifyError> {
        self.templates.check(template)
    }
}
