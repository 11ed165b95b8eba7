//! Access tokens (RFC 9068 JWTs signed with the tenant's current key) and rotating refresh
//! tokens.

use super::secrets::sha256_hex;
use super::sessions::SignedIn;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{AuthFailure, Error, store_err};
use tessera_domain::audit::Outcome;
use tessera_domain::ports::{Journal, TokenError};
use tessera_domain::session::Session;
use tessera_domain::tenant::Tenant;
use tessera_domain::token::{AccessClaims, RefreshFamily, RefreshOutcome};
use tessera_domain::user::User;
use tessera_domain::{RefreshFamilyId, SessionId, UserId};

/// The client id of tokens issued by Tessera's own sign-in (pages and the REST API).
pub const NATIVE_CLIENT_ID: &str = "tessera";
/// The JOSE `typ` of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// Clock skew tolerated on `nbf` and `exp`.
const LEEWAY_SECS: i64 = 30;

/// Tokens handed to a client after sign-in or refresh.
#[derive(Clone, Debug)]
pub struct TokenPair {
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u32,
    pub refresh_token: String,
}

/// A refresh family ready to be stored with the secret handed to the client.
pub(crate) struct NewRefresh {
    pub family: RefreshFamily,
    pub secret: String,
    pub hash: String,
}

/// Whether verified claims are for this issuer and tenant and valid at `now` (unix seconds),
/// with [`LEEWAY_SECS`] of clock skew either way.
fn claims_hold(
    claims: &AccessClaims,
    issuer: &str,
    tenant: tessera_domain::TenantId,
    now: i64,
) -> bool {
    claims.iss == issuer
        && claims.tid == tenant.to_string()
        && now < claims.exp + LEEWAY_SECS
        && claims.nbf <= now + LEEWAY_SECS
}

impl App {
    /// Signs an access token for `user` in `session`.
    pub(crate) async fn issue_access_token(
        &self,
        tenant: &Tenant,
        user: &User,
        session: &Session,
    ) -> Result<(String, u32), Error> {
        let keys = self.signing_key(tenant).await?;
        let Some(current) = keys.current.as_ref() else {
            return Err(Error::Unexpected(anyhow::anyhow!(
                "tenant {} has no current signing key",
                tenant.slug
            )));
        };
        let policy = &tenant.settings.auth.tokens;
        let now = self.now();
        let issuer = self.issuer(tenant);
        let claims = AccessClaims {
            iss: issuer.clone(),
            sub: user.id.to_string(),
            aud: issuer,
            exp: (now + policy.access_ttl()).unix_timestamp(),
            iat: now.unix_timestamp(),
            nbf: now.unix_timestamp(),
            jti: self.ports.random.new_id().simple().to_string(),
            client_id: NATIVE_CLIENT_ID.to_owned(),
            sid: session.id.to_string(),
            auth_time: session.auth_time.unix_timestamp(),
            amr: session.amr.clone(),
            acr: session.acr.clone(),
            scope: String::new(),
            tid: tenant.id.to_string(),
        };
        let claims = serde_json::to_value(&claims)
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("claims: {e}")))?;
        let token = self
            .ports
            .signer
            .sign(
                current.alg,
                &current.private_pkcs8,
                &current.kid,
                ACCESS_TOKEN_TYP,
                &claims,
            )
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("signing an access token: {e}")))?;
        Ok((token, policy.access_token_ttl_secs))
    }

    /// A new refresh family for a sign-in (stored by the caller, with the session).
    pub(crate) fn new_refresh(
        &self,
        tenant: &Tenant,
        user: UserId,
        session: SessionId,
    ) -> NewRefresh {
        let now = self.now();
        let secret = self.new_secret(32);
        NewRefresh {
            family: RefreshFamily {
                id: RefreshFamilyId::from_uuid(self.ports.random.new_id()),
                tenant_id: tenant.id,
                user_id: user,
                session_id: Some(session),
                client_id: NATIVE_CLIENT_ID.to_owned(),
                scope: String::new(),
                generation: 1,
                created_at: now,
                expires_at: now + tenant.settings.auth.tokens.refresh_ttl(),
                revoked_at: None,
            },
            hash: sha256_hex(&secret),
            secret,
        }
    }

    /// Verifies an access token of the tenant: signature with the key its `kid` names (and
    /// that key's algorithm only), `typ`, issuer, tenant and times. Does not look at the
    /// session (see [`authenticate_access_token`](Self::authenticate_access_token)).
    pub async fn verify_access_token(
        &self,
        tenant: &Tenant,
        token: &str,
    ) -> Result<AccessClaims, Error> {
        let invalid = || Error::Unauthenticated(AuthFailure::InvalidToken);
        let kid = self.ports.signer.peek_kid(token).map_err(|_| invalid())?;
        let key = self
            .verifying_key(tenant, &kid)
            .await?
            .ok_or_else(invalid)?;
        let claims = self
            .ports
            .signer
            .verify(token, &key, ACCESS_TOKEN_TYP)
            .map_err(|e| {
                if let TokenError::Failed(msg) = &e {
                    tracing::error!(error = %msg, "token verification failed unexpectedly");
                }
                invalid()
            })?;
        let claims: AccessClaims = serde_json::from_value(claims).map_err(|_| invalid())?;
        if !claims_hold(
            &claims,
            &self.issuer(tenant),
            tenant.id,
            self.now().unix_timestamp(),
        ) {
            return Err(invalid());
        }
        Ok(claims)
    }

    /// Authenticates a bearer access token on the tenant's user API: the token must verify,
    /// its session must still be live and its user active.
    pub async fn authenticate_access_token(
        &self,
        slug: &str,
        token: &str,
    ) -> Result<SignedIn, Error> {
        let tenant = self.active_tenant(slug).await?;
        let claims = self.verify_access_token(&tenant, token).await?;
        let invalid = || Error::Unauthenticated(AuthFailure::InvalidToken);
        let sid: SessionId = claims.sid.parse().map_err(|_| invalid())?;
        let session = self
            .store()
            .session(tenant.id, sid)
            .await
            .map_err(store_err("session"))?
            .filter(|s| s.revoked_at.is_none() && self.now() < s.expires_at)
            .ok_or_else(invalid)?;
        if session.user_id.to_string() != claims.sub {
            return Err(invalid());
        }
        let user = self
            .signed_in_user(&tenant, session.user_id, invalid)
            .await?;
        if let Some(r) = self.effective_restriction(&tenant, &user, &session).await? {
            return Err(super::assurance::restricted(r));
        }
        Ok(SignedIn {
            tenant,
            user,
            session,
        })
    }

    /// Exchanges a refresh token for new tokens (the presented one is used up).
    pub async fn refresh_tokens(
        &self,
        ctx: &RequestContext,
        slug: &str,
        presented: &str,
    ) -> Result<TokenPair, Error> {
        let tenant = self.active_tenant(slug).await?;
        let invalid = || Error::Unauthenticated(AuthFailure::InvalidRefreshToken);
        if presented.is_empty() || presented.len() > 256 {
            return Err(invalid());
        }
        let secret = self.new_secret(32);
        let new_hash = sha256_hex(&secret);
        let presented_hash = sha256_hex(presented);
        let mut reuse = self.draft(
            ctx,
            &tenant,
            "auth.refresh_token_reused",
            ("tenant", tenant.id.to_string()),
            vec![],
        );
        reuse.outcome = Outcome::Failure;
        let outcome = self
            .store()
            .rotate_refresh(
                tenant.id,
                &presented_hash,
                &new_hash,
                self.now(),
                &Journal::one(reuse),
            )
            .await
            .map_err(store_err("refresh token"))?;
        let family = match outcome {
            RefreshOutcome::Rotated(family) => family,
            RefreshOutcome::Reused(family) => {
                tracing::warn!(tenant = %tenant.slug, family = %family.id, user = %family.user_id, "refresh token reuse: family revoked");
                return Err(Error::Unauthenticated(AuthFailure::RefreshTokenReused));
            }
            RefreshOutcome::Invalid => return Err(invalid()),
        };
        // A refresh is activity of the sign-in: the session must still be live (idle and
        // absolute timeouts) and its last-seen time moves on.
        let now = self.now();
        let mut session = match family.session_id {
            Some(sid) => self
                .store()
                .session(tenant.id, sid)
                .await
                .map_err(store_err("session"))?
                .filter(|s| s.is_live(now))
                .ok_or_else(invalid)?,
            None => return Err(invalid()),
        };
        self.store()
            .touch_session(tenant.id, session.id, now)
            .await
            .map_err(store_err("session"))?;
        session.last_seen_at = now;
        let user = self
            .signed_in_user(&tenant, family.user_id, invalid)
            .await?;
        // A sign-in that passed one factor cannot be extended once MFA is mandatory for
        // its user: the refresh token dies with the policy change.
        if let Some(r) = self.effective_restriction(&tenant, &user, &session).await? {
            return Err(super::assurance::restricted(r));
        }
        let (access_token, expires_in) = self.issue_access_token(&tenant, &user, &session).await?;
        Ok(TokenPair {
            access_token,
            expires_in,
            refresh_token: secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::TenantId;

    fn claims(tenant: TenantId) -> AccessClaims {
        AccessClaims {
            iss: "https://id.example/t/acme".into(),
            sub: "u".into(),
            aud: "https://id.example/t/acme".into(),
            exp: 1_000_300,
            iat: 1_000_000,
            nbf: 1_000_000,
            jti: "j".into(),
            client_id: NATIVE_CLIENT_ID.into(),
            sid: "s".into(),
            auth_time: 1_000_000,
            amr: vec!["pwd".into()],
            acr: String::new(),
            scope: String::new(),
            tid: tenant.to_string(),
        }
    }

    #[test]
    fn expired_early_foreign_issuer_and_foreign_tenant_claims_do_not_hold() {
        let t = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        let c = claims(t);
        let iss = "https://id.example/t/acme";
        assert!(claims_hold(&c, iss, t, 1_000_100));
        // Expired: valid until exp + leeway, not a second longer.
        assert!(claims_hold(&c, iss, t, 1_000_300 + LEEWAY_SECS - 1));
        assert!(!claims_hold(&c, iss, t, 1_000_300 + LEEWAY_SECS));
        assert!(!claims_hold(&c, iss, t, 2_000_000));
        // Not yet valid beyond the leeway.
        assert!(claims_hold(&c, iss, t, 1_000_000 - LEEWAY_SECS));
        assert!(!claims_hold(&c, iss, t, 1_000_000 - LEEWAY_SECS - 1));
        // Another issuer or tenant.
        assert!(!claims_hold(&c, "https://id.example/t/other", t, 1_000_100));
        let other = TenantId::from_uuid(uuid::Uuid::from_u128(2));
        assert!(!claims_hold(&c, iss, other, 1_000_100));
    }
}
