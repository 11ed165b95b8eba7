use time::OffsetDateTime;

/// The current time. Injected so that expiry, lockout and rotation can be tested with a
/// controlled clock.
pub trait Clock: Send + Sync {
    /// The current UTC time.
    fn now(&self) -> OffsetDateTime;
}
