use crate::auth_settings::MessageTemplate;
use crate::identifiers::{Email, PhoneNumber};
use async_trait::async_trait;

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    Email(Email),
    Sms(PhoneNumber),
}

impl Channel {
    pub fn suffix(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Sms(_) => "sms",
        }
    }
}

/// What a message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A code that verifies an email address or phone number.
    VerifyCode,
    /// A code that lets the user set a new password.
    RecoverCode,
    /// Someone tried to register with an identifier that already has an account.
    AccountExists,
    /// Someone asked to recover an account for an identifier that has none.
    NoAccount,
    /// The password was changed.
    PasswordChanged,
    /// A code that signs the user in.
    SignInCode,
    /// A link that signs the user in.
    SignInLink,
    /// Someone signed in from a device not seen before (`link`: the security page).
    NewDeviceSignIn,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyCode => "verify_code",
            Self::RecoverCode => "recover_code",
            Self::AccountExists => "account_exists",
            Self::NoAccount => "no_account",
            Self::PasswordChanged => "password_changed",
            Self::SignInCode => "sign_in_code",
            Self::SignInLink => "sign_in_link",
            Self::NewDeviceSignIn => "new_device_sign_in",
        }
    }
}

/// A message to one person. Never logged: it carries codes.
#[derive(Clone)]
pub struct Message {
    pub tenant_slug: String,
    pub tenant_name: String,
    pub channel: Channel,
    pub kind: MessageKind,
    pub code: Option<String>,
    pub link: Option<String>,
    /// How long the code is valid, in minutes.
    pub minutes: Option<u32>,
    /// The tenant's template for this kind and channel, when it overrides the default.
    pub template: Option<MessageTemplate>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("tenant_slug", &self.tenant_slug)
            .field("channel", &self.channel.suffix())
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The template does not render.
    #[error("the message template does not render: {0}")]
    Template(String),
    /// Delivery failed (after the adapter's own retries).
    #[error("the message could not be delivered: {0}")]
    Delivery(String),
}

/// Email and SMS delivery.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Renders and delivers (or queues for delivery) one message.
    async fn send(&self, message: &Message) -> Result<(), NotifyError>;
    /// Whether a tenant's template compiles and renders with sample values.
    fn check_template(&self, template: &MessageTemplate) -> Result<(), NotifyError>;
}
