//! Background delivery with retries: `send` queues and returns, so that a response's timing
//! never depends on a mail server or an SMS gateway.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::ports::MessageKind;
use tokio::sync::Semaphore;

/// How often and how patiently a message is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub attempts: u32,
    /// Wait before the second try; doubled before each further one.
    pub first_delay: Duration,
    /// Longest wait between two tries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Four tries over about half a minute.
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `attempt` (1-based).
    fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Why one try failed. `reason` is safe to log: it never holds a recipient, code or body.
pub(crate) struct Failure {
    pub retry: bool,
    pub reason: String,
}

/// Deliveries running at once per notifier; further ones wait for a slot.
const CONCURRENT_DELIVERIES: usize = 32;

pub(crate) struct Deliveries {
    policy: RetryPolicy,
    slots: Arc<Semaphore>,
}

impl Deliveries {
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            slots: Arc::new(Semaphore::new(CONCURRENT_DELIVERIES)),
        }
    }

    /// Runs `attempt` in a background task until it succeeds, fails for good or runs out of
    /// tries; the outcome is logged with the tenant, channel and kind only.
    pub fn spawn<F, Fut>(
        &self,
        tenant: String,
        channel: &'static str,
        kind: MessageKind,
        attempt: F,
    ) where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Failure>> + Send,
    {
        let policy = self.policy;
        let slots = Arc::clone(&self.slots);
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            let tries = policy.attempts.max(1);
            let mut tried = 0;
            loop {
                tried += 1;
                match attempt().await {
                    Ok(()) => {
                        tracing::debug!(
                            tenant,
                            channel,
                            kind = kind.as_str(),
                            tries = tried,
                            "message delivered"
                        );
                        return;
                    }
                    Err(failure) if failure.retry && tried < tries => {
                        tracing::info!(
                            tenant,
                            channel,
                            kind = kind.as_str(),
                            error = %failure.reason,
                            tries = tried,
                            "message delivery failed; retrying"
                        );
                        tokio::time::sleep(policy.delay(tried)).await;
                    }
                    Err(failure) => {
                        tracing::warn!(
                            tenant,
                            channel,
                            kind = kind.as_str(),
                            error = %failure.reason,
                            tries = tried,
                            "message could not be delivered"
                        );
                        return;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
        };
        let waits: Vec<u64> = (1..=5).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert_eq!(p.delay(200), Duration::from_secs(5));
    }
}
