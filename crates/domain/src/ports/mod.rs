//! Ports: what the application needs from the outside world, as narrow traits named for a
//! role. Adapters (stores, crypto, clocks, notifiers) implement them; the server wires them.

mod auth_store;
mod authz_store;
mod cache;
mod clock;
mod keyed_hash;
mod limiter;
mod mfa_store;
mod notifier;
mod one_time_password;
mod passkeys;
mod password_hasher;
mod random;
mod sealer;
mod store;
mod token_signer;

pub use auth_store::*;
pub use authz_store::*;
pub use cache::{Cache, EpochCache};
pub use clock::Clock;
pub use keyed_hash::KeyedHasher;
pub use limiter::{AttemptCounter, Attempts};
pub use mfa_store::*;
pub use notifier::{Channel, Message, MessageKind, Notifier, NotifyError};
pub use one_time_password::Totp;
pub use passkeys::*;
pub use password_hasher::{HashError, PasswordHasher};
pub use random::Random;
pub use sealer::{SealError, SecretSealer};
pub use store::*;
pub use token_signer::{GeneratedKey, TokenError, TokenSigner, VerifyingKey};
