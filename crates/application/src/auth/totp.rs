//! TOTP authenticators (RFC 6238) and backup codes. The TOTP secret is sealed with the master
//! key; a factor counts only after a first correct code; a time step is accepted once (and
//! never one before the last accepted), atomically in the database. Backup codes are shown
//! once, stored as keyed hashes, single use; regenerating replaces the whole set.

use super::assurance::restricted;
use super::sessions::SignedIn;
use super::tokens::TokenPair;
use crate::app::App;
use crate::error::{Error, store_err};
use subtle::ConstantTimeEq;
use tessera_domain::audit::Origin;
use tessera_domain::mfa::{Restriction, TotpFactor, amr};
use tessera_domain::ports::Journal;
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;
use tessera_domain::{TenantId, UserId, ValidationError};

/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends).
const TOTP_SECRET_BYTES: usize = 20;
/// Backup codes per set.
pub const BACKUP_CODES: usize = 10;
/// Alphabet of backup codes: lower-case letters and digits without look-alikes.
const BACKUP_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A TOTP enrolment in progress: what the authenticator app needs.
#[derive(Clone, Debug)]
pub struct TotpEnrolment {
    /// Base32 secret, for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/...` (to show as a QR code).
    pub uri: String,
}

/// A second factor enrolled.
#[derive(Clone, Debug, Default)]
pub struct Enrolled {
    /// Backup codes, when this was the first factor (shown once).
    pub backup_codes: Vec<String>,
    /// Tokens, when enrolling completed a sign-in that was waiting for it.
    pub tokens: Option<TokenPair>,
    /// The session's new secret (the cookie to set), when enrolling completed a sign-in: the
    /// secret the client held before (`mfa_token`) no longer works.
    pub session_secret: Option<String>,
    /// A new device cookie, when enrolling completed a sign-in on a device not seen before.
    pub device_secret: Option<String>,
}

fn seal_context(tenant: TenantId, user: UserId) -> Vec<u8> {
    format!("tenant/{tenant}/user/{user}/totp").into_bytes()
}

fn invalid_totp() -> Error {
    Error::invalid(ValidationError::new(
        "code",
        "invalid_code",
        "the code is wrong or was already used; enter the current code of your authenticator app",
    ))
}

/// RFC 4648 base32 without padding (for people typing the secret).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A user-typed code with spaces and dashes removed, lower-cased.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

impl App {
    /// Starts (or restarts) enrolling an authenticator app. Needs a recent authentication.
    pub async fn start_totp_enrolment(&self, me: &SignedIn) -> Result<TotpEnrolment, Error> {
        Self::may_enrol(me)?;
        if !me.tenant.settings.auth.mfa.totp {
            return Err(Error::Refused {
                code: "method_disabled",
                message: "authenticator apps are not enabled in this directory".to_owned(),
            });
        }
        self.require_recent_auth(me)?;
        let secret = self.ports.random.secret_bytes(TOTP_SECRET_BYTES);
        let sealed = self
            .sealer()
            .seal(&secret, &seal_context(me.tenant.id, me.user.id))
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("sealing a TOTP secret: {e}")))?;
        let factor = TotpFactor {
            tenant_id: me.tenant.id,
            user_id: me.user.id,
            secret_sealed: sealed,
            created_at: self.now(),
            confirmed_at: None,
            last_step: 0,
        };
        self.store()
            .put_pending_totp(&factor)
            .await
            .map_err(|e| match e {
                tessera_domain::ports::StoreError::Conflict => Error::Conflict {
                    code: "totp_exists",
                    message:
                        "an authenticator app is already set up: remove it first to set up another"
                            .to_owned(),
                },
                other => Error::from_store(other, "user"),
            })?;
        let account = me
            .user
            .username
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .or_else(|| {
                me.user
                    .emails
                    .first()
                    .map(|e| e.address.as_str().to_owned())
            })
            .unwrap_or_else(|| me.user.id.to_string());
        Ok(TotpEnrolment {
            secret: base32(&secret),
            uri: self
                .ports
                .totp
                .provisioning_uri(&secret, &me.tenant.display_name, &account),
        })
    }

    /// The time step (current one ±1) whose code is `code`, compared in constant time.
    fn matching_step(&self, secret: &[u8], code: &str) -> Option<i64> {
        let code = normalise(code);
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let step_secs = self.ports.totp.step_secs().max(1);
        let now = u64::try_from(self.now().unix_timestamp()).unwrap_or(0) / step_secs;
        let mut found = None;
        for step in [now.saturating_sub(1), now, now + 1] {
            let expected = self.ports.totp.code(secret, step);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
                found = i64::try_from(step).ok();
            }
        }
        found
    }

    fn open_totp_secret(&self, factor: &TotpFactor) -> Result<Vec<u8>, Error> {
        self.sealer()
            .open(
                &factor.secret_sealed,
                &seal_context(factor.tenant_id, factor.user_id),
            )
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("opening a TOTP secret: {e}")))
    }

    /// Confirms the authenticator app with its first code. The first factor of a user also
    /// creates their backup codes; a sign-in waiting for enrolment completes.
    pub async fn confirm_totp(
        &self,
        me: &SignedIn,
        origin: Origin,
        code: &str,
    ) -> Result<Enrolled, Error> {
        Self::may_enrol(me)?;
        let pending = self
            .store()
            .totp(me.tenant.id, me.user.id)
            .await
            .map_err(store_err("authenticator"))?
            .filter(|f| f.confirmed_at.is_none())
            .ok_or_else(|| Error::Conflict {
                code: "no_pending_totp",
                message: "start setting up an authenticator app first".to_owned(),
            })?;
        let had_factor = self.factors(&me.tenant, &me.user).await?.any();
        let secret = self.open_totp_secret(&pending)?;
        let step = self.matching_step(&secret, code).ok_or_else(invalid_totp)?;
        let ctx = me.context(origin.clone());
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "mfa.totp_enrolled",
            ("user", me.user.id.to_string()),
            vec![],
        ));
        if !self
            .store()
            .confirm_totp(me.tenant.id, me.user.id, step, self.now(), &journal)
            .await
            .map_err(store_err("authenticator"))?
        {
            return Err(invalid_totp());
        }
        self.after_enrolment(me, origin, had_factor, amr::OTP).await
    }

    /// After a first or further factor: backup codes for a first one, and the completion of a
    /// sign-in that was waiting for enrolment.
    pub(crate) async fn after_enrolment(
        &self,
        me: &SignedIn,
        origin: Origin,
        had_factor: bool,
        method: &str,
    ) -> Result<Enrolled, Error> {
        let backup_codes = if had_factor {
            Vec::new()
        } else {
            // A first factor ends every other session: one opened with the password alone
            // before it (by its owner or by whoever knew the password) must not live on.
            let journal = Journal::one(self.draft(
                &me.context(origin.clone()),
                &me.tenant,
                "session.revoked_all",
                ("user", me.user.id.to_string()),
                vec![tessera_domain::audit::FieldChange {
                    field: "reason".into(),
                    before: serde_json::Value::Null,
                    after: "first second factor".into(),
                }],
            ));
            self.store()
                .end_sessions(
                    me.tenant.id,
                    me.user.id,
                    tessera_domain::ports::SessionSelector::AllExcept(me.session.id),
                    self.now(),
                    &journal,
                )
                .await
                .map_err(store_err("session"))?;
            self.new_backup_codes(me, origin.clone()).await?
        };
        let mut enrolled = Enrolled {
            backup_codes,
            ..Enrolled::default()
        };
        if me.session.restriction == Some(Restriction::Enrolment) {
            let elevated = self.elevate(me, origin, method, false, None, true).await?;
            enrolled.tokens = elevated.tokens;
            enrolled.session_secret = elevated.secret;
            enrolled.device_secret = elevated.device_secret;
        }
        Ok(enrolled)
    }

    /// Removes the authenticator app. Needs a recent authentication; refused when MFA is
    /// mandatory for the user and it is their last factor.
    pub async fn remove_totp(&self, me: &SignedIn, origin: Origin) -> Result<(), Error> {
        self.require_recent_auth(me)?;
        let factors = self.factors(&me.tenant, &me.user).await?;
        if factors.totp && factors.passkeys == 0 {
            self.refuse_last_factor(me).await?;
        }
        let ctx = me.context(origin.clone());
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "mfa.totp_removed",
            ("user", me.user.id.to_string()),
            vec![],
        ));
        self.store()
            .delete_totp(me.tenant.id, me.user.id, &journal)
            .await
            .map_err(store_err("authenticator"))?;
        self.drop_backup_codes_if_no_factor(me, origin).await
    }

    pub(crate) async fn refuse_last_factor(&self, me: &SignedIn) -> Result<(), Error> {
        if self.mfa_mandatory(&me.tenant, &me.user).await? {
            return Err(Error::Conflict {
                code: "last_factor",
                message: "your account requires a second factor: add another one before removing this one".to_owned(),
            });
        }
        Ok(())
    }

    pub(crate) async fn drop_backup_codes_if_no_factor(
        &self,
        me: &SignedIn,
        origin: Origin,
    ) -> Result<(), Error> {
        if self.factors(&me.tenant, &me.user).await?.any() {
            return Ok(());
        }
        let ctx = me.context(origin);
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "mfa.backup_codes_removed",
            ("user", me.user.id.to_string()),
            vec![],
        ));
        self.store()
            .replace_backup_codes(me.tenant.id, me.user.id, &[], self.now(), &journal)
            .await
            .map_err(store_err("backup codes"))
    }

    /// Checks a TOTP code of the user's confirmed authenticator and uses its time step.
    pub(crate) async fn check_totp(
        &self,
        tenant: &Tenant,
        user: &User,
        code: &str,
        journal: &Journal,
    ) -> Result<bool, Error> {
        let Some(factor) = self
            .store()
            .totp(tenant.id, user.id)
            .await
            .map_err(store_err("authenticator"))?
            .filter(|f| f.confirmed_at.is_some())
        else {
            return Ok(false);
        };
        let secret = self.open_totp_secret(&factor)?;
        let Some(step) = self.matching_step(&secret, code) else {
            return Ok(false);
        };
        self.store()
            .use_totp_step(tenant.id, user.id, step, journal)
            .await
            .map_err(store_err("authenticator"))
    }

    fn hash_backup_code(&self, tenant: &Tenant, user: &User, code: &str) -> String {
        self.ports.keyed.keyed_hash(
            "backup-code",
            format!("{}\n{}\n{}", tenant.id, user.id, normalise(code)).as_bytes(),
        )
    }

    async fn new_backup_codes(&self, me: &SignedIn, origin: Origin) -> Result<Vec<String>, Error> {
        let codes: Vec<String> = (0..BACKUP_CODES)
            .map(|_| {
                let raw: String = self
                    .ports
                    .random
                    .secret_bytes(10)
                    .iter()
                    .map(|b| char::from(BACKUP_ALPHABET[usize::from(*b) % BACKUP_ALPHABET.len()]))
                    .collect();
                format!("{}-{}", &raw[..5], &raw[5..])
            })
            .collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| self.hash_backup_code(&me.tenant, &me.user, c))
            .collect();
        let ctx = me.context(origin);
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "mfa.backup_codes_generated",
            ("user", me.user.id.to_string()),
            vec![],
        ));
        self.store()
            .replace_backup_codes(me.tenant.id, me.user.id, &hashes, self.now(), &journal)
            .await
            .map_err(store_err("backup codes"))?;
        Ok(codes)
    }

    /// Replaces the user's backup codes by a new set (the old ones stop working). Needs a
    /// second factor and a recent authentication.
    pub async fn regenerate_backup_codes(
        &self,
        me: &SignedIn,
        origin: Origin,
    ) -> Result<Vec<String>, Error> {
        if let Some(r) = me.session.restriction {
            return Err(restricted(r));
        }
        self.require_recent_auth(me)?;
        if !self.factors(&me.tenant, &me.user).await?.any() {
            return Err(Error::Conflict {
                code: "no_second_factor",
                message: "backup codes come with a second factor: set up an authenticator app or a passkey first".to_owned(),
            });
        }
        self.new_backup_codes(me, origin).await
    }

    /// Uses one of the user's backup codes.
    pub(crate) async fn check_backup_code(
        &self,
        tenant: &Tenant,
        user: &User,
        code: &str,
        journal: &Journal,
    ) -> Result<bool, Error> {
        let normalised = normalise(code);
        if normalised.len() != 10 {
            return Ok(false);
        }
        self.store()
            .use_backup_code(
                tenant.id,
                user.id,
                &self.hash_backup_code(tenant, user, code),
                self.now(),
                journal,
            )
            .await
            .map_err(store_err("backup codes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn codes_are_normalised() {
        assert_eq!(normalise(" ABcde-12345 "), "abcde12345");
        assert_eq!(normalise("123 456"), "123456");
    }
}
