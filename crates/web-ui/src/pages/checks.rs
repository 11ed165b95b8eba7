//! Every page, in its usual and its error states, rendered without a server and checked for
//! the rules the pages promise: a label for every input, errors tied to their fields, no
//! inline script or style, a CSRF token in every POST form, unique ids, one `<h1>`.
//!
//! With `TESSERA_WEB_UI_PREVIEW=DIR` the pages are also written to `DIR` (to look at them).

use super::{
    account, enrol, login, passwordless, recover, register, second_step, security, step_up, verify,
};
use crate::request::Visit;
use std::collections::BTreeSet;
use tessera_application::{SessionInfo, SignedIn};
use tessera_domain::audit::{Actor, ActorKind, AuditEvent, FieldChange, Origin, Outcome};
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::profile::Profile;
use tessera_domain::session::Session;
use tessera_domain::tenant::{Tenant, TenantSettings, TenantSlug, TenantState};
use tessera_domain::user::{EmailEntry, PhoneEntry, User, UserKind};
use tessera_domain::{AuditEventId, OrganizationId, SessionId, TenantId, UserId};
use time::macros::datetime;
use uuid::Uuid;

fn tenant() -> Tenant {
    Tenant {
        id: TenantId::from_uuid(Uuid::from_u128(1)),
        organization_id: OrganizationId::from_uuid(Uuid::from_u128(2)),
        slug: TenantSlug::parse("acme").unwrap(),
        display_name: "Acme <Corp> & Co".to_owned(),
        state: TenantState::Active,
        settings: TenantSettings::default(),
        created_at: datetime!(2026-01-01 0:00 UTC),
        updated_at: datetime!(2026-01-01 0:00 UTC),
        version: 1,
    }
}

fn session(n: u128, device: &str) -> Session {
    Session {
        id: SessionId::from_uuid(Uuid::from_u128(n)),
        tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
        user_id: UserId::from_uuid(Uuid::from_u128(3)),
        secret_hash: String::new(),
        created_at: datetime!(2026-03-01 9:30 UTC),
        last_seen_at: datetime!(2026-03-01 10:00 UTC),
        expires_at: datetime!(2026-03-02 9:30 UTC),
        idle_timeout: time::Duration::hours(1),
        ip: Some("198.51.100.4".to_owned()),
        user_agent: None,
        device: Some(device.to_owned()),
        amr: vec!["pwd".to_owned()],
        auth_time: datetime!(2026-03-01 9:30 UTC),
        acr: tessera_domain::mfa::ACR_ONE_FACTOR.to_owned(),
        restriction: None,
        revoked_at: None,
    }
}

fn signed_in(t: &Tenant) -> SignedIn {
    let user = User {
        id: UserId::from_uuid(Uuid::from_u128(3)),
        tenant_id: t.id,
        kind: UserKind::User,
        username: Some(Username::parse("ada").unwrap()),
        emails: vec![EmailEntry {
            address: Email::parse("ada@example.com").unwrap(),
            verified: true,
            primary: true,
        }],
        phones: vec![PhoneEntry {
            number: PhoneNumber::parse("+447700900123").unwrap(),
            verified: false,
            primary: true,
        }],
        profile: Profile {
            given_name: Some("Ada".to_owned()),
            family_name: Some("Lovelace".to_owned()),
            ..Profile::default()
        },
        custom_attributes: serde_json::Map::new(),
        settings: t.settings.default_user_settings.clone(),
        state: LifecycleState::Active,
        state_before_delete: None,
        org_unit_id: None,
        created_at: datetime!(2026-01-02 8:00 UTC),
        updated_at: datetime!(2026-01-02 8:00 UTC),
        version: 1,
    };
    SignedIn {
        tenant: t.clone(),
        user,
        session: session(10, "Firefox on Linux"),
    }
}

fn event(action: &str, outcome: Outcome, reason: Option<&str>) -> AuditEvent {
    AuditEvent {
        tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
        seq: 1,
        id: AuditEventId::from_uuid(Uuid::from_u128(20)),
        at: datetime!(2026-03-01 9:30 UTC),
        actor: Actor {
            kind: ActorKind::User,
            id: None,
            tenant_id: None,
        },
        action: action.to_owned(),
        subject_kind: Some("user".to_owned()),
        subject_id: None,
        outcome,
        origin: Origin {
            ip: Some("198.51.100.4".to_owned()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0".to_owned()),
            request_id: None,
        },
        changes: reason
            .map(|r| FieldChange {
                field: "reason".to_owned(),
                before: serde_json::Value::Null,
                after: r.into(),
            })
            .into_iter()
            .collect(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

fn all_pages() -> Vec<(&'static str, String)> {
    let t = tenant();
    let v = Visit::sample();
    let me = signed_in(&t);
    let sessions = vec![
        SessionInfo {
            session: me.session.clone(),
            current: true,
        },
        SessionInfo {
            session: session(11, "Safari on iOS"),
            current: false,
        },
    ];
    let history = vec![
        event("auth.login.succeeded", Outcome::Success, None),
        event(
            "auth.login.failed",
            Outcome::Failure,
            Some("wrong_password"),
        ),
    ];
    let mut pages = login::samples(&t, &v);
    pages.extend(register::samples(&t, &v));
    pages.extend(verify::samples(&t, &v));
    pages.extend(recover::samples(&t, &v));
    pages.extend(account::samples(&t, &v, &me, sessions.clone(), &history));
    pages.extend(second_step::samples(&t, &v));
    pages.extend(enrol::samples(&t, &v));
    pages.extend(passwordless::samples(&t, &v));
    pages.extend(step_up::samples(&t, &v));
    pages.extend(security::samples(&t, &v, &me, sessions));
    pages
}

/// The values of attribute `name` in `html`.
fn attributes<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// The opening tags `<name ...>` in `html`.
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("<{name}");
    html.match_indices(&needle)
        .filter_map(|(i, _)| html[i..].find('>').map(|end| &html[i..=i + end]))
        .filter(|tag| {
            tag[needle.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '>')
        })
        .collect()
}

#[test]
fn every_page_keeps_the_promises() {
    let pages = all_pages();
    assert!(pages.len() >= 30);
    for (name, html) in &pages {
        assert!(
            html.starts_with("<!doctype html>"),
            "{name}: did not render"
        );
        assert!(html.contains("<html lang=\"en\">"), "{name}");
        assert_eq!(tags(html, "h1").len(), 1, "{name}: one h1");
        // No inline script: only the passkey script, from this server.
        for script in tags(html, "script") {
            assert!(
                script.starts_with("<script src=\"/assets/webauthn.js?v=")
                    && script.ends_with(" defer>"),
                "{name}: {script}"
            );
        }
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"/assets/webauthn.js?v=").count(),
            "{name}: only the passkey script"
        );
        assert_eq!(
            html.contains("data-passkey=\""),
            !tags(html, "script").is_empty(),
            "{name}: the script where a passkey form is, only there"
        );
        assert!(!html.contains("<style"), "{name}: no inline style");
        assert!(
            attributes(html, "style").is_empty(),
            "{name}: no style attribute"
        );
        assert!(
            !html.contains("Acme <Corp>") && html.contains("Acme &#60;Corp&#62; &#38; Co"),
            "{name}: the tenant's name is escaped"
        );
        let ids = attributes(html, "id");
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{name}: duplicate ids in {ids:?}");
        let labelled: BTreeSet<&str> = attributes(html, "for").into_iter().collect();
        for input in tags(html, "input") {
            if input.contains("type=\"hidden\"") {
                continue;
            }
            let id = attributes(input, "id");
            assert_eq!(id.len(), 1, "{name}: an input without id: {input}");
            assert!(labelled.contains(id[0]), "{name}: no label for {input}");
        }
        for described in attributes(html, "aria-describedby") {
            for id in described.split(' ') {
                assert!(
                    unique.contains(id),
                    "{name}: aria-describedby names a missing {id}"
                );
            }
        }
        for invalid in tags(html, "input")
            .iter()
            .filter(|t| t.contains("aria-invalid"))
        {
            assert!(
                invalid.contains("-error"),
                "{name}: an invalid input without its message"
            );
        }
        for (i, _) in html.match_indices("<form method=\"post\"") {
            let form = &html[i..i + html[i..].find("</form>").unwrap()];
            assert!(
                form.contains("name=\"csrf\" value=\""),
                "{name}: a form without CSRF token"
            );
        }
        if name.ends_with("errors") {
            assert!(
                html.contains("class=\"error-summary\""),
                "{name}: a summary"
            );
            assert!(html.contains("<title>Error: "), "{name}: the title says so");
            assert!(html.contains("aria-invalid=\"true\""), "{name}");
            // Every field error is linked from the summary.
            for id in attributes(html, "id")
                .into_iter()
                .filter(|i| i.ends_with("-error"))
            {
                let field = id.trim_end_matches("-error");
                assert!(
                    html.contains(&format!("href=\"#{field}\"")),
                    "{name}: {field}"
                );
            }
        }
        assert!(
            !html.contains("value=\"x\""),
            "{name}: a password was echoed"
        );
    }
    if let Ok(dir) = std::env::var("TESSERA_WEB_UI_PREVIEW") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("tessera.css"),
            include_str!("../../assets/tessera.css"),
        )
        .unwrap();
        std::fs::write(
            dir.join("webauthn.js"),
            include_str!("../../assets/webauthn.js"),
        )
        .unwrap();
        for (name, html) in &pages {
            let html = html
                .replace("href=\"/assets/tessera.css", "href=\"tessera.css")
                .replace("src=\"/assets/webauthn.js", "src=\"webauthn.js");
            std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
        }
    }
}
