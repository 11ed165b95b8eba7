//! Signed access tokens (RFC 9068 JWTs), per-tenant signing keys with rotation, and opaque
//! rotating refresh tokens grouped in families (reuse of an old generation revokes the family).

use crate::{RefreshFamilyId, SessionId, TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// JWS algorithms a tenant may sign with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    #[default]
    ES256,
    EdDSA,
    RS256,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
            Self::RS256 => "RS256",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::ES256, Self::EdDSA, Self::RS256]
            .into_iter()
            .find(|a| a.as_str() == raw)
    }
}

/// A tenant's signing key. The private half is sealed with the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub tenant_id: TenantId,
    /// Key id (`kid`), unique in the tenant.
    pub kid: String,
    pub alg: SigningAlgorithm,
    /// The public key as a JWK (with `kid`, `alg`, `use: sig`).
    pub public_jwk: serde_json::Value,
    /// The PKCS#8 private key, sealed with context [`SigningKey::seal_context`].
    pub private_sealed: Vec<u8>,
    pub created_at: OffsetDateTime,
    /// When it stopped signing (a newer key took over); `None` for the current key.
    pub retired_at: Option<OffsetDateTime>,
    /// Published in the JWKS until then, so every token it signed can still be verified.
    pub publish_until: Option<OffsetDateTime>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("tenant_id", &self.tenant_id)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("publish_until", &self.publish_until)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The sealing context: a sealed key copied to another tenant or kid does not open.
    pub fn seal_context(tenant: TenantId, kid: &str) -> Vec<u8> {
        format!("tenant/{tenant}/signing_key/{kid}").into_bytes()
    }

    pub fn is_current(&self) -> bool {
        self.retired_at.is_none()
    }

    /// Whether verifiers should still find it in the JWKS at `now`.
    pub fn is_published(&self, now: OffsetDateTime) -> bool {
        self.retired_at.is_none() || self.publish_until.is_some_and(|u| now < u)
    }
}

/// A tenant's token rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenPolicy {
    pub signing_alg: SigningAlgorithm,
    pub access_token_ttl_secs: u32,
    /// Lifetime of a refresh-token family (each rotation keeps the family's end).
    pub refresh_token_ttl_secs: u32,
    /// Scheduled rotation: a key older than this is replaced.
    pub key_rotation_days: u32,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            signing_alg: SigningAlgorithm::ES256,
            access_token_ttl_secs: 300,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            key_rotation_days: 90,
        }
    }
}

/// The longest access-token lifetime a tenant may set; retired keys stay published at least
/// this long (plus clock skew).
pub const MAX_ACCESS_TOKEN_TTL_SECS: u32 = 3600;

impl TokenPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let bad = |m: &str| {
            Err(ValidationError::new(
                "settings.auth.tokens",
                "invalid_policy",
                m,
            ))
        };
        if !(30..=MAX_ACCESS_TOKEN_TTL_SECS).contains(&self.access_token_ttl_secs) {
            return bad("access_token_ttl_secs is between 30 and 3600");
        }
        if self.refresh_token_ttl_secs < 60 || self.refresh_token_ttl_secs > 365 * 24 * 3600 {
            return bad("refresh_token_ttl_secs is between 60 seconds and 365 days");
        }
        if self.key_rotation_days == 0 || self.key_rotation_days > 3650 {
            return bad("key_rotation_days is between 1 and 3650");
        }
        Ok(())
    }

    pub fn access_ttl(&self) -> Duration {
        Duration::seconds(i64::from(self.access_token_ttl_secs))
    }

    pub fn refresh_ttl(&self) -> Duration {
        Duration::seconds(i64::from(self.refresh_token_ttl_secs))
    }
}

/// How long a retired key stays in the JWKS.
pub fn retired_key_grace() -> Duration {
    Duration::seconds(i64::from(MAX_ACCESS_TOKEN_TTL_SECS) + 300)
}

/// The claims of an access token (RFC 9068), as Tessera issues and reads them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub client_id: String,
    /// The session the token was issued in.
    pub sid: String,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Assurance of the sign-in (`urn:tessera:acr:1fa` or `urn:tessera:acr:mfa`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub acr: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// The tenant's id (the issuer names its slug).
    pub tid: String,
}

/// A family of refresh tokens: one per sign-in, rotated on every use. Only the current
/// generation's token is accepted; presenting an older one revokes the family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshFamily {
    pub id: RefreshFamilyId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub session_id: Option<SessionId>,
    pub client_id: String,
    pub scope: String,
    /// Incremented by every rotation.
    pub generation: i64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// What presenting a refresh token did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was current; the family moved to the next generation (the new token's hash
    /// is stored).
    Rotated(RefreshFamily),
    /// The token was an older generation (or lost a concurrent rotation): the family is now
    /// revoked.
    Reused(RefreshFamily),
    /// Unknown, expired or already revoked.
    Invalid,
}
