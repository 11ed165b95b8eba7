//! The file outbox: every message as one JSON line, for development and tests.

use crate::error::SettingsError;
use crate::templates::{ChannelKind, Templates};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tessera_domain::auth_settings::MessageTemplate;
use tessera_domain::ports::{Channel, Clock, Message, Notifier, NotifyError};
use time::OffsetDateTime;

/// The file, inside the outbox directory, that holds the messages.
pub const OUTBOX_FILE: &str = "outbox.jsonl";

/// One line of the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The tenant's slug.
    pub tenant: String,
    /// `email` or `sms`.
    pub channel: String,
    /// The email address or E.164 phone number.
    pub to: String,
    /// `verify_code`, `recover_code`, `account_exists`, `no_account`, `password_changed`,
    /// `sign_in_code`, `sign_in_link` or `new_device_sign_in`.
    pub kind: String,
    /// The email subject (`null` for SMS).
    pub subject: Option<String>,
    /// The rendered text, as it would be sent.
    pub text: String,
    pub code: Option<String>,
    pub link: Option<String>,
}

/// Writes every message, code included, to `<dir>/outbox.jsonl`, one JSON object per line,
/// before `send` returns. The development and test default: it stores codes in clear, so it
/// is never for production.
pub struct FileOutbox {
    path: PathBuf,
    dir: PathBuf,
    /// Held while a line is written, so that concurrent lines never interleave.
    write: Mutex<()>,
    clock: Arc<dyn Clock>,
    templates: Templates,
}

impl FileOutbox {
    /// Creates `dir` if needed.
    pub fn new(dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Result<Self, SettingsError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| {
            SettingsError::new(
                "notify.outbox_dir",
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        Ok(Self {
            path: dir.join(OUTBOX_FILE),
            dir,
            write: Mutex::new(()),
            clock,
            templates: Templates::new(),
        })
    }

    /// The `outbox.jsonl` file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every message written so far, oldest first.
    pub fn entries(&self) -> std::io::Result<Vec<OutboxEntry>> {
        read_outbox(&self.dir)
    }

    fn append(&self, line: &[u8]) -> std::io::Result<()> {
        let _guard = self
            .write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::fs::create_dir_all(&self.dir)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(line)?;
        file.flush()
    }
}

/// Reads the messages of the outbox in `dir` (none when it has no file yet).
pub fn read_outbox(dir: &Path) -> std::io::Result<Vec<OutboxEntry>> {
    let text = match std::fs::read_to_string(dir.join(OUTBOX_FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
        .collect()
}

#[async_trait]
impl Notifier for FileOutbox {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let rendered = self.templates.render(message)?;
        let to = match &message.channel {
            Channel::Email(email) => email.as_str().to_owned(),
            Channel::Sms(phone) => phone.as_str().to_owned(),
        };
        let entry = OutboxEntry {
            at: self.clock.now(),
            tenant: message.tenant_slug.clone(),
            channel: ChannelKind::of(&message.channel).as_str().to_owned(),
            to,
            kind: message.kind.as_str().to_owned(),
            subject: rendered.subject,
            text: rendered.text,
            code: message.code.clone(),
            link: message.link.clone(),
        };
        let mut line = serde_json::to_vec(&entry)
            .map_err(|e| NotifyError::Delivery(format!("cannot encode the outbox line: {e}")))?;
        line.push(b'\n');
        self.append(&line)
            .map_err(|e| NotifyError::Delivery(format!("cannot write the outbox: {e}")))
    }

    fn check_template(&self, template: &MessageTemplate) -> Result<(), NotifyError> {
        self.templates.check(template)
    }
}
