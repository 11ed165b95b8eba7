//! One Redis connection with a breaker, shared by the Redis-backed adapters of this crate: it
//! connects in the background (retrying while Redis is unreachable), runs each command within
//! a timeout, and after a failure skips Redis for a moment so that a lost Redis costs one
//! timeout now and then instead of one per call.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::RwLock;
use tokio::task::JoinHandle;

/// After a failed Redis command Redis is skipped for this long.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(2);

pub(crate) struct RedisLink {
    conn: RwLock<Option<ConnectionManager>>,
    /// When Redis may be tried again after a failure.
    skip_until: Mutex<Option<tokio::time::Instant>>,
    timeout: Duration,
    /// What this link serves, for the log (`cache`, `attempt counters`).
    role: &'static str,
    connector: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for RedisLink {
    fn drop(&mut self) {
        if let Ok(mut connector) = self.connector.lock()
            && let Some(task) = connector.take()
        {
            task.abort();
        }
    }
}

impl RedisLink {
    /// Starts connecting in the background; must be called within a Tokio runtime.
    pub fn start(client: redis::Client, timeout: Duration, role: &'static str) -> Arc<Self> {
        let link = Arc::new(Self {
            conn: RwLock::new(None),
            skip_until: Mutex::new(None),
            timeout,
            role,
            connector: Mutex::new(None),
        });
        let task = tokio::spawn(connect_loop(client, Arc::downgrade(&link)));
        if let Ok(mut connector) = link.connector.lock() {
            *connector = Some(task);
        }
        link
    }

    /// The Redis connection, unless there is none yet or the breaker is open.
    pub async fn conn(&self) -> Option<ConnectionManager> {
        let open = self
            .skip_until
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_some_and(|until| tokio::time::Instant::now() < until);
        if open {
            return None;
        }
        self.conn.read().await.clone()
    }

    /// Runs one Redis command within the timeout; a failure opens the breaker.
    pub async fn run<T>(
        &self,
        what: &str,
        cmd: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let failure = match tokio::time::timeout(self.timeout, cmd).await {
            Ok(Ok(v)) => return Some(v),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timed out".to_owned(),
        };
        tracing::debug!(
            error = %failure,
            what,
            role = self.role,
            "Redis command failed; using the in-process fallback for a moment"
        );
        if let Ok(mut g) = self.skip_until.lock() {
            *g = Some(tokio::time::Instant::now() + BREAKER_COOLDOWN);
        }
        None
    }

    /// Whether Redis is connected and the breaker closed.
    pub async fn connected(&self) -> bool {
        self.conn().await.is_some()
    }
}

/// Establishes the connection manager (which then reconnects by itself), retrying while Redis
/// is unreachable.
async fn connect_loop(client: redis::Client, link: Weak<RedisLink>) {
    let mut delay = Duration::from_millis(200);
    loop {
        let Some(strong) = link.upgrade() else {
            return;
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(strong.timeout))
            .set_response_timeout(Some(strong.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        match ConnectionManager::new_with_config(client.clone(), config).await {
            Ok(conn) => {
                *strong.conn.write().await = Some(conn);
                tracing::info!(role = strong.role, "connected to Redis");
                return;
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    role = strong.role,
                    "Redis unreachable; using the in-process fallback and retrying"
                )
            }
        }
        drop(strong);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
