//! Brute-force defence: failed sign-ins are counted per (account, client address) and per
//! client address. Past a few free attempts each further failure doubles the wait. The
//! account itself is never locked for everyone: a victim whose account is under attack from
//! one address still signs in from another.

use crate::app::App;
use crate::error::Error;
use tessera_domain::TenantId;
use tessera_domain::ports::Attempts;
use time::{Duration, OffsetDateTime};

/// Free failures per (account, address) before back-off starts.
const ACCOUNT_FREE: u32 = 5;
/// Free failures per address (all accounts) before back-off starts.
const ADDRESS_FREE: u32 = 50;
/// The longest wait.
const MAX_WAIT_SECS: i64 = 15 * 60;
/// Counters disappear this long after the last failure.
const WINDOW: Duration = Duration::hours(1);
/// One-time codes sent per identifier per window.
const SENDS_PER_WINDOW: u32 = 5;

fn wait_after(a: &Attempts, free: u32) -> Duration {
    if a.count < free {
        return Duration::ZERO;
    }
    let exp = (a.count - free).min(20);
    Duration::seconds((1i64 << exp).min(MAX_WAIT_SECS))
}

pub(crate) struct ThrottleKeys {
    account: String,
    address: String,
}

impl ThrottleKeys {
    /// Failures of one account from every address: the account's limit applies to them all
    /// (the second counter, under the looser address limit, never binds first).
    pub(crate) fn account_wide(tenant: TenantId, account_key: &str) -> Self {
        Self {
            account: format!("login-all:{tenant}:{account_key}"),
            address: format!("login-all-spare:{tenant}:{account_key}"),
        }
    }

    pub(crate) fn new(tenant: TenantId, account_key: &str, ip: Option<&str>) -> Self {
        let ip = ip.unwrap_or("unknown");
        Self {
            account: format!("login:{tenant}:{account_key}:{ip}"),
            address: format!("login-ip:{ip}"),
        }
    }
}

impl App {
    fn remaining(&self, a: &Attempts, free: u32, now: OffsetDateTime) -> Option<u64> {
        let wait = wait_after(a, free);
        let until = a.last_at? + wait;
        (wait > Duration::ZERO && until > now)
            .then(|| u64::try_from((until - now).whole_seconds().max(1)).unwrap_or(1))
    }

    /// Refuses with `Throttled` while either counter asks the caller to wait.
    pub(crate) async fn check_throttle(&self, keys: &ThrottleKeys) -> Result<(), Error> {
        let now = self.now();
        let account = self.ports.attempts.get(&keys.account).await;
        let address = self.ports.attempts.get(&keys.address).await;
        let wait = [
            self.remaining(&account, ACCOUNT_FREE, now),
            self.remaining(&address, ADDRESS_FREE, now),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(retry_after_secs) => Err(Error::Throttled { retry_after_secs }),
            None => Ok(()),
        }
    }

    pub(crate) async fn record_failure(&self, keys: &ThrottleKeys) {
        let now = self.now();
        self.ports.attempts.record(&keys.account, now, WINDOW).await;
        self.ports.attempts.record(&keys.address, now, WINDOW).await;
    }

    pub(crate) async fn clear_failures(&self, keys: &ThrottleKeys) {
        self.ports.attempts.reset(&keys.account).await;
    }

    /// Whether another one-time code may be sent to `target` now (counts the send).
    pub(crate) async fn may_send_code(&self, tenant: TenantId, target: &str) -> bool {
        let key = format!("send:{tenant}:{target}");
        let a = self.ports.attempts.record(&key, self.now(), WINDOW).await;
        a.count <= SENDS_PER_WINDOW
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_and_is_capped() {
        let at = |count| Attempts {
            count,
            last_at: Some(OffsetDateTime::UNIX_EPOCH),
        };
        assert_eq!(wait_after(&at(4), 5), Duration::ZERO);
        assert_eq!(wait_after(&at(5), 5), Duration::seconds(1));
        assert_eq!(wait_after(&at(7), 5), Duration::seconds(4));
        assert_eq!(wait_after(&at(40), 5), Duration::seconds(MAX_WAIT_SECS));
    }
}
