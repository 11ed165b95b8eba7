//! Builders of test data and helpers shared by the checks.

use serde_json::json;
use std::collections::BTreeMap;
use tessera_domain::api_key::{ApiKey, Scope};
use tessera_domain::audit::{
    Actor, ActorKind, AuditDraft, AuditEvent, ChainVerifier, FieldChange, Origin, Outcome,
    truncate_to_micros,
};
use tessera_domain::auth_settings::AuthSettings;
use tessera_domain::code::{CodePurpose, OneTimeCode};
use tessera_domain::credential::PasswordCredential;
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::mfa::{ACR_MFA, Challenge, ChallengeKind, Device, Passkey, TotpFactor};
use tessera_domain::org_unit::{OrgUnit, UnitKind};
use tessera_domain::paging::{Cursor, SortOrder};
use tessera_domain::ports::{AuditQuery, Journal, Store};
use tessera_domain::profile::{Locale, PictureUrl, Profile, ZoneInfo};
use tessera_domain::session::Session;
use tessera_domain::settings::{Theme, UserSettings};
use tessera_domain::tenant::{Organization, Tenant, TenantSettings, TenantSlug, TenantState};
use tessera_domain::token::{RefreshFamily, SigningAlgorithm, SigningKey};
use tessera_domain::user::{EmailEntry, PhoneEntry, User, UserKind};
use tessera_domain::{
    ApiKeyId, AuditEventId, ChallengeId, CodeId, DeviceId, OrgUnitId, OrganizationId, PasskeyId,
    RefreshFamilyId, SessionId, TenantId, UserId,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A fresh random UUID: test data only (the application gets its ids from the Random port).
#[allow(clippy::disallowed_methods)]
pub fn fresh_uuid() -> Uuid {
    Uuid::new_v4()
}

/// Eight random hex digits, to make names unique.
pub fn tag() -> String {
    fresh_uuid().simple().to_string()[..8].to_owned()
}

/// A unique tenant slug `t-<8 hex>`.
pub fn slug() -> TenantSlug {
    TenantSlug::parse(&format!("t-{}", tag())).unwrap()
}

/// A fixed instant plus `seconds`, with microseconds set (what stores keep).
pub fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(1_790_000_000_123_456_000).unwrap()
        + Duration::seconds(seconds)
}

pub fn organization() -> Organization {
    Organization {
        id: OrganizationId::from_uuid(fresh_uuid()),
        name: format!("Org {}", tag()),
        created_at: at(0),
    }
}

pub fn tenant(organization: OrganizationId) -> Tenant {
    Tenant {
        id: TenantId::from_uuid(fresh_uuid()),
        organization_id: organization,
        slug: slug(),
        display_name: "Acme Production — «prod»".to_owned(),
        state: TenantState::Active,
        settings: TenantSettings {
            default_user_settings: UserSettings {
                theme: Theme::Dark,
                marketing_emails: true,
                ..UserSettings::default()
            },
            custom_attributes_schema: Some(json!({
                "type": "object",
                "properties": { "loyalty": { "type": "number", "minimum": 0.5 } }
            })),
            mask_pii_in_audit: true,
            auth: AuthSettings {
                code_max_attempts: 3,
                logo_url: Some("/static/logo.svg".to_owned()),
                ..AuthSettings::default()
            },
            authz: tessera_domain::authz::AuthzSettings {
                decision_log_rate: 0.25,
            },
        },
        created_at: at(1),
        updated_at: at(1),
        version: 1,
    }
}

/// Creates a tenant (and its organization), journaling `tenant.created` in its own chain.
pub async fn create_tenant(store: &dyn Store) -> Tenant {
    let org = organization();
    let t = tenant(org.id);
    let journal = journal(t.id, "tenant.created", Some(("tenant", t.id.to_string())));
    store.create_tenant(Some(&org), &t, &journal).await.unwrap();
    t
}

/// An audit draft with every part filled in: an actor, an origin, changes holding strings,
/// numbers (integers and floats), nulls, nested objects and non-ASCII text, and a time with
/// nanoseconds (which the store truncates to microseconds).
pub fn draft(tenant: TenantId, action: &str, subject: Option<(&str, String)>) -> AuditDraft {
    AuditDraft {
        id: AuditEventId::from_uuid(fresh_uuid()),
        at: at(60) + Duration::nanoseconds(789),
        tenant_id: tenant,
        actor: Actor {
            kind: ActorKind::ApiKey,
            id: Some(fresh_uuid().to_string()),
            tenant_id: Some(tenant),
        },
        action: action.to_owned(),
        subject_kind: subject.as_ref().map(|(kind, _)| (*kind).to_owned()),
        subject_id: subject.map(|(_, id)| id),
        outcome: Outcome::Success,
        origin: Origin {
            ip: Some("203.0.113.7".to_owned()),
            user_agent: Some("contract-suite/1.0 (\"quoted\"; ünïcödé)".to_owned()),
            request_id: Some(tag()),
        },
        changes: vec![
            FieldChange {
                field: "display_name".to_owned(),
                before: serde_json::Value::Null,
                after: json!("Zoë's \"shop\" 🛒"),
            },
            FieldChange {
                field: "limits".to_owned(),
                before: json!({ "b": 1, "a": [1.5, 0.1, 1e-7, -0.0, 12345678901234567u64] }),
                after: json!({ "z": { "nested": true }, "a": 2.2250738585072014e-308 }),
            },
        ],
    }
}

pub fn journal(tenant: TenantId, action: &str, subject: Option<(&str, String)>) -> Journal {
    Journal::one(draft(tenant, action, subject))
}

/// A user with only what is required.
pub fn minimal_user(tenant: TenantId) -> User {
    User {
        id: UserId::from_uuid(fresh_uuid()),
        tenant_id: tenant,
        kind: UserKind::User,
        username: None,
        emails: vec![],
        phones: vec![],
        profile: Profile::default(),
        custom_attributes: serde_json::Map::new(),
        settings: UserSettings::default(),
        state: LifecycleState::Created,
        state_before_delete: None,
        org_unit_id: None,
        created_at: at(10),
        updated_at: at(10),
        version: 1,
    }
}

/// A random phone number in E.164 form.
pub fn phone() -> PhoneNumber {
    let digits = fresh_uuid().as_u128() % 10_000_000_000;
    PhoneNumber::parse(&format!("+1{digits:010}")).unwrap()
}

/// A user with every part filled in and unique identifiers (mixed case, so that
/// case-insensitive uniqueness is exercised).
pub fn full_user(tenant: TenantId) -> User {
    let t = tag();
    let mut custom = serde_json::Map::new();
    custom.insert("loyalty".to_owned(), json!(0.1));
    custom.insert("tier".to_owned(), json!("gold"));
    custom.insert("tags".to_owned(), json!(["a", "b", 3, null, { "x": 1e21 }]));
    custom.insert("ünïcödé".to_owned(), json!("値"));
    User {
        username: Some(Username::parse(&format!("Jane.{t}")).unwrap()),
        emails: vec![
            EmailEntry {
                address: Email::parse(&format!("Jane.{t}@Example.COM")).unwrap(),
                verified: true,
                primary: false,
            },
            EmailEntry {
                address: Email::parse(&format!("jd-{t}@work.example.org")).unwrap(),
                verified: false,
                primary: true,
            },
        ],
        phones: vec![
            PhoneEntry {
                number: phone(),
                verified: false,
                primary: true,
            },
            PhoneEntry {
                number: phone(),
                verified: true,
                primary: false,
            },
        ],
        profile: Profile {
            given_name: Some("Jane".to_owned()),
            family_name: Some("D'Oé".to_owned()),
            birthday: Some(
                time::Date::from_calendar_date(1990, time::Month::February, 28).unwrap(),
            ),
            locale: Some(Locale::parse("fr-CA").unwrap()),
            zoneinfo: Some(ZoneInfo::parse("America/Argentina/Buenos_Aires").unwrap()),
            picture: Some(PictureUrl::parse("https://cdn.example.com/p/jane.png?s=64").unwrap()),
        },
        custom_attributes: custom,
        settings: UserSettings {
            theme: Theme::Light,
            security_alerts_sms: true,
            date_format: "DD/MM/YYYY".to_owned(),
            ..UserSettings::default()
        },
        state: LifecycleState::Active,
        ..minimal_user(tenant)
    }
}

/// A user with a username and one email derived from `name` (plus a random tag).
pub fn named_user(tenant: TenantId, name: &str) -> User {
    let t = tag();
    User {
        username: Some(Username::parse(&format!("{name}{t}")).unwrap()),
        emails: vec![EmailEntry {
            address: Email::parse(&format!("{name}{t}@example.com")).unwrap(),
            verified: false,
            primary: true,
        }],
        ..minimal_user(tenant)
    }
}

pub fn unit(tenant: TenantId, parent: Option<OrgUnitId>, name: &str) -> OrgUnit {
    OrgUnit {
        id: OrgUnitId::from_uuid(fresh_uuid()),
        tenant_id: tenant,
        parent_id: parent,
        name: name.to_owned(),
        kind: UnitKind::parse("store").unwrap(),
        created_at: at(20),
        updated_at: at(20),
        version: 1,
    }
}

pub fn api_key(tenant: TenantId) -> ApiKey {
    ApiKey {
        id: ApiKeyId::from_uuid(fresh_uuid()),
        tenant_id: tenant,
        name: format!("ci key {}", tag()),
        secret_hash: format!("{}{}", fresh_uuid().simple(), fresh_uuid().simple()),
        scopes: vec![Scope::UsersRead, Scope::AuditRead, Scope::OrgUnitsWrite],
        created_by: Some(UserId::from_uuid(fresh_uuid())),
        created_at: at(30),
        expires_at: Some(at(30 + 86_400)),
        revoked_at: None,
        last_used_at: None,
    }
}

/// Walks the tenant's whole chain in ascending pages of `page` events, checks every link and
/// the head, and returns the events.
pub async fn verify_chain(store: &dyn Store, tenant: TenantId, page: u32) -> Vec<AuditEvent> {
    let mut verifier = ChainVerifier::default();
    let mut events = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let query = AuditQuery {
            order: SortOrder::Asc,
            after: after.clone(),
            limit: page,
            ..Default::default()
        };
        let got = store.list_audit(tenant, &query).await.unwrap();
        assert!(
            got.items.len() <= page as usize,
            "a page holds at most `limit` events"
        );
        for event in &got.items {
            assert_eq!(event.tenant_id, tenant);
            verifier
                .check(event)
                .unwrap_or_else(|e| panic!("chain of {tenant}: {e}"));
        }
        events.extend(got.items);
        match got.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let head = store.audit_head(tenant).await.unwrap();
    let seen = verifier
        .finish(head.as_ref().map(|(seq, hash)| (*seq, hash.as_str())))
        .unwrap_or_else(|e| panic!("head of {tenant}: {e}"));
    assert_eq!(seen as usize, events.len());
    events
}

/// Checks that the stored event is the sealed form of the draft.
pub fn assert_event_matches(event: &AuditEvent, draft: &AuditDraft) {
    assert_eq!(event.id, draft.id);
    assert_eq!(event.tenant_id, draft.tenant_id);
    assert_eq!(
        event.at,
        truncate_to_micros(draft.at),
        "`at` is kept to the microsecond"
    );
    assert_eq!(event.actor, draft.actor);
    assert_eq!(event.action, draft.action);
    assert_eq!(event.subject_kind, draft.subject_kind);
    assert_eq!(event.subject_id, draft.subject_id);
    assert_eq!(event.outcome, draft.outcome);
    assert_eq!(event.origin, draft.origin);
    assert_eq!(event.changes, draft.changes);
    assert_eq!(event.hash, event.compute_hash());
}

/// The audit head's `seq` (0 when the chain is empty).
pub async fn head_seq(store: &dyn Store, tenant: TenantId) -> i64 {
    store
        .audit_head(tenant)
        .await
        .unwrap()
        .map_or(0, |(seq, _)| seq)
}

/// Counts how often each id appears.
pub fn counts<T: Ord + Clone>(items: &[T]) -> BTreeMap<T, usize> {
    let mut map = BTreeMap::new();
    for item in items {
        *map.entry(item.clone()).or_insert(0) += 1;
    }
    map
}

/// A random 64-hex-digit hash (of a session secret, a refresh token, a code...).
pub fn hash() -> String {
    format!("{}{}", fresh_uuid().simple(), fresh_uuid().simple())
}

/// An active user with a username and an email, inserted.
pub async fn create_user(store: &dyn Store, tenant: TenantId) -> User {
    let user = User {
        state: LifecycleState::Active,
        ..named_user(tenant, "auth")
    };
    store.insert_user(&user, &Journal::default()).await.unwrap();
    user
}

/// An Argon2id-looking PHC string, unique.
pub fn phc() -> String {
    format!(
        "$argon2id$v=19$m=19456,t=2,p=1${}${}",
        tag(),
        fresh_uuid().simple()
    )
}

/// The user's password with two earlier hashes (one an imported bcrypt hash).
pub fn password(user: &User) -> PasswordCredential {
    PasswordCredential {
        tenant_id: user.tenant_id,
        user_id: user.id,
        hash: phc(),
        history: vec![phc(), format!("$2b$12${}", fresh_uuid().simple())],
        changed_at: at(15),
    }
}

/// A session of `user` created at `at(created)`, ending ten hours later.
pub fn session(user: &User, created: i64) -> Session {
    Session {
        id: SessionId::from_uuid(fresh_uuid()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        secret_hash: hash(),
        created_at: at(created),
        last_seen_at: at(created),
        expires_at: at(created + 36_000),
        idle_timeout: Duration::minutes(30),
        ip: Some("2001:db8::7".to_owned()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0 — «test»".to_owned()),
        device: Some("Firefox on Linux".to_owned()),
        amr: vec!["pwd".to_owned(), "otp".to_owned()],
        auth_time: at(created - 5),
        acr: ACR_MFA.to_owned(),
        restriction: None,
        revoked_at: None,
    }
}

/// A live refresh family of `user` (bound to `session` when given) at generation 0, created
/// at `at(created)` and ending a day later.
pub fn refresh_family(user: &User, session: Option<SessionId>, created: i64) -> RefreshFamily {
    RefreshFamily {
        id: RefreshFamilyId::from_uuid(fresh_uuid()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        session_id: session,
        client_id: "tessera-account".to_owned(),
        scope: "openid profile offline_access".to_owned(),
        generation: 0,
        created_at: at(created),
        expires_at: at(created + 86_400),
        revoked_at: None,
    }
}

/// Creates a session of `user` at `at(created)` with its refresh family (no limit that
/// matters); returns both and the refresh token's hash.
pub async fn create_session_with_family(
    store: &dyn Store,
    user: &User,
    created: i64,
) -> (Session, RefreshFamily, String) {
    let s = session(user, created);
    let family = refresh_family(user, Some(s.id), created);
    let token = hash();
    let ended = store
        .create_session(&s, Some((&family, &token)), 1000, &Journal::default())
        .await
        .unwrap();
    assert!(ended.is_empty());
    (s, family, token)
}

/// A code of `user` for `(purpose, target)` hashing to `code_hash`, created at `at(created)`,
/// good for ten minutes and three wrong guesses.
pub fn code(
    user: &User,
    purpose: CodePurpose,
    target: &str,
    code_hash: &str,
    created: i64,
) -> OneTimeCode {
    OneTimeCode {
        id: CodeId::from_uuid(fresh_uuid()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        purpose,
        target: target.to_owned(),
        code_hash: code_hash.to_owned(),
        created_at: at(created),
        expires_at: at(created + 600),
        attempts: 0,
        max_attempts: 3,
        consumed_at: None,
    }
}

/// The normalised target of the user's first email (`email:<key>`).
pub fn email_target(user: &User) -> String {
    format!("email:{}", user.emails[0].address.key())
}

/// A current signing key `kid` of the tenant created at `at(created)`.
pub fn signing_key(tenant: TenantId, kid: &str, created: i64) -> SigningKey {
    SigningKey {
        tenant_id: tenant,
        kid: kid.to_owned(),
        alg: SigningAlgorithm::ES256,
        public_jwk: json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }),
        // Bytes that are not UTF-8, including NUL.
        private_sealed: vec![0, 159, 146, 150, 255, 0, 1, 2, 3, 254],
        created_at: at(created),
        retired_at: None,
        publish_until: None,
    }
}

/// The newest event of the tenant's chain.
pub async fn last_event(store: &dyn Store, tenant: TenantId) -> AuditEvent {
    let query = AuditQuery {
        order: SortOrder::Desc,
        limit: 1,
        ..Default::default()
    };
    let page = store.list_audit(tenant, &query).await.unwrap();
    page.items
        .into_iter()
        .next()
        .expect("the chain has an event")
}

/// A pending TOTP factor of `user` created at `at(created)`, with a sealed secret that is not
/// UTF-8.
pub fn totp_factor(user: &User, created: i64) -> TotpFactor {
    TotpFactor {
        tenant_id: user.tenant_id,
        user_id: user.id,
        secret_sealed: vec![0, 255, 1, 254, 2, 253, fresh_uuid().as_bytes()[0]],
        created_at: at(created),
        confirmed_at: None,
        last_step: 0,
    }
}

/// A passkey of `user` registered at `at(created)`, never used.
pub fn passkey(user: &User, created: i64) -> Passkey {
    Passkey {
        id: PasskeyId::from_uuid(fresh_uuid()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        credential_id: format!("cred-{}_{}-x", tag(), tag()),
        name: format!("YubiKey «{}»", tag()),
        aaguid: Some(fresh_uuid()),
        credential: json!({ "cred": tag(), "counter": 0, "ünï": "値" }).to_string(),
        sign_count: 0,
        backup_eligible: false,
        created_at: at(created),
        last_used_at: None,
    }
}

/// A challenge of `kind` in `tenant` (for `user` when given) created at `at(created)`, good
/// for five minutes.
pub fn challenge(
    tenant: TenantId,
    user: Option<&User>,
    kind: ChallengeKind,
    created: i64,
) -> Challenge {
    Challenge {
        id: ChallengeId::from_uuid(fresh_uuid()),
        tenant_id: tenant,
        kind,
        user_id: user.map(|u| u.id),
        binding_hash: hash(),
        secret_hash: None,
        state: json!({ "challenge": tag(), "rp": "example.com" }).to_string(),
        created_at: at(created),
        expires_at: at(created + 300),
        consumed_at: None,
    }
}

/// A device of `user` first seen at `at(created)`, not remembered.
pub fn device(user: &User, created: i64) -> Device {
    Device {
        id: DeviceId::from_uuid(fresh_uuid()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        secret_hash: hash(),
        description: Some("Firefox on Linux — «laptop»".to_owned()),
        created_at: at(created),
        last_seen_at: at(created),
        remember_until: None,
        revoked_at: None,
    }
}
