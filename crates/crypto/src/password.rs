//! The [`PasswordHasher`] port: Argon2id on a bounded pool of low-priority threads, with
//! imported bcrypt hashes verified (and flagged for rehashing).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, Once, PoisonError};

use argon2::password_hash::{self, PasswordHash, SaltString};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use rand::rngs::OsRng;
use tessera_domain::credential::Password;
use tessera_domain::ports::{HashError, PasswordHasher};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::CryptoError;

/// bcrypt only reads the first 72 bytes of a password.
const BCRYPT_MAX_BYTES: usize = 72;
/// The Argon2 version every new hash uses (0x13, the only one worth keeping).
const ARGON2_VERSION: Version = Version::V0x13;
/// What the dummy hash is computed from: never a real password (it is not secret either; the
/// dummy only spends the same time as a real verification).
const DUMMY_PASSWORD: &[u8] = b"tessera dummy password for unknown accounts";

/// Argon2id parameters and the size of the hashing pool.
///
/// The defaults are OWASP's Argon2id minimum (19 MiB, 2 passes, 1 lane), one worker per core
/// and 64 waiting requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordHashSettings {
    /// Argon2 memory cost, in KiB (`m`).
    pub memory_kib: u32,
    /// Argon2 passes (`t`).
    pub iterations: u32,
    /// Argon2 lanes (`p`).
    pub parallelism: u32,
    /// At most this many hashes or verifications run at once (at least 1).
    pub workers: usize,
    /// At most this many requests wait for a worker; one more gets [`HashError::Busy`] at once
    /// (0: never wait).
    pub queue: usize,
}

impl Default for PasswordHashSettings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue: 64,
        }
    }
}

/// The [`PasswordHasher`] port: Argon2id PHC strings with the deployment's parameters and a
/// 16-byte salt from the OS CSPRNG; also verifies imported bcrypt hashes (`$2a$`, `$2b$`,
/// `$2y$`).
///
/// Every hash and verification runs on one of [`workers`](PasswordHashSettings::workers)
/// threads that the hasher starts, at the lowest scheduling priority the OS gives without
/// privileges (nice 19 on Linux): request handling, token signing and database work always run
/// first, and hashing gets the CPU they leave. A caller first takes one of `workers` permits
/// (so a job handed to the threads always finds one idle); when
/// [`queue`](PasswordHashSettings::queue) callers already wait for a permit, the next gets
/// [`HashError::Busy`] at once, and a waiter that gives up frees its place. A caller that
/// gives up while its job runs does not free the worker before the job ends, so the bound
/// holds for CPU as well as for callers. The async methods need no runtime (any executor will
/// do); [`Argon2Hasher::hash_blocking`] and [`Argon2Hasher::verify_blocking`] run on the
/// calling thread.
///
/// Cloning is cheap and shares the pool. The threads end when the last clone is dropped:
/// that closes their channel, and each one returns after the job it may be running.
#[derive(Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
    /// Jobs for the worker threads; these hold only the receiving end, so dropping the last
    /// clone of the hasher disconnects the channel and stops them.
    jobs: SyncSender<Job>,
}

/// A job for a worker thread: it computes, sends its answer and releases its permit.
type Job = Box<dyn FnOnce() + Send>;

struct Inner {
    argon2: Argon2<'static>,
    settings: PasswordHashSettings,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// A hash of [`DUMMY_PASSWORD`] with the deployment's parameters.
    dummy_hash: String,
    /// Jobs running now and the most ever seen at once, to check the bound in tests.
    #[cfg(test)]
    running: AtomicUsize,
    #[cfg(test)]
    max_running: AtomicUsize,
    /// The worker threads' end of the channel: gone once they have all returned.
    #[cfg(test)]
    receiver: std::sync::Weak<Mutex<Receiver<Job>>>,
}

impl Argon2Hasher {
    /// Checks the settings and computes the dummy hash (one hash's worth of time).
    pub fn new(settings: PasswordHashSettings) -> Result<Self, CryptoError> {
        let invalid = |reason: String| CryptoError::InvalidPasswordHashSettings(reason);
        if settings.workers == 0 {
            return Err(invalid("workers must be at least 1".to_owned()));
        }
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, ARGON2_VERSION, params);
        let dummy_hash = hash_with(&argon2, DUMMY_PASSWORD).map_err(|e| invalid(e.to_string()))?;
        let permits = Arc::new(Semaphore::new(settings.workers));
        // At most `workers` jobs exist at once (one per permit), so `try_send` never finds the
        // channel full.
        let (jobs, receiver) = mpsc::sync_channel::<Job>(settings.workers);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..settings.workers {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("tessera-hash-{n}"))
                .spawn(move || worker(&receiver))
                // Threads already started end when `jobs` is dropped on return.
                .map_err(|e| invalid(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                argon2,
                settings,
                permits,
                waiting: AtomicUsize::new(0),
                dummy_hash,
                #[cfg(test)]
                running: AtomicUsize::new(0),
                #[cfg(test)]
                max_running: AtomicUsize::new(0),
                #[cfg(test)]
                receiver: Arc::downgrade(&receiver),
            }),
            jobs,
        })
    }

    pub fn settings(&self) -> &PasswordHashSettings {
        &self.inner.settings
    }

    /// One Argon2id hash on the calling thread, outside the pool: for benchmarks and tools.
    /// Services use [`PasswordHasher::hash`].
    pub fn hash_blocking(&self, password: &Password) -> Result<String, HashError> {
        hash_with(&self.inner.argon2, password.expose().as_bytes())
            .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// One verification on the calling thread, outside the pool (see [`PasswordHasher::verify`]).
    pub fn verify_blocking(&self, password: &Password, hash: &str) -> Result<bool, HashError> {
        self.inner.verify(password.expose().as_bytes(), hash)
    }

    /// Runs `job` on a worker thread once a worker is free, or answers `Busy`.
    async fn run<T, F>(&self, job: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, HashError> + Send + 'static,
    {
        let permit = self.admit().await?;
        let inner = Arc::clone(&self.inner);
        let (reply, answer) = oneshot::channel();
        let task: Job = Box::new(move || {
            // The permit is held until the job ends, even if the caller left meanwhile.
            if reply.is_closed() {
                return; // the caller gave up before the job started: skip it
            }
            #[cfg(test)]
            inner.started();
            let out = job(&inner);
            #[cfg(test)]
            inner.running.fetch_sub(1, Ordering::SeqCst);
            // Released before answering, so a caller that got its answer finds the worker free.
            drop(permit);
            let _ = reply.send(out); // nobody to tell if the caller left
        });
        self.jobs.try_send(task).map_err(|e| {
            HashError::Failed(match e {
                TrySendError::Full(_) => "the hashing threads are all taken".to_owned(),
                TrySendError::Disconnected(_) => "the hashing threads are gone".to_owned(),
            })
        })?;
        answer
            .await
            .map_err(|_| HashError::Failed("the hashing job failed".to_owned()))?
    }

    async fn admit(&self) -> Result<OwnedSemaphorePermit, HashError> {
        let permits = Arc::clone(&self.inner.permits);
        if let Ok(permit) = Arc::clone(&permits).try_acquire_owned() {
            return Ok(permit);
        }
        let _slot = WaitingSlot::take(&self.inner.waiting, self.inner.settings.queue)
            .ok_or(HashError::Busy)?;
        permits
            .acquire_owned()
            .await
            .map_err(|_| HashError::Failed("the hashing pool is closed".to_owned()))
    }

    /// Takes every worker, for tests that need a saturated pool.
    #[cfg(test)]
    fn hold_all_workers(&self) -> OwnedSemaphorePermit {
        let workers = u32::try_from(self.inner.settings.workers).unwrap();
        Arc::clone(&self.inner.permits)
            .try_acquire_many_owned(workers)
            .unwrap()
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::SeqCst)
    }
}

/// A worker thread: lowers its own priority, then runs jobs until the channel closes.
fn worker(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        // The lock is held only while waiting for a job, never while running one.
        let job = {
            let jobs = jobs.lock().unwrap_or_else(PoisonError::into_inner);
            jobs.recv()
        };
        let Ok(job) = job else {
            return; // every clone of the hasher is gone
        };
        // A job that panics drops its reply (the caller gets `Failed`) and its permit, and the
        // thread stays in the pool.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

/// Puts the calling thread at the lowest priority; warns once per process if the OS refuses.
fn lower_priority() {
    static WARNED: Once = Once::new();
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        WARNED.call_once(|| {
            tracing::warn!(
                error = %e,
                "cannot lower the priority of the password hashing threads: they compete with request handling on equal terms"
            );
        });
    }
}

/// A place in the queue, given back when the waiter gets a worker or gives up.
struct WaitingSlot<'a>(&'a AtomicUsize);

impl<'a> WaitingSlot<'a> {
    fn take(waiting: &'a AtomicUsize, queue: usize) -> Option<Self> {
        waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < queue).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(waiting))
    }
}

impl Drop for WaitingSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, password_hash::Error> {
    use argon2::PasswordHasher as _;
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2.hash_password(password, &salt)?.to_string())
}

enum Scheme {
    Argon2id,
    Bcrypt,
}

impl Scheme {
    fn of(hash: &str) -> Option<Self> {
        if hash.starts_with("$argon2id$") {
            Some(Self::Argon2id)
        } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            Some(Self::Bcrypt)
        } else {
            None
        }
    }
}

impl Inner {
    #[cfg(test)]
    fn started(&self) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
    }

    fn verify(&self, password: &[u8], hash: &str) -> Result<bool, HashError> {
        match Scheme::of(hash) {
            Some(Scheme::Argon2id) => {
                use argon2::PasswordVerifier as _;
                let parsed = PasswordHash::new(hash)
                    .map_err(|e| HashError::BadHash(format!("not an Argon2id PHC string: {e}")))?;
                if parsed.salt.is_none() || parsed.hash.is_none() {
                    return Err(HashError::BadHash(
                        "the Argon2id hash has no salt or no output".to_owned(),
                    ));
                }
                // The algorithm, version and parameters come from the hash itself.
                match self.argon2.verify_password(password, &parsed) {
                    Ok(()) => Ok(true),
                    Err(password_hash::Error::Password) => Ok(false),
                    Err(e) => Err(HashError::BadHash(format!("unusable Argon2id hash: {e}"))),
                }
            }
            Some(Scheme::Bcrypt) => {
                // Computed whatever the length, so that a long password costs the same.
                let matches = bcrypt::verify(password, hash)
                    .map_err(|_| HashError::BadHash("not a valid bcrypt hash".to_owned()))?;
                Ok(matches && password.len() <= BCRYPT_MAX_BYTES)
            }
            None => Err(HashError::BadHash(
                "unknown scheme (expected Argon2id or bcrypt)".to_owned(),
            )),
        }
    }

    fn needs_rehash(&self, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return true;
        };
        if parsed.algorithm != ARGON2ID_IDENT || parsed.version != Some(u32::from(ARGON2_VERSION)) {
            return true;
        }
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        let s = &self.settings;
        params.m_cost() != s.memory_kib
            || params.t_cost() != s.iterations
            || params.p_cost() != s.parallelism
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.clone();
        self.run(move |inner| {
            hash_with(&inner.argon2, password.expose().as_bytes())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await
    }

    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, HashError> {
        let password = password.clone();
        let hash = hash.to_owned();
        self.run(move |inner| inner.verify(password.expose().as_bytes(), &hash))
            .await
    }

    async fn verify_dummy(&self, password: &Password) {
        let password = password.clone();
        // The outcome is meaningless (and `Busy` is as good as an answer here).
        let _ = self
            .run(move |inner| inner.verify(password.expose().as_bytes(), &inner.dummy_hash))
            .await;
    }

    fn needs_rehash(&self, hash: &str) -> bool {
        self.inner.needs_rehash(hash)
    }
}

impl fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: the behaviour does not depend on the cost.
    fn fast() -> PasswordHashSettings {
        PasswordHashSettings {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 4,
        }
    }

    fn hasher() -> Argon2Hasher {
        Argon2Hasher::new(fast()).unwrap()
    }

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    #[tokio::test]
    async fn hash_then_verify_round_trip() {
        let h = hasher();
        let hash = h.hash(&pw("correct horse battery staple")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(
            h.verify(&pw("correct horse battery staple"), &hash)
                .await
                .unwrap()
        );
        // A fresh salt every time.
        let again = h.hash(&pw("correct horse battery staple")).await.unwrap();
        assert_ne!(hash, again);
    }

    #[tokio::test]
    async fn wrong_password_and_case_do_not_match() {
        let h = hasher();
        let hash = h.hash(&pw("Correct Horse")).await.unwrap();
        for wrong in [
            "correct horse",
            "CORRECT HORSE",
            "Correct Horse ",
            "Correct Hors",
        ] {
            assert!(!h.verify(&pw(wrong), &hash).await.unwrap(), "{wrong}");
        }
        assert!(h.verify(&pw("Correct Horse"), &hash).await.unwrap());
    }

    #[tokio::test]
    async fn argon2_compares_every_byte_beyond_72() {
        let h = hasher();
        let long = "a".repeat(72) + &"b".repeat(28);
        let hash = h.hash(&pw(&long)).await.unwrap();
        assert!(h.verify(&pw(&long), &hash).await.unwrap());
        assert!(!h.verify(&pw(&long[..72]), &hash).await.unwrap());
        let mut other = long.clone();
        other.replace_range(99.., "c");
        assert!(!h.verify(&pw(&other), &hash).await.unwrap());
    }

    #[tokio::test]
    async fn imported_bcrypt_hashes_verify() {
        let h = hasher();
        for prefix in [
            bcrypt::Version::TwoA,
            bcrypt::Version::TwoB,
            bcrypt::Version::TwoY,
        ] {
            let hash = bcrypt::hash_with_result("hunter2 hunter2", 4)
                .unwrap()
                .format_for_version(prefix);
            assert!(h.verify(&pw("hunter2 hunter2"), &hash).await.unwrap());
            assert!(!h.verify(&pw("Hunter2 hunter2"), &hash).await.unwrap());
            assert!(!h.verify(&pw("hunter2"), &hash).await.unwrap());
        }
    }

    #[tokio::test]
    async fn bcrypt_never_matches_a_password_longer_than_72_bytes() {
        let h = hasher();
        let prefix = "x".repeat(72);
        let long = prefix.clone() + &"y".repeat(28);
        // bcrypt itself would accept the long password: it only reads 72 bytes.
        let hash = bcrypt::hash(&prefix, 4).unwrap();
        assert!(bcrypt::verify(&long, &hash).unwrap());
        assert!(h.verify(&pw(&prefix), &hash).await.unwrap());
        assert!(!h.verify(&pw(&long), &hash).await.unwrap());
        // Same for a hash made from the long password (bcrypt truncated it).
        let hash = bcrypt::hash(&long, 4).unwrap();
        assert!(!h.verify(&pw(&long), &hash).await.unwrap());
        // 72 bytes exactly is still a whole password.
        let exact = "z".repeat(71) + "w";
        let hash = bcrypt::hash(&exact, 4).unwrap();
        assert!(h.verify(&pw(&exact), &hash).await.unwrap());
        assert!(!h.verify(&pw(&exact[..71]), &hash).await.unwrap());
    }

    #[tokio::test]
    async fn unusable_hashes_are_bad_hash_errors() {
        let h = hasher();
        let argon2i =
            "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A";
        for bad in [
            "",
            "plaintext",
            "$1$md5crypt",
            "$2x$04$abcdefghijklmnopqrstuv",
            "$2b$04$short",
            "$argon2id$v=19$m=1024",
            argon2i,
        ] {
            let res = h.verify(&pw("whatever"), bad).await;
            assert!(matches!(res, Err(HashError::BadHash(_))), "{bad}: {res:?}");
            // The message never echoes the stored hash.
            if let Err(e) = res
                && bad.len() > 12
            {
                assert!(!e.to_string().contains(bad), "{e}");
            }
        }
    }

    #[tokio::test]
    async fn verify_dummy_returns() {
        let h = hasher();
        h.verify_dummy(&pw("anything at all")).await;
        assert!(
            h.inner
                .dummy_hash
                .starts_with("$argon2id$v=19$m=1024,t=1,p=1$")
        );
        assert!(!h.needs_rehash(&h.inner.dummy_hash));
    }

    #[tokio::test]
    async fn needs_rehash_for_bcrypt_and_other_parameters() {
        let h = hasher();
        let current = h.hash(&pw("password one")).await.unwrap();
        assert!(!h.needs_rehash(&current));

        let bcrypt_hash = bcrypt::hash("password one", 4).unwrap();
        assert!(h.needs_rehash(&bcrypt_hash));

        for (m, t, p) in [(2048, 1, 1), (1024, 2, 1), (1024, 1, 2)] {
            let other = Argon2Hasher::new(PasswordHashSettings {
                memory_kib: m,
                iterations: t,
                parallelism: p,
                ..fast()
            })
            .unwrap();
            let hash = other.hash_blocking(&pw("password one")).unwrap();
            assert!(h.needs_rehash(&hash), "{hash}");
            // ... and it still verifies with the parameters it carries.
            assert!(h.verify(&pw("password one"), &hash).await.unwrap());
        }
        assert!(h.needs_rehash("garbage"));
    }

    #[test]
    fn default_settings_are_owasp_argon2id() {
        let s = PasswordHashSettings::default();
        assert_eq!((s.memory_kib, s.iterations, s.parallelism), (19_456, 2, 1));
        assert!(s.workers >= 1);
        assert_eq!(s.queue, 64);
        let h = Argon2Hasher::new(s).unwrap();
        let hash = h.hash_blocking(&pw("a default-cost password")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!h.needs_rehash(&hash));
        assert!(
            h.verify_blocking(&pw("a default-cost password"), &hash)
                .unwrap()
        );
    }

    #[test]
    fn invalid_settings_are_refused() {
        for bad in [
            PasswordHashSettings {
                workers: 0,
                ..fast()
            },
            PasswordHashSettings {
                memory_kib: 1,
                ..fast()
            },
            PasswordHashSettings {
                iterations: 0,
                ..fast()
            },
            PasswordHashSettings {
                parallelism: 0,
                ..fast()
            },
        ] {
            let err = Argon2Hasher::new(bad.clone()).unwrap_err();
            assert!(
                matches!(err, CryptoError::InvalidPasswordHashSettings(_)),
                "{bad:?}: {err}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn busy_when_the_queue_is_full() {
        let h = Argon2Hasher::new(PasswordHashSettings {
            workers: 1,
            queue: 1,
            ..fast()
        })
        .unwrap();
        let hash = h.hash(&pw("queued password")).await.unwrap();

        let held = h.hold_all_workers();
        // The first caller waits for the worker...
        let waiter = tokio::spawn({
            let h = h.clone();
            let hash = hash.clone();
            async move { h.verify(&pw("queued password"), &hash).await }
        });
        while h.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        // ... the queue (1) is full: the next ones are refused at once.
        for _ in 0..3 {
            assert!(matches!(
                h.hash(&pw("one too many")).await,
                Err(HashError::Busy)
            ));
            assert!(matches!(
                h.verify(&pw("one too many"), &hash).await,
                Err(HashError::Busy)
            ));
        }
        h.verify_dummy(&pw("one too many")).await; // returns at once too

        drop(held);
        assert!(waiter.await.unwrap().unwrap());
        assert_eq!(h.waiting(), 0);
        // Capacity is back.
        assert!(h.verify(&pw("queued password"), &hash).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_that_gives_up_frees_its_place() {
        let h = Argon2Hasher::new(PasswordHashSettings {
            workers: 1,
            queue: 1,
            ..fast()
        })
        .unwrap();
        let held = h.hold_all_workers();
        let waiter = tokio::spawn({
            let h = h.clone();
            async move { h.hash(&pw("abandoned")).await }
        });
        while h.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        waiter.abort();
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert_eq!(h.waiting(), 0);
        drop(held);
        assert!(h.hash(&pw("next one")).await.is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_callers_never_exceed_the_bound() {
        let h = Argon2Hasher::new(PasswordHashSettings {
            workers: 2,
            queue: 2,
            ..fast()
        })
        .unwrap();
        let calls: Vec<_> = (0..16)
            .map(|i| {
                let h = h.clone();
                tokio::spawn(async move { h.hash(&pw(&format!("password {i}"))).await })
            })
            .collect();
        let mut ok = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(_) => ok += 1,
                Err(HashError::Busy) => {}
                Err(e) => panic!("{e}"),
            }
        }
        // 2 running + 2 waiting at most when the 16 arrive together.
        assert!(ok >= 2, "{ok}");
        assert_eq!(h.waiting(), 0);
        assert_eq!(h.inner.permits.available_permits(), 2);
        let max = h.inner.max_running.load(Ordering::SeqCst);
        assert!((1..=2).contains(&max), "{max} jobs ran at once");
        assert_eq!(h.inner.running.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn async_methods_need_no_runtime() {
        let h = hasher();
        let password = pw("no runtime here");
        let hash = futures_lite_block_on(h.hash(&password)).unwrap();
        assert!(futures_lite_block_on(h.verify(&password, &hash)).unwrap());
    }

    #[tokio::test]
    async fn jobs_run_on_the_hashers_threads_at_the_lowest_priority() {
        let h = hasher();
        let (name, stat) = h
            .run(|_| {
                let name = std::thread::current().name().map(str::to_owned);
                Ok((name, std::fs::read_to_string("/proc/thread-self/stat").ok()))
            })
            .await
            .unwrap();
        assert!(
            name.as_deref()
                .is_some_and(|n| n.starts_with("tessera-hash-")),
            "{name:?}"
        );
        if cfg!(target_os = "linux") {
            // Fields after the command name: state is field 3, nice is field 19.
            let stat = stat.unwrap();
            let after_comm = stat.rsplit_once(')').unwrap().1;
            let nice = after_comm.split_whitespace().nth(19 - 3).unwrap();
            assert_eq!(nice, "19", "{stat}");
        }
    }

    #[tokio::test]
    async fn the_threads_end_with_the_last_clone() {
        let h = hasher();
        let other = h.clone();
        let receiver = h.inner.receiver.clone();
        assert!(h.hash(&pw("before the end")).await.is_ok());
        drop(h);
        // One clone left: the threads still serve it.
        assert!(other.hash(&pw("still served")).await.is_ok());
        assert!(receiver.upgrade().is_some());
        drop(other);
        // Every thread held the receiver: once it is gone, they have all returned.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while receiver.upgrade().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "the threads still run"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Polls a future to completion on this thread without a tokio runtime.
    fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut fut = std::pin::pin!(fut);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }
}
