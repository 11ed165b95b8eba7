//! Message texts: a default per kind and channel, and tenants' overrides. Plain text, so
//! auto-escaping is off; a tenant's template runs with a fuel limit and its output is capped,
//! since tenants edit them.

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use std::collections::BTreeMap;
use tessera_domain::auth_settings::MessageTemplate;
use tessera_domain::ports::{Channel, Message, MessageKind, NotifyError};

/// Instructions one rendering may spend (a loop iteration, an output...): ample for a
/// message, small enough that a template with runaway loops fails fast.
const FUEL: u64 = 50_000;
const MAX_SUBJECT_CHARS: usize = 250;
const MAX_EMAIL_TEXT_CHARS: usize = 20_000;
/// Ten SMS segments.
const MAX_SMS_TEXT_CHARS: usize = 1_600;

/// Email or SMS, without the recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    Email,
    Sms,
}

impl ChannelKind {
    pub fn of(channel: &Channel) -> Self {
        match channel {
            Channel::Email(_) => Self::Email,
            Channel::Sms(_) => Self::Sms,
        }
    }

    /// `email` or `sms`, as in template keys (`verify_code.sms`) and the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

/// A rendered message.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The email subject; `None` for SMS.
    pub subject: Option<String>,
    pub text: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered").finish_non_exhaustive()
    }
}

/// Renders messages. Cheap to create; every notifier holds one.
pub struct Templates {
    /// For rendering: an absent variable (no link, say) prints as nothing.
    render: Environment<'static>,
    /// For checking a tenant's template: printing an unknown variable (a typo) is an error.
    check: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        Self {
            render: environment(UndefinedBehavior::Lenient),
            check: environment(UndefinedBehavior::SemiStrict),
        }
    }

    /// The built-in template of a kind on a channel (what a tenant's override replaces).
    pub fn default_template(kind: MessageKind, channel: ChannelKind) -> MessageTemplate {
        let (subject, email, sms) = defaults(kind);
        match channel {
            ChannelKind::Email => MessageTemplate {
                subject: Some(subject.to_owned()),
                text: email.to_owned(),
            },
            ChannelKind::Sms => MessageTemplate {
                subject: None,
                text: sms.to_owned(),
            },
        }
    }

    /// Renders a message with the tenant's template when it has one, else the default.
    /// `Template` if the template fails to render or renders to an empty or oversized text.
    pub fn render(&self, message: &Message) -> Result<Rendered, NotifyError> {
        let channel = ChannelKind::of(&message.channel);
        let default = Self::default_template(message.kind, channel);
        let chosen = message.template.as_ref().unwrap_or(&default);
        let ctx = context(message);
        let text = render_text(&self.render, &chosen.text, ctx.clone(), channel)?;
        let subject = match channel {
            ChannelKind::Sms => None,
            ChannelKind::Email => {
                let source = chosen
                    .subject
                    .as_deref()
                    .or(default.subject.as_deref())
                    .unwrap_or_default();
                Some(render_subject(&self.render, source, ctx)?)
            }
        };
        Ok(Rendered { subject, text })
    }

    /// Whether a tenant's template compiles and renders with sample values, printing only
    /// known variables. The checks are made for an email (the larger limits); an SMS text over
    /// its limit is refused when it is sent.
    pub fn check(&self, template: &MessageTemplate) -> Result<(), NotifyError> {
        let ctx = sample_context();
        render_text(&self.check, &template.text, ctx.clone(), ChannelKind::Email)?;
        if let Some(subject) = &template.subject {
            render_subject(&self.check, subject, ctx)?;
        }
        Ok(())
    }
}

fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(undefined);
    env.set_fuel(Some(FUEL));
    env
}

fn context(message: &Message) -> Value {
    let mut vars: BTreeMap<&str, Value> = BTreeMap::new();
    vars.insert("tenant", Value::from(message.tenant_name.as_str()));
    if let Some(code) = &message.code {
        vars.insert("code", Value::from(code.as_str()));
    }
    if let Some(link) = &message.link {
        vars.insert("link", Value::from(link.as_str()));
    }
    if let Some(minutes) = message.minutes {
        vars.insert("minutes", Value::from(minutes));
    }
    Value::from(vars)
}

fn sample_context() -> Value {
    let mut vars: BTreeMap<&str, Value> = BTreeMap::new();
    vars.insert("tenant", Value::from("Acme"));
    vars.insert("code", Value::from("123456"));
    vars.insert(
        "link",
        Value::from("https://id.example.com/acme/verify?code=123456"),
    );
    vars.insert("minutes", Value::from(10));
    vars.insert("user", Value::from("jane.doe"));
    Value::from(vars)
}

fn template_error(e: &minijinja::Error) -> NotifyError {
    NotifyError::Template(e.to_string())
}

fn render_text(
    env: &Environment<'static>,
    source: &str,
    ctx: Value,
    channel: ChannelKind,
) -> Result<String, NotifyError> {
    let text = env
        .render_str(source, ctx)
        .map_err(|e| template_error(&e))?;
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(NotifyError::Template("the text renders empty".to_owned()));
    }
    let max = match channel {
        ChannelKind::Email => MAX_EMAIL_TEXT_CHARS,
        ChannelKind::Sms => MAX_SMS_TEXT_CHARS,
    };
    if text.chars().count() > max {
        return Err(NotifyError::Template(format!(
            "the {} text renders longer than {max} characters",
            channel.as_str()
        )));
    }
    Ok(text)
}

/// A subject is one line: line breaks become spaces.
fn render_subject(
    env: &Environment<'static>,
    source: &str,
    ctx: Value,
) -> Result<String, NotifyError> {
    let subject = env
        .render_str(source, ctx)
        .map_err(|e| template_error(&e))?;
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    if subject.is_empty() {
        return Err(NotifyError::Template(
            "the subject renders empty".to_owned(),
        ));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(NotifyError::Template(format!(
            "the subject renders longer than {MAX_SUBJECT_CHARS} characters"
        )));
    }
    Ok(subject)
}

/// (email subject, email text, SMS text) of each kind.
fn defaults(kind: MessageKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        MessageKind::VerifyCode => (
            "Your {{ tenant }} verification code",
            "Your {{ tenant }} verification code is {{ code }}.\
             {% if minutes %} It expires in {{ minutes }} minutes.{% endif %}\n\
             {% if link %}\nYou can also open this link: {{ link }}\n{% endif %}\n\
             If you did not ask for it, ignore this message.",
            "Your {{ tenant }} verification code is {{ code }}.\
             {% if minutes %} It expires in {{ minutes }} minutes.{% endif %} \
             If you did not ask for it, ignore this message.",
        ),
        MessageKind::RecoverCode => (
            "Reset your {{ tenant }} password",
            "Your {{ tenant }} password reset code is {{ code }}.\
             {% if minutes %} It expires in {{ minutes }} minutes.{% endif %}\n\
             {% if link %}\nYou can also open this link: {{ link }}\n{% endif %}\n\
             If you did not ask to reset your password, ignore this message: \
             your password has not changed.",
            "Your {{ tenant }} password reset code is {{ code }}.\
             {% if minutes %} It expires in {{ minutes }} minutes.{% endif %} \
             If you did not ask for it, ignore this message.",
        ),
        MessageKind::AccountExists => (
            "You already have a {{ tenant }} account",
            "Someone tried to create a {{ tenant }} account with this email address, \
             but it already has one.\n\n\
             If it was you, sign in instead{% if link %}: {{ link }}{% else %}.{% endif %} \
             If you forgot your password, choose \"Forgot password\" on the sign-in page.\n\n\
             If it was not you, ignore this message.",
            "Someone tried to create a {{ tenant }} account with this phone number, \
             but it already has one. If it was you, sign in instead. \
             If not, ignore this message.",
        ),
        MessageKind::NoAccount => (
            "{{ tenant }} account recovery",
            "Someone asked to reset the password of a {{ tenant }} account with this email \
             address, but no account uses it.\n\n\
             If it was you, you may have signed up with another address\
             {% if link %}, or you can create an account: {{ link }}{% else %}.{% endif %}\n\n\
             If it was not you, ignore this message.",
            "Someone asked to reset a {{ tenant }} password for this phone number, \
             but no account uses it. If it was not you, ignore this message.",
        ),
        MessageKind::PasswordChanged => (
            "Your {{ tenant }} password was changed",
            "The password of your {{ tenant }} account was just changed.\n\n\
             If it was you, there is nothing to do. If it was not you, reset your password \
             now{% if link %}: {{ link }}{% else %}{% endif %} and tell your administrator.",
            "The password of your {{ tenant }} account was just changed. \
             If it was not you, reset your password now and tell your administrator.",
        ),
        MessageKind::SignInCode => (
            "Your {{ tenant }} sign-in code",
            "Your {{ tenant }} sign-in code is {{ code }}.\
             {% if minutes %} It expires in {{ minutes }} minutes.{% endif %}\n\n\
             If you did not try to sign in, ignore this message: nobody can sign in without \
             this code.",
            "Your {{ tenant }} sign-in code is {{ code }}.\
             {% if minutes %} It expires in {{ minutes }} minutes.{% endif %} \
             If you did not ask for it, ignore this message.",
        ),
        MessageKind::SignInLink => (
            "Sign in to {{ tenant }}",
            "Open this link to sign in to {{ tenant }}:\n\n{{ link }}\n\n\
             {% if minutes %}It works once and expires in {{ minutes }} minutes. {% endif %}\
             If you did not try to sign in, ignore this message.",
            "Sign in to {{ tenant }}: {{ link }}",
        ),
        MessageKind::NewDeviceSignIn => (
            "New sign-in to your {{ tenant }} account",
            "Your {{ tenant }} account was just signed in to from a device it had not been used \
             on before.\n\n\
             If it was you, there is nothing to do. If it was not you, change your password \
             and end the other sessions{% if link %}: {{ link }}{% else %} from your account's \
             security page{% endif %}, then tell your administrator.",
            "New sign-in to your {{ tenant }} account from an unknown device. \
             If it was not you, change your password now.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::identifiers::{Email, PhoneNumber};

    const KINDS: [MessageKind; 8] = [
        MessageKind::VerifyCode,
        MessageKind::RecoverCode,
        MessageKind::AccountExists,
        MessageKind::NoAccount,
        MessageKind::PasswordChanged,
        MessageKind::SignInCode,
        MessageKind::SignInLink,
        MessageKind::NewDeviceSignIn,
    ];

    fn message(kind: MessageKind, channel: Channel) -> Message {
        Message {
            tenant_slug: "acme".to_owned(),
            tenant_name: "Acme".to_owned(),
            channel,
            kind,
            code: Some("123456".to_owned()),
            link: None,
            minutes: Some(10),
            template: None,
        }
    }

    fn email() -> Channel {
        Channel::Email(Email::parse("jane@example.com").unwrap())
    }

    fn sms() -> Channel {
        Channel::Sms(PhoneNumber::parse("+15551234567").unwrap())
    }

    #[test]
    fn the_verification_code_reads_as_one_short_sentence() {
        let t = Templates::new();
        let r = t.render(&message(MessageKind::VerifyCode, sms())).unwrap();
        assert_eq!(r.subject, None);
        assert_eq!(
            r.text,
            "Your Acme verification code is 123456. It expires in 10 minutes. \
             If you did not ask for it, ignore this message."
        );
        let r = t
            .render(&message(MessageKind::VerifyCode, email()))
            .unwrap();
        assert_eq!(r.subject.as_deref(), Some("Your Acme verification code"));
        assert_eq!(
            r.text,
            "Your Acme verification code is 123456. It expires in 10 minutes.\n\n\
             If you did not ask for it, ignore this message."
        );
    }

    #[test]
    fn every_default_renders_and_checks_on_both_channels() {
        let t = Templates::new();
        for kind in KINDS {
            for (channel, kind_of) in [(email(), ChannelKind::Email), (sms(), ChannelKind::Sms)] {
                let mut m = message(kind, channel);
                let plain = t.render(&m).unwrap();
                assert!(!plain.text.contains("{{"), "{kind:?}: {}", plain.text);
                assert!(!plain.text.contains("  "), "{kind:?}: {}", plain.text);
                assert!(plain.text.contains("Acme"));
                if kind_of == ChannelKind::Sms {
                    assert!(
                        plain.text.chars().count() <= 160,
                        "{kind:?}: {}",
                        plain.text
                    );
                }
                m.link = Some("https://id.example.com/x".to_owned());
                let with_link = t.render(&m).unwrap();
                assert!(!with_link.text.contains("{%"));
                t.check(&Templates::default_template(kind, kind_of))
                    .unwrap();
            }
        }
        let r = t
            .render(&Message {
                link: Some("https://id.example.com/v?c=1".to_owned()),
                ..message(MessageKind::RecoverCode, email())
            })
            .unwrap();
        assert!(
            r.text
                .contains("You can also open this link: https://id.example.com/v?c=1\n")
        );
    }

    #[test]
    fn text_is_not_html_escaped() {
        let t = Templates::new();
        let mut m = message(MessageKind::VerifyCode, sms());
        m.tenant_name = "Smith & <Sons>".to_owned();
        assert!(t.render(&m).unwrap().text.contains("Smith & <Sons>"));
    }

    #[test]
    fn a_tenant_template_replaces_the_default_and_keeps_the_default_subject_when_it_has_none() {
        let t = Templates::new();
        let mut m = message(MessageKind::VerifyCode, email());
        m.template = Some(MessageTemplate {
            subject: None,
            text: "Code {{ code }} for {{ tenant }}{{ link }}.".to_owned(),
        });
        let r = t.render(&m).unwrap();
        assert_eq!(r.text, "Code 123456 for Acme.");
        assert_eq!(r.subject.as_deref(), Some("Your Acme verification code"));
        m.template = Some(MessageTemplate {
            subject: Some("{{ tenant }}\r\ncode".to_owned()),
            text: "x".to_owned(),
        });
        assert_eq!(t.render(&m).unwrap().subject.as_deref(), Some("Acme code"));
    }

    #[test]
    fn broken_or_abusive_templates_are_refused() {
        let t = Templates::new();
        let bad = |text: &str| MessageTemplate {
            subject: None,
            text: text.to_owned(),
        };
        for source in [
            "Your code is {{ code ",
            "{% if code %}unclosed",
            "{{ cod }}",
            "{{ code | nosuchfilter }}",
            "   ",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "{% for i in range(30000) %}xx{% endfor %}",
        ] {
            let e = t.check(&bad(source)).unwrap_err();
            assert!(matches!(e, NotifyError::Template(_)), "{source}");
        }
        let e = t
            .check(&MessageTemplate {
                subject: Some("{{ tenant ".to_owned()),
                text: "ok {{ code }}".to_owned(),
            })
            .unwrap_err();
        assert!(matches!(e, NotifyError::Template(_)));
        t.check(&bad(
            "Hi {{ user }}, {{ code }} ({{ minutes }} min) {{ link }} {{ tenant }}",
        ))
        .unwrap();
    }
}
