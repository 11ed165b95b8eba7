//! Typed identifiers. Every entity id is a UUID (v7, time-ordered) wrapped in its own type so
//! that a user id can never be passed where a tenant id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
            pub const fn into_uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization: the customer that owns one or more tenants.
    OrganizationId
);
id_type!(
    /// A tenant: an isolated user directory with its own issuer.
    TenantId
);
id_type!(
    /// A user (or a customer record, which is a user of kind `customer`).
    UserId
);
id_type!(
    /// An organization unit (merchant, store, department...).
    OrgUnitId
);
id_type!(
    /// An admin API key.
    ApiKeyId
);
id_type!(
    /// An audit event.
    AuditEventId
);
id_type!(
    /// A one-time setup link issued by bootstrap.
    SetupTokenId
);
id_type!(
    /// A server-side sign-in session.
    SessionId
);
id_type!(
    /// A one-time code or link (verification, recovery).
    CodeId
);
id_type!(
    /// A family of rotating refresh tokens (one per sign-in).
    RefreshFamilyId
);
id_type!(
    /// A registered passkey (WebAuthn credential).
    PasskeyId
);
id_type!(
    /// A server-side challenge: a WebAuthn ceremony in progress, or a sign-in link.
    ChallengeId
);
id_type!(
    /// A browser or app that signed in (recognised by its device cookie).
    DeviceId
);
