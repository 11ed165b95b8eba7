//! Who must pass a second factor, what a session may do before it has, and how recent an
//! authentication sensitive actions need ("sudo mode").

use super::sessions::SignedIn;
use crate::app::App;
use crate::error::{Error, store_err};
use tessera_domain::mfa::Restriction;
use tessera_domain::role::SystemRole;
use tessera_domain::session::Session;
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;
use time::Duration;

/// The second factors a user has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Factors {
    pub totp: bool,
    pub passkeys: usize,
    pub backup_codes_remaining: u32,
}

impl Factors {
    /// Whether the user can pass a second factor (backup codes alone do not count: they
    /// recover a factor, they are not one).
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// The refusal of a session that still has to pass (or enrol) a second factor.
pub(crate) fn restricted(r: Restriction) -> Error {
    match r {
        Restriction::SecondFactor => Error::Refused {
            code: "mfa_required",
            message: "complete the second step of the sign-in (authenticator code, passkey or backup code) first".to_owned(),
        },
        Restriction::Enrolment => Error::Refused {
            code: "mfa_enrolment_required",
            message: "your account requires a second factor: set up an authenticator app or a passkey first".to_owned(),
        },
    }
}

impl App {
    pub(crate) async fn factors(&self, tenant: &Tenant, user: &User) -> Result<Factors, Error> {
        let totp = self
            .store()
            .totp(tenant.id, user.id)
            .await
            .map_err(store_err("authenticator"))?
            .is_some_and(|f| f.confirmed_at.is_some());
        let passkeys = self
            .store()
            .passkeys(tenant.id, user.id)
            .await
            .map_err(store_err("passkey"))?
            .len();
        let backup = self
            .store()
            .backup_codes(tenant.id, user.id)
            .await
            .map_err(store_err("backup codes"))?;
        Ok(Factors {
            totp,
            passkeys,
            backup_codes_remaining: backup.remaining,
        })
    }

    /// Whether the user must pass a second factor at every sign-in: they hold an
    /// administrative role (a system role from Owner up, or a custom role at or above Owner's
    /// priority, directly or through a parent), or the tenant requires MFA for everyone.
    pub(crate) async fn mfa_mandatory(&self, tenant: &Tenant, user: &User) -> Result<bool, Error> {
        if tenant.settings.auth.mfa.required {
            return Ok(true);
        }
        let graph = self.permission_graph(tenant.id, user.id).await?;
        Ok(graph.is_some_and(|g| g.priority >= SystemRole::Owner.priority()))
    }

    /// What the session must still do: its own restriction, or, for a session that passed
    /// one factor only while MFA has become mandatory for its user (a role granted, the
    /// tenant's policy changed), the second factor or its enrolment.
    pub(crate) async fn effective_restriction(
        &self,
        tenant: &Tenant,
        user: &User,
        session: &Session,
    ) -> Result<Option<Restriction>, Error> {
        match session.restriction {
            // Enrolment was the way in while the user had no factor; once one exists (enrolled
            // from another sign-in, say), this session must pass it, not add another.
            Some(Restriction::Enrolment) => {
                return Ok(Some(if self.factors(tenant, user).await?.any() {
                    Restriction::SecondFactor
                } else {
                    Restriction::Enrolment
                }));
            }
            Some(r) => return Ok(Some(r)),
            None => {}
        }
        if session.has_mfa() || !self.mfa_mandatory(tenant, user).await? {
            return Ok(None);
        }
        Ok(Some(if self.factors(tenant, user).await?.any() {
            Restriction::SecondFactor
        } else {
            Restriction::Enrolment
        }))
    }

    /// Refuses to add a factor from a session that still has to pass its second factor: a
    /// password alone must never be enough to add one (enrolling is for full sessions and for
    /// sessions that must enrol).
    pub(crate) fn may_enrol(me: &SignedIn) -> Result<(), Error> {
        match me.session.restriction {
            Some(Restriction::SecondFactor) => Err(restricted(Restriction::SecondFactor)),
            _ => Ok(()),
        }
    }

    /// The signed-in user's second factors, and whether MFA is mandatory for them.
    pub async fn my_factors(&self, me: &SignedIn) -> Result<(Factors, bool), Error> {
        Ok((
            self.factors(&me.tenant, &me.user).await?,
            self.mfa_mandatory(&me.tenant, &me.user).await?,
        ))
    }

    /// Refuses a sensitive action unless the user authenticated within the tenant's step-up
    /// window (`StepUpRequired`: re-authenticate, then retry).
    pub fn require_recent_auth(&self, me: &SignedIn) -> Result<(), Error> {
        let window = me.tenant.settings.auth.mfa.step_up_secs;
        if me
            .session
            .authenticated_within(self.now(), Duration::seconds(i64::from(window)))
        {
            Ok(())
        } else {
            Err(Error::StepUpRequired {
                max_age_secs: window,
            })
        }
    }
}
