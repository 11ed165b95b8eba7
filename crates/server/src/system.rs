//! The system clock: the one place that reads the wall clock (the `Clock` port's adapter).

use tessera_domain::ports::Clock;
use time::OffsetDateTime;

pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
