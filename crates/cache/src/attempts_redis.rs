use crate::attempts_memory::MemoryAttempts;
use crate::redis_link::RedisLink;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use tessera_domain::ports::{AttemptCounter, Attempts};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Debug)]
pub struct RedisAttemptsSettings {
    pub url: String,
    /// Prefix of the keys (`<namespace>:attempts:<key>`).
    pub namespace: String,
    /// Longest wait for one Redis command before using the node's own counters.
    pub timeout: StdDuration,
    /// Bound of the node's own counters.
    pub max_keys: u64,
}

/// One attempt, atomically: a counter whose last attempt is older than the window starts
/// again, the count goes up, `last` keeps the latest attempt (unix microseconds, kept as the
/// caller's string so that no float formatting touches it), and the hash expires `window`
/// after this attempt. Returns `{count, last}`.
const RECORD: &str = r"
local at = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local last_s = redis.call('HGET', KEYS[1], 'last')
local last = last_s and tonumber(last_s)
if last and last + window_ms * 1000 <= at then
  redis.call('DEL', KEYS[1])
  last_s = false
  last = nil
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
if not last or at > last then
  last_s = ARGV[1]
end
redis.call('HSET', KEYS[1], 'last', last_s)
redis.call('PEXPIRE', KEYS[1], window_ms)
return {count, last_s}
";

/// Attempt counters shared by every node through Redis. Every attempt is also counted in the
/// node's own [`MemoryAttempts`]; when Redis is unreachable, slow or failing, those answer
/// instead (the breaker then skips Redis for a moment), so callers never see an error.
#[derive(Clone)]
pub struct RedisAttempts {
    local: MemoryAttempts,
    link: Arc<RedisLink>,
    namespace: Arc<str>,
}

impl RedisAttempts {
    /// Only an unparsable URL is an error: when Redis is down the counters start anyway, on
    /// the node's own, and connect in the background. Must be called within a Tokio runtime.
    pub fn start(settings: RedisAttemptsSettings) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(settings.url.as_str())?;
        Ok(Self {
            local: MemoryAttempts::new(settings.max_keys),
            link: RedisLink::start(client, settings.timeout, "attempt counters"),
            namespace: Arc::from(settings.namespace),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:attempts:{key}", self.namespace)
    }

    /// Whether Redis is connected (for tests and readiness reports).
    pub async fn connected(&self) -> bool {
        self.link.connected().await
    }
}

fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

fn from_micros(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
}

fn attempts(count: Option<i64>, last: Option<String>) -> Attempts {
    match count {
        Some(count) if count > 0 => Attempts {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            last_at: last
                .and_then(|l| l.parse::<i64>().ok())
                .and_then(from_micros),
        },
        _ => Attempts::default(),
    }
}

#[async_trait]
impl AttemptCounter for RedisAttempts {
    async fn get(&self, key: &str) -> Attempts {
        if let Some(mut conn) = self.link.conn().await {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(self.key(key)).arg("count").arg("last");
            let query = cmd.query_async::<(Option<i64>, Option<String>)>(&mut conn);
            if let Some((count, last)) = self.link.run("hmget", query).await {
                return attempts(count, last);
            }
        }
        self.local.get(key).await
    }

    async fn record(&self, key: &str, at: OffsetDateTime, window: Duration) -> Attempts {
        let local = self.local.record(key, at, window).await;
        if let Some(mut conn) = self.link.conn().await {
            let window_ms = window.whole_milliseconds().clamp(1, i128::from(i64::MAX));
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(RECORD)
                .arg(1)
                .arg(self.key(key))
                .arg(micros(at))
                .arg(i64::try_from(window_ms).unwrap_or(i64::MAX));
            let query = cmd.query_async::<(i64, String)>(&mut conn);
            if let Some((count, last)) = self.link.run("record", query).await {
                return attempts(Some(count), Some(last));
            }
        }
        local
    }

    async fn reset(&self, key: &str) {
        self.local.reset(key).await;
        let deleted = match self.link.conn().await {
            Some(mut conn) => {
                let mut cmd = redis::cmd("DEL");
                cmd.arg(self.key(key));
                let query = cmd.query_async::<i64>(&mut conn);
                self.link.run("del", query).await.is_some()
            }
            None => false,
        };
        if !deleted {
            tracing::warn!(
                "could not reset a shared attempt counter: other nodes keep counting until it expires"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn microseconds_round_trip() {
        let at = datetime!(2026-11-22 10:00:00.123456 UTC);
        assert_eq!(from_micros(micros(at)), Some(at));
        let a = attempts(Some(3), Some(micros(at).to_string()));
        assert_eq!(
            a,
            Attempts {
                count: 3,
                last_at: Some(at)
            }
        );
        assert_eq!(attempts(None, None), Attempts::default());
    }
}
