//! Wire bodies → domain values (parse, collecting every error) and domain → wire bodies.

use crate::errors::ApiError;
use serde_json::Value;
use tessera_api_types::api_keys::ApiKeyResponse;
use tessera_api_types::audit::{AuditActor, AuditChange, AuditEventResponse};
use tessera_api_types::org_units::{AssignmentResponse, OrgUnitResponse};
use tessera_api_types::tenants::{TenantResponse, TenantSettingsBody};
use tessera_api_types::users::{
    CreateCustomerRequest, CreateUserRequest, EmailBody, PhoneBody, UpdateUserRequest,
    UserResponse, UserSettingsBody,
};
use tessera_application::{Error, NewCustomer, NewUser, UserPatch};
use tessera_domain::api_key::ApiKey;
use tessera_domain::audit::AuditEvent;
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::org_unit::{Assignment, OrgUnit};
use tessera_domain::profile::{Locale, PictureUrl, Profile, ZoneInfo, parse_name};
use tessera_domain::settings::{Theme, UserSettings};
use tessera_domain::tenant::{Tenant, TenantSettings};
use tessera_domain::user::{EmailEntry, PhoneEntry, User};
use tessera_domain::{OrgUnitId, ValidationError};
use time::Date;
use time::macros::format_description;

/// Collects validation errors so that a client learns every problem of a body at once.
#[derive(Default)]
pub struct Check {
    errors: Vec<ValidationError>,
}

impl Check {
    pub fn field<T>(&mut self, field: &str, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e.at(field));
                None
            }
        }
    }

    /// `None` stays `None`; `Some(raw)` is parsed.
    pub fn opt<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl Fn(&str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        raw.and_then(|r| self.field(field, parse(r)))
    }

    pub fn finish<T>(self, value: T) -> Result<T, ApiError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(Error::Invalid(self.errors).into())
        }
    }
}

const DATE: &[time::format_description::FormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

pub fn parse_date(raw: &str) -> Result<Date, ValidationError> {
    Date::parse(raw, DATE).map_err(|_| {
        ValidationError::new("birthday", "invalid_date", "a date is written YYYY-MM-DD")
    })
}

pub fn format_date(date: Date) -> String {
    date.format(DATE).unwrap_or_default()
}

fn emails(check: &mut Check, bodies: &[EmailBody]) -> Vec<EmailEntry> {
    bodies
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            check
                .field(&format!("emails[{i}].address"), Email::parse(&b.address))
                .map(|address| EmailEntry {
                    address,
                    verified: b.verified,
                    primary: b.primary,
                })
        })
        .collect()
}

fn phones(check: &mut Check, bodies: &[PhoneBody]) -> Vec<PhoneEntry> {
    bodies
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            check
                .field(
                    &format!("phones[{i}].number"),
                    PhoneNumber::parse(&b.number),
                )
                .map(|number| PhoneEntry {
                    number,
                    verified: b.verified,
                    primary: b.primary,
                })
        })
        .collect()
}

/// The identifier and profile part shared by users and customers.
#[allow(clippy::too_many_arguments)]
fn details(
    check: &mut Check,
    username: Option<&str>,
    email_bodies: &[EmailBody],
    phone_bodies: &[PhoneBody],
    given_name: Option<&str>,
    family_name: Option<&str>,
    birthday: Option<&str>,
    locale: Option<&str>,
    zoneinfo: Option<&str>,
    picture: Option<&str>,
    custom_attributes: Option<serde_json::Map<String, Value>>,
) -> NewUser {
    NewUser {
        username: check.opt("username", username, Username::parse),
        emails: emails(check, email_bodies),
        phones: phones(check, phone_bodies),
        profile: Profile {
            given_name: check.opt("given_name", given_name, |r| parse_name("given_name", r)),
            family_name: check.opt("family_name", family_name, |r| parse_name("family_name", r)),
            birthday: check.opt("birthday", birthday, parse_date),
            locale: check.opt("locale", locale, Locale::parse),
            zoneinfo: check.opt("zoneinfo", zoneinfo, ZoneInfo::parse),
            picture: check.opt("picture", picture, PictureUrl::parse),
        },
        custom_attributes: custom_attributes.unwrap_or_default(),
        initial_state: None,
    }
}

pub fn parse_state(raw: &str) -> Result<LifecycleState, ValidationError> {
    LifecycleState::parse(raw).ok_or_else(|| {
        ValidationError::new(
            "state",
            "invalid_state",
            format!(
                "unknown state `{raw}`; states: {}",
                LifecycleState::ALL.map(LifecycleState::as_str).join(", ")
            ),
        )
    })
}

pub fn new_user(body: CreateUserRequest) -> Result<NewUser, ApiError> {
    let mut check = Check::default();
    let mut user = details(
        &mut check,
        body.username.as_deref(),
        &body.emails,
        &body.phones,
        body.given_name.as_deref(),
        body.family_name.as_deref(),
        body.birthday.as_deref(),
        body.locale.as_deref(),
        body.zoneinfo.as_deref(),
        body.picture.as_deref(),
        body.custom_attributes,
    );
    user.initial_state = check.opt("state", body.state.as_deref(), parse_state);
    check.finish(user)
}

pub fn new_customer(body: CreateCustomerRequest) -> Result<NewCustomer, ApiError> {
    let mut check = Check::default();
    let details = details(
        &mut check,
        body.username.as_deref(),
        &body.emails,
        &body.phones,
        body.given_name.as_deref(),
        body.family_name.as_deref(),
        body.birthday.as_deref(),
        body.locale.as_deref(),
        body.zoneinfo.as_deref(),
        body.picture.as_deref(),
        body.custom_attributes,
    );
    check.finish(NewCustomer {
        details,
        org_unit_id: body.org_unit_id.map(OrgUnitId::from_uuid),
    })
}

/// Parses a nullable field: absent → `None`, null → `Some(None)`, value → `Some(Some(parsed))`.
fn nullable<T>(
    check: &mut Check,
    field: &str,
    raw: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, ValidationError>,
) -> Option<Option<T>> {
    match raw {
        None => None,
        Some(None) => Some(None),
        Some(Some(r)) => check.field(field, parse(&r)).map(Some),
    }
}

pub fn user_patch(body: UpdateUserRequest) -> Result<UserPatch, ApiError> {
    let mut check = Check::default();
    let patch = UserPatch {
        username: nullable(&mut check, "username", body.username, Username::parse),
        emails: body.emails.as_deref().map(|b| emails(&mut check, b)),
        phones: body.phones.as_deref().map(|b| phones(&mut check, b)),
        given_name: nullable(&mut check, "given_name", body.given_name, |r| {
            parse_name("given_name", r)
        }),
        family_name: nullable(&mut check, "family_name", body.family_name, |r| {
            parse_name("family_name", r)
        }),
        birthday: nullable(&mut check, "birthday", body.birthday, parse_date),
        locale: nullable(&mut check, "locale", body.locale, Locale::parse),
        zoneinfo: nullable(&mut check, "zoneinfo", body.zoneinfo, ZoneInfo::parse),
        picture: nullable(&mut check, "picture", body.picture, PictureUrl::parse),
        custom_attributes: body.custom_attributes,
    };
    check.finish(patch)
}

pub fn user_response(user: User) -> UserResponse {
    UserResponse {
        id: user.id.into_uuid(),
        kind: user.kind.as_str().to_owned(),
        username: user.username.map(String::from),
        emails: user
            .emails
            .into_iter()
            .map(|e| EmailBody {
                address: e.address.into(),
                verified: e.verified,
                primary: e.primary,
            })
            .collect(),
        phones: user
            .phones
            .into_iter()
            .map(|p| PhoneBody {
                number: p.number.into(),
                verified: p.verified,
                primary: p.primary,
            })
            .collect(),
        given_name: user.profile.given_name,
        family_name: user.profile.family_name,
        birthday: user.profile.birthday.map(format_date),
        locale: user.profile.locale.map(String::from),
        zoneinfo: user.profile.zoneinfo.map(String::from),
        picture: user.profile.picture.map(String::from),
        custom_attributes: user.custom_attributes,
        state: user.state.as_str().to_owned(),
        state_before_delete: user.state_before_delete.map(|s| s.as_str().to_owned()),
        org_unit_id: user.org_unit_id.map(OrgUnitId::into_uuid),
        created_at: user.created_at,
        updated_at: user.updated_at,
        version: user.version,
    }
}

fn theme_str(theme: Theme) -> &'static str {
    match theme {
        Theme::System => "system",
        Theme::Light => "light",
        Theme::Dark => "dark",
    }
}

pub fn settings_body(settings: &UserSettings) -> UserSettingsBody {
    UserSettingsBody {
        theme: theme_str(settings.theme).to_owned(),
        security_alerts_email: settings.security_alerts_email,
        security_alerts_sms: settings.security_alerts_sms,
        marketing_emails: settings.marketing_emails,
        date_format: settings.date_format.clone(),
    }
}

pub fn user_settings(body: &UserSettingsBody) -> Result<UserSettings, ValidationError> {
    serde_json::to_value(body)
        .and_then(serde_json::from_value)
        .map_err(|e| {
            ValidationError::new("default_user_settings", "invalid_settings", e.to_string())
        })
}

pub fn tenant_settings(body: TenantSettingsBody) -> Result<TenantSettings, ApiError> {
    let mut check = Check::default();
    let defaults = match &body.default_user_settings {
        Some(s) => check
            .field("settings.default_user_settings", user_settings(s))
            .unwrap_or_default(),
        None => UserSettings::default(),
    };
    let auth = match body.auth {
        Some(v) => check
            .field(
                "settings.auth",
                serde_json::from_value(v).map_err(|e| {
                    ValidationError::new("settings.auth", "invalid_settings", e.to_string())
                }),
            )
            .unwrap_or_default(),
        None => tessera_domain::auth_settings::AuthSettings::default(),
    };
    let authz = match body.authz {
        Some(v) => check
            .field(
                "settings.authz",
                serde_json::from_value(v).map_err(|e| {
                    ValidationError::new("settings.authz", "invalid_settings", e.to_string())
                }),
            )
            .unwrap_or_default(),
        None => tessera_domain::authz::AuthzSettings::default(),
    };
    let settings = TenantSettings {
        default_user_settings: defaults,
        custom_attributes_schema: body.custom_attributes_schema,
        mask_pii_in_audit: body.mask_pii_in_audit,
        auth,
        authz,
    };
    check.finish(settings)
}

pub fn tenant_response(tenant: Tenant, public_url: &str) -> TenantResponse {
    TenantResponse {
        id: tenant.id.into_uuid(),
        organization_id: tenant.organization_id.into_uuid(),
        issuer: format!("{}/t/{}", public_url.trim_end_matches('/'), tenant.slug),
        slug: tenant.slug.into(),
        display_name: tenant.display_name,
        state: tenant.state.as_str().to_owned(),
        settings: TenantSettingsBody {
            default_user_settings: Some(settings_body(&tenant.settings.default_user_settings)),
            custom_attributes_schema: tenant.settings.custom_attributes_schema,
            mask_pii_in_audit: tenant.settings.mask_pii_in_audit,
            auth: serde_json::to_value(&tenant.settings.auth).ok(),
            authz: serde_json::to_value(&tenant.settings.authz).ok(),
        },
        created_at: tenant.created_at,
        updated_at: tenant.updated_at,
        version: tenant.version,
    }
}

pub fn org_unit_response(unit: OrgUnit) -> OrgUnitResponse {
    OrgUnitResponse {
        id: unit.id.into_uuid(),
        parent_id: unit.parent_id.map(OrgUnitId::into_uuid),
        name: unit.name,
        kind: unit.kind.into(),
        created_at: unit.created_at,
        updated_at: unit.updated_at,
        version: unit.version,
    }
}

pub fn assignment_response(a: Assignment) -> AssignmentResponse {
    AssignmentResponse {
        unit_id: a.unit_id.into_uuid(),
        user_id: a.user_id.into_uuid(),
        created_at: a.created_at,
    }
}

pub fn api_key_response(key: ApiKey) -> ApiKeyResponse {
    ApiKeyResponse {
        id: key.id.into_uuid(),
        name: key.name,
        scopes: key.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        created_at: key.created_at,
        expires_at: key.expires_at,
        revoked_at: key.revoked_at,
        last_used_at: key.last_used_at,
    }
}

pub fn audit_response(e: AuditEvent) -> AuditEventResponse {
    AuditEventResponse {
        seq: e.seq,
        id: e.id.into_uuid(),
        at: e.at,
        tenant_id: e.tenant_id.into_uuid(),
        actor: AuditActor {
            kind: e.actor.kind.as_str().to_owned(),
            id: e.actor.id,
            tenant_id: e.actor.tenant_id.map(tessera_domain::TenantId::into_uuid),
        },
        action: e.action,
        subject_kind: e.subject_kind,
        subject_id: e.subject_id,
        outcome: e.outcome.as_str().to_owned(),
        ip: e.origin.ip,
        user_agent: e.origin.user_agent,
        request_id: e.origin.request_id,
        changes: e
            .changes
            .into_iter()
            .map(|c| AuditChange {
                field: c.field,
                before: c.before,
                after: c.after,
            })
            .collect(),
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}
