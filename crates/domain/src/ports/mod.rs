//! Ports: what the application needs from the outside world, as narrow traits named for a
//! role. Adapters (stores, crypto, clocks) implement them; the server wires them.

mod cache;
mod clock;
mod random;
mod sealer;
mod store;

pub use cache::Cache;
pub use clock::Clock;
pub use random::Random;
pub use sealer::{SealError, SecretSealer};
pub use store::*;
