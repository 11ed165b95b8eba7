//! The notifiers against real peers on loopback: the file outbox, a small SMTP server written
//! here, and an HTTP webhook (axum). Also: nothing a message carries reaches the log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_domain::auth_settings::MessageTemplate;
use tessera_domain::identifiers::{Email, PhoneNumber};
use tessera_domain::ports::{Channel, Clock, Message, MessageKind, Notifier, NotifyError};
use tessera_notify::{
    ChannelRouter, FileOutbox, NotConfigured, RetryPolicy, SmsWebhookSender, SmsWebhookSettings,
    SmtpSender, SmtpSettings, read_outbox,
};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

struct FixedClock(OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

const CODE: &str = "482913";

fn email_message(to: &str) -> Message {
    Message {
        tenant_slug: "acme".to_owned(),
        tenant_name: "Acme".to_owned(),
        channel: Channel::Email(Email::parse(to).unwrap()),
        kind: MessageKind::VerifyCode,
        code: Some(CODE.to_owned()),
        link: Some(format!("https://id.example.com/acme/verify?code={CODE}")),
        minutes: Some(10),
        template: None,
    }
}

fn sms_message(to: &str) -> Message {
    Message {
        channel: Channel::Sms(PhoneNumber::parse(to).unwrap()),
        link: None,
        ..email_message("x@example.com")
    }
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
    }
}

async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("nothing arrived within 10 s")
        .expect("the server stopped")
}

// ---------------------------------------------------------------------------------------------
// The file outbox

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_holds_one_valid_json_line_per_message_even_when_sent_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("not-yet-there");
    let outbox = Arc::new(
        FileOutbox::new(
            &outbox_dir,
            Arc::new(FixedClock(datetime!(2026-11-22 10:00 UTC))),
        )
        .unwrap(),
    );
    outbox
        .send(&email_message("Jane@Example.com"))
        .await
        .unwrap();
    // Written before `send` returned.
    let raw = std::fs::read_to_string(outbox_dir.join("outbox.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(raw.trim_end()).unwrap();
    assert_eq!(line["at"], "2026-11-22T10:00:00Z");
    assert_eq!(line["tenant"], "acme");
    assert_eq!(line["channel"], "email");
    assert_eq!(line["to"], "Jane@Example.com");
    assert_eq!(line["kind"], "verify_code");
    assert_eq!(line["subject"], "Your Acme verification code");
    assert_eq!(line["code"], CODE);
    assert_eq!(
        line["link"],
        format!("https://id.example.com/acme/verify?code={CODE}")
    );
    let text = line["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "Your Acme verification code is {CODE}. It expires in 10 minutes."
        )),
        "{text}"
    );

    let mut tasks = Vec::new();
    for i in 0..40 {
        let outbox = Arc::clone(&outbox);
        tasks.push(tokio::spawn(async move {
            let mut m = sms_message(&format!("+1555123{i:04}"));
            m.code = Some(format!("{i:06}"));
            outbox.send(&m).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let entries = read_outbox(&outbox_dir).unwrap();
    assert_eq!(entries.len(), 41);
    assert_eq!(outbox.entries().unwrap(), entries);
    for i in 0..40 {
        let to = format!("+1555123{i:04}");
        let e = entries.iter().find(|e| e.to == to).unwrap();
        let code = format!("{i:06}");
        assert_eq!(e.channel, "sms");
        assert_eq!(e.subject, None);
        assert_eq!(e.code.as_deref(), Some(code.as_str()));
        assert!(e.text.contains(&code));
    }
}

#[tokio::test]
async fn a_tenant_template_is_used_instead_of_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(
        dir.path(),
        Arc::new(FixedClock(datetime!(2026-11-22 10:00 UTC))),
    )
    .unwrap();
    let mut m = email_message("jane@example.com");
    m.template = Some(MessageTemplate {
        subject: Some("{{ tenant }} — your code".to_owned()),
        text: "Hello from {{ tenant }}! Code: {{ code }} (valid {{ minutes }} min).".to_owned(),
    });
    outbox.send(&m).await.unwrap();
    let e = outbox.entries().unwrap().pop().unwrap();
    assert_eq!(e.subject.as_deref(), Some("Acme — your code"));
    assert_eq!(
        e.text,
        format!("Hello from Acme! Code: {CODE} (valid 10 min).")
    );
}

#[tokio::test]
async fn broken_templates_are_refused_by_check_and_by_send() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(
        dir.path(),
        Arc::new(FixedClock(datetime!(2026-11-22 10:00 UTC))),
    )
    .unwrap();
    let broken = MessageTemplate {
        subject: None,
        text: "Your code is {{ code ".to_owned(),
    };
    assert!(matches!(
        outbox.check_template(&broken),
        Err(NotifyError::Template(_))
    ));
    let mut m = email_message("jane@example.com");
    m.template = Some(broken);
    assert!(matches!(
        outbox.send(&m).await,
        Err(NotifyError::Template(_))
    ));
    assert!(outbox.entries().unwrap().is_empty(), "nothing was written");
    outbox
        .check_template(&MessageTemplate {
            subject: Some("{{ tenant }}".to_owned()),
            text: "{{ code }}".to_owned(),
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// SMTP

/// What the fake SMTP server received in one transaction.
#[derive(Debug)]
struct Received {
    mail_from: String,
    rcpt_to: String,
    data: String,
}

/// A tiny SMTP server: 220, EHLO → 250, MAIL/RCPT → 250, DATA → 354, "." → 250, QUIT → 221.
/// `rcpt_replies` are answered to the first RCPTs (e.g. a 451 to make the client retry);
/// later ones get 250.
async fn fake_smtp(
    rcpt_replies: Vec<&'static str>,
) -> (u16, mpsc::UnboundedReceiver<Received>, Arc<Mutex<u32>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    let replies = Arc::new(Mutex::new(rcpt_replies.into_iter()));
    let rcpts = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&rcpts);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            let replies = Arc::clone(&replies);
            let rcpts = Arc::clone(&rcpts);
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake.test ESMTP\r\n").await.unwrap();
                let (mut from, mut to) = (String::new(), String::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        "250 fake.test\r\n".into()
                    } else if upper.starts_with("MAIL FROM:") {
                        from = line[10..].trim().to_owned();
                        "250 OK\r\n".into()
                    } else if upper.starts_with("RCPT TO:") {
                        to = line[8..].trim().to_owned();
                        *rcpts.lock().unwrap() += 1;
                        match replies.lock().unwrap().next() {
                            Some(r) => format!("{r}\r\n"),
                            None => "250 OK\r\n".into(),
                        }
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        let _ = tx.send(Received {
                            mail_from: from.clone(),
                            rcpt_to: to.clone(),
                            data,
                        });
                        "250 queued\r\n".into()
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        "250 OK\r\n".into()
                    };
                    if write.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, rx, counted)
}

fn smtp_settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        retry: quick_retries(),
        timeout: Duration::from_secs(5),
        ..SmtpSettings::new(
            format!("smtp://127.0.0.1:{port}"),
            "Acme Identity <no-reply@acme.example>",
        )
    }
}

#[tokio::test]
async fn smtp_delivers_the_rendered_email_in_the_background() {
    let (port, mut rx, _) = fake_smtp(vec![]).await;
    let sender = SmtpSender::new(smtp_settings(port)).unwrap();
    sender
        .send(&email_message("jane@example.com"))
        .await
        .unwrap();
    let got = recv(&mut rx).await;
    assert_eq!(got.mail_from, "<no-reply@acme.example>");
    assert_eq!(got.rcpt_to, "<jane@example.com>");
    assert!(
        got.data.contains("Subject: Your Acme verification code"),
        "{}",
        got.data
    );
    assert!(got.data.contains("To: jane@example.com"), "{}", got.data);
    assert!(
        got.data.contains(&format!("verification code is {CODE}")),
        "{}",
        got.data
    );
    assert!(
        got.data.contains("Content-Type: text/plain"),
        "{}",
        got.data
    );

    // An SMS is not this sender's business.
    assert!(matches!(
        sender.send(&sms_message("+15551234567")).await,
        Err(NotifyError::Delivery(_))
    ));
}

#[tokio::test]
async fn smtp_retries_a_transient_refusal() {
    let (port, mut rx, rcpts) = fake_smtp(vec!["451 4.3.0 try again later"]).await;
    let sender = SmtpSender::new(smtp_settings(port)).unwrap();
    sender
        .send(&email_message("jane@example.com"))
        .await
        .unwrap();
    let got = recv(&mut rx).await;
    assert!(got.data.contains(CODE));
    assert_eq!(*rcpts.lock().unwrap(), 2, "one refusal, then one success");
}

/// Collects everything logged while a test runs (this thread only: the tests below run on a
/// current-thread runtime, so background deliveries log here too).
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

async fn until(mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_permanent_refusal_is_not_retried_and_its_log_names_no_recipient_or_code() {
    let logs = LogBuffer::default();
    let _guard = logs.install();
    // Servers quote the recipient in their refusals: that text must not reach the log.
    let (port, _rx, rcpts) =
        fake_smtp(vec!["550 5.1.1 <jane@example.com>: no such user here"]).await;
    let sender = SmtpSender::new(smtp_settings(port)).unwrap();
    sender
        .send(&email_message("jane@example.com"))
        .await
        .unwrap();
    until(|| logs.text().contains("could not be delivered")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*rcpts.lock().unwrap(), 1, "a permanent refusal is final");
    let text = logs.text();
    assert!(
        text.contains("acme") && text.contains("verify_code") && text.contains("550"),
        "{text}"
    );
    for secret in ["jane@example.com", "jane", CODE] {
        assert!(!text.contains(secret), "the log shows {secret}: {text}");
    }

    // An unreachable server: retried, then given up, still without the message's content.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let sender = SmtpSender::new(smtp_settings(port)).unwrap();
    sender
        .send(&email_message("bob@example.org"))
        .await
        .unwrap();
    until(|| logs.text().matches("could not be delivered").count() == 2).await;
    let text = logs.text();
    assert!(text.contains("cannot reach the SMTP server"), "{text}");
    for secret in ["bob@example.org", CODE] {
        assert!(!text.contains(secret), "the log shows {secret}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// SMS webhook

#[derive(Clone)]
struct Hook {
    tx: mpsc::UnboundedSender<(Option<String>, serde_json::Value)>,
    failures_left: Arc<Mutex<u32>>,
}

async fn receive_sms(
    State(hook): State<Hook>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> StatusCode {
    {
        let mut left = hook.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    hook.tx.send((auth, body)).unwrap();
    StatusCode::ACCEPTED
}

async fn fake_webhook(
    failures: u32,
) -> (
    String,
    mpsc::UnboundedReceiver<(Option<String>, serde_json::Value)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route("/sms", post(receive_sms))
        .with_state(Hook {
            tx,
            failures_left: Arc::new(Mutex::new(failures)),
        });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, rx)
}

#[tokio::test]
async fn the_sms_webhook_receives_json_with_the_bearer_token_after_a_retry() {
    let (url, mut rx) = fake_webhook(1).await;
    let sender = SmsWebhookSender::new(SmsWebhookSettings {
        bearer_token: Some("hook-secret".to_owned()),
        retry: quick_retries(),
        ..SmsWebhookSettings::new(url)
    })
    .unwrap();
    sender.send(&sms_message("+1 555 123 4567")).await.unwrap();
    let (auth, body) = recv(&mut rx).await;
    assert_eq!(auth.as_deref(), Some("Bearer hook-secret"));
    assert_eq!(body["to"], "+15551234567");
    assert_eq!(body["tenant"], "acme");
    assert_eq!(
        body["text"],
        format!(
            "Your Acme verification code is {CODE}. It expires in 10 minutes. \
             If you did not ask for it, ignore this message."
        )
    );
    assert_eq!(body.as_object().unwrap().len(), 3);
    assert!(matches!(
        sender.send(&email_message("jane@example.com")).await,
        Err(NotifyError::Delivery(_))
    ));
}

#[tokio::test]
async fn the_router_sends_email_and_sms_to_their_own_senders() {
    let (port, mut mail, _) = fake_smtp(vec![]).await;
    let (url, mut sms) = fake_webhook(0).await;
    let router = ChannelRouter::new(
        Arc::new(SmtpSender::new(smtp_settings(port)).unwrap()),
        Arc::new(SmsWebhookSender::new(SmsWebhookSettings::new(url)).unwrap()),
    );
    router.send(&sms_message("+15551234567")).await.unwrap();
    router
        .send(&email_message("jane@example.com"))
        .await
        .unwrap();
    assert_eq!(recv(&mut sms).await.1["to"], "+15551234567");
    assert_eq!(recv(&mut mail).await.rcpt_to, "<jane@example.com>");

    let email_only = ChannelRouter::new(
        Arc::new(SmtpSender::new(smtp_settings(port)).unwrap()),
        Arc::new(NotConfigured::new("SMS")),
    );
    let e = email_only
        .send(&sms_message("+15551234567"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no SMS provider"), "{e}");
    assert!(
        email_only
            .check_template(&MessageTemplate {
                subject: None,
                text: "{% if %}".to_owned(),
            })
            .is_err()
    );
}
