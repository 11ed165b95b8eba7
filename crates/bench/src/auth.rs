//! `tessera-bench auth`: native authentication with the real Argon2id parameters
//! (m=19456 KiB, t=2, p=1, the defaults of `[auth]`), in one run:
//!
//! 1. the floor: raw Argon2id verifications on one thread per core, outside any server;
//! 2. password sign-ins per second over HTTP (`POST /t/{t}/api/v1/login`) against the real
//!    server in-process (SQLite), spread over imported users;
//! 3. p50/p99 of `GET /t/{t}/api/v1/me` (access token) and of the operator's
//!    `GET /api/v1/tenants/{t}/users/{id}` from one client each, alone and while a sign-in
//!    storm saturates the hashing pool;
//! 4. access-token sign and verify rates per core (ES256, EdDSA, RS256), in-process.

use crate::load::{self, LoadResult};
use crate::report::{Latency, Report, ms, progress, round};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tessera_config::AuthSettings;
use tessera_crypto::{Argon2Hasher, JwtSigner, PasswordHashSettings};
use tessera_domain::credential::Password;
use tessera_domain::ports::{TokenSigner, VerifyingKey};
use tessera_domain::token::SigningAlgorithm;
use tessera_testkit::TestApp;

const PASSWORD: &str = "correct horse battery staple";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Users imported for the sign-in storm (one more is kept for the latency probes).
    #[arg(long, default_value_t = 64)]
    users: usize,
    /// Concurrent sign-in clients (default: 2 x cores).
    #[arg(long)]
    connections: Option<usize>,
    /// Seconds each measured phase lasts.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Seconds of unmeasured warm-up before each HTTP phase.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Seconds of signing, then of verifying, per token algorithm.
    #[arg(long, default_value_t = 2)]
    token_seconds: u64,
}

pub async fn run(args: Args, report: &mut Report) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let connections = args.connections.unwrap_or(2 * cores).max(1);
    let duration = Duration::from_secs(args.duration);
    let warmup = Duration::from_secs(args.warmup);

    // 1. The floor: raw verifications, one thread per core.
    let params = PasswordHashSettings::default();
    report.note(
        "argon2",
        format!(
            "Argon2id m={} KiB, t={}, p={}; {cores} cores",
            params.memory_kib, params.iterations, params.parallelism
        ),
    );
    let hasher = Argon2Hasher::new(params)?;
    let password = Password::parse(PASSWORD).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let phc = hasher
        .hash_blocking(&password)
        .map_err(|e| anyhow::anyhow!("hash: {e}"))?;
    progress(&format!(
        "floor: raw Argon2id verifications on {cores} threads for {}s",
        args.duration
    ));
    let floor = {
        let (h, p, phc) = (hasher.clone(), password.clone(), phc.clone());
        tokio::task::spawn_blocking(move || verify_rate(&h, &p, &phc, cores, duration)).await??
    };

    // 2. The server with the real parameters, a tenant, imported users.
    progress("server: starting (SQLite, real Argon2id parameters)");
    let dir = tempfile::tempdir()?;
    let mut settings = tessera_testkit::test_settings(&dir, None);
    let defaults = AuthSettings::default();
    settings.auth.argon2_memory_kib = defaults.argon2_memory_kib;
    settings.auth.argon2_iterations = defaults.argon2_iterations;
    settings.auth.argon2_parallelism = defaults.argon2_parallelism;
    anyhow::ensure!(
        settings.auth.argon2_memory_kib == 19_456,
        "the server must use the real Argon2id memory cost"
    );
    let mut app = TestApp::start_with(settings, dir, None).await;
    let out = tessera_server::cli::bootstrap::bootstrap(
        &app.settings,
        "admin",
        Some("admin@example.com"),
    )
    .await?;
    app.operator_key = out.api_key;
    let tenant = app.tenant().await;
    let email = |n: usize| format!("user{n}@example.com");
    let users: Vec<Value> = (0..=args.users)
        .map(|n| json!({"email": email(n), "email_verified": true, "password_hash": phc}))
        .collect();
    let imported = app
        .post(
            &format!("/api/v1/tenants/{tenant}/users/import"),
            json!({ "users": users }),
        )
        .await;
    anyhow::ensure!(
        imported.status.as_u16() == 200
            && imported.json["with_password"].as_u64() == Some(args.users as u64 + 1),
        "import failed: {} {}",
        imported.status,
        imported.text
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections + 4)
        .build()?;
    let login_url = app.url(&format!("/t/{tenant}/api/v1/login"));
    // The probe user is not in the storm (its sessions are never evicted by the storm's).
    let signed_in = client
        .post(&login_url)
        .json(&json!({"identifier": email(args.users), "password": PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(
        signed_in.status().as_u16() == 200,
        "probe sign-in: {}",
        signed_in.status()
    );
    let signed_in: Value = signed_in.json().await?;
    let access = Arc::new(
        signed_in["access_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no access token"))?
            .to_owned(),
    );
    let user_id = signed_in["user_id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no user id"))?
        .to_owned();
    let me_url = Arc::new(app.url(&format!("/t/{tenant}/api/v1/me")));
    let user_url = Arc::new(app.url(&format!("/api/v1/tenants/{tenant}/users/{user_id}")));
    let key = Arc::new(app.operator_key.clone());

    // Probes are open-loop: one request every 10 ms each (a steady trickle of reads, as real
    // traffic arrives), so that the latency measured is what a reader sees while sign-ins
    // saturate the hashing pool, not a second closed-loop load competing for the two cores.
    let every = Duration::from_millis(10);
    let me_probe = |c: reqwest::Client, url: Arc<String>, token: Arc<String>| {
        move |_: u64| {
            let req = c.get(url.as_str()).bearer_auth(token.as_str());
            async move { ok(req.send().await, 200).await }
        }
    };

    // 3a. Probes alone.
    progress(&format!("probes alone for {}s", args.duration));
    let (me_alone, user_alone) = tokio::join!(
        load::paced(
            every,
            duration,
            me_probe(client.clone(), me_url.clone(), access.clone())
        ),
        load::paced(
            every,
            duration,
            me_probe(client.clone(), user_url.clone(), key.clone())
        ),
    );

    // 2. The storm alone: sign-ins per second against the raw hash rate.
    progress(&format!(
        "sign-in storm: {connections} clients over {} users for {}s",
        args.users, args.duration
    ));
    let n_users = args.users.max(1);
    let storm = {
        let (c, u) = (client.clone(), Arc::new(login_url));
        move |task: usize, i: u64| {
            let n = (task + i as usize * 7919) % n_users;
            let req = c
                .post(u.as_str())
                .json(&json!({"identifier": format!("user{n}@example.com"), "password": PASSWORD}));
            async move { ok(req.send().await, 200).await }
        }
    };
    let storm = Arc::new(storm);
    let storm_alone = {
        let storm = storm.clone();
        load::run(connections, warmup, duration, move |t, i| storm(t, i)).await
    };
    // 3b. The storm again, with the probes alongside.
    progress(&format!(
        "sign-in storm again for {}s, reads probed alongside",
        args.duration
    ));
    let (_, me_storm, user_storm) = tokio::join!(
        load::run(connections, warmup, duration, move |t, i| storm(t, i)),
        async {
            tokio::time::sleep(warmup).await;
            load::paced(
                every,
                duration,
                me_probe(client.clone(), me_url.clone(), access.clone()),
            )
            .await
        },
        async {
            tokio::time::sleep(warmup).await;
            load::paced(
                every,
                duration,
                me_probe(client.clone(), user_url.clone(), key.clone()),
            )
            .await
        },
    );
    let storm = storm_alone;
    app.stop().await;

    // 4. Tokens.
    progress(&format!(
        "tokens: sign and verify, {}s each per algorithm, one thread",
        args.token_seconds
    ));
    let token_seconds = Duration::from_secs(args.token_seconds);
    let tokens = tokio::task::spawn_blocking(move || token_rates(token_seconds)).await??;

    print(
        report,
        cores,
        connections,
        args.users,
        floor,
        storm,
        [
            ("GET /t/{t}/api/v1/me", "alone", me_alone),
            ("GET /t/{t}/api/v1/me", "during storm", me_storm),
            ("GET /api/v1/tenants/{t}/users/{id}", "alone", user_alone),
            (
                "GET /api/v1/tenants/{t}/users/{id}",
                "during storm",
                user_storm,
            ),
        ],
        &tokens,
    );
    Ok(())
}

async fn ok(sent: reqwest::Result<reqwest::Response>, status: u16) -> bool {
    match sent {
        Ok(r) if r.status().as_u16() == status => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// Verifications per second on `threads` threads for `duration`.
fn verify_rate(
    hasher: &Argon2Hasher,
    password: &Password,
    phc: &str,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let count = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while start.elapsed() < duration {
                    if hasher.verify_blocking(password, phc).unwrap_or(false) {
                        count.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let elapsed = start.elapsed();
    anyhow::ensure!(!failed.load(Ordering::Relaxed), "a raw verification failed");
    Ok(count.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64())
}

struct TokenRate {
    alg: &'static str,
    signs: f64,
    verifies: f64,
}

/// Signs and verifies an access token with each algorithm on the calling thread.
fn token_rates(seconds: Duration) -> anyhow::Result<Vec<TokenRate>> {
    let signer = JwtSigner::new();
    let claims = json!({
        "iss": "http://127.0.0.1:8080/t/acme",
        "sub": "0190f7a4-3c52-7c1e-9a8e-1f2d3c4b5a69",
        "aud": "acme",
        "iat": 1_767_225_600,
        "exp": 1_767_226_500,
        "jti": "0190f7a4-3c52-7c1e-9a8e-1f2d3c4b5a70",
        "sid": "0190f7a4-3c52-7c1e-9a8e-1f2d3c4b5a71",
        "tenant": "acme",
    });
    let mut rates = Vec::new();
    for alg in [
        SigningAlgorithm::ES256,
        SigningAlgorithm::EdDSA,
        SigningAlgorithm::RS256,
    ] {
        let err = |e: tessera_domain::ports::TokenError| anyhow::anyhow!("{}: {e}", alg.as_str());
        let key = signer.generate(alg).map_err(err)?;
        let kid = format!("bench-{}", alg.as_str());
        let mut token = String::new();
        let (mut n, start) = (0u64, Instant::now());
        while start.elapsed() < seconds {
            token = signer
                .sign(alg, &key.private_pkcs8, &kid, "at+jwt", &claims)
                .map_err(err)?;
            n += 1;
        }
        let signs = n as f64 / start.elapsed().as_secs_f64();
        let verifying = VerifyingKey {
            kid,
            alg,
            public_jwk: key.public_jwk,
        };
        let (mut n, start) = (0u64, Instant::now());
        while start.elapsed() < seconds {
            let verified = signer.verify(&token, &verifying, "at+jwt").map_err(err)?;
            anyhow::ensure!(verified == claims, "{}: claims differ", alg.as_str());
            n += 1;
        }
        let verifies = n as f64 / start.elapsed().as_secs_f64();
        rates.push(TokenRate {
            alg: alg.as_str(),
            signs,
            verifies,
        });
    }
    Ok(rates)
}

#[allow(clippy::too_many_arguments)]
fn print(
    report: &mut Report,
    cores: usize,
    connections: usize,
    users: usize,
    floor: f64,
    storm: LoadResult,
    probes: [(&str, &str, LoadResult); 4],
    tokens: &[TokenRate],
) {
    let mut storm = storm;
    let rate = storm.rate();
    let ratio = if floor > 0.0 { rate / floor } else { 0.0 };
    let latency = Latency::of(&mut storm.latencies);
    report.table(
        "sign_in",
        &format!(
            "Password sign-in: {connections} clients over {users} users vs raw Argon2id on {cores} threads"
        ),
        &["target", "per second", "vs floor", "p50 ms", "p99 ms", "errors"],
        &[
            vec![
                "floor: raw Argon2id verify".to_owned(),
                format!("{floor:.1}"),
                "1.00".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "0".to_owned(),
            ],
            vec![
                "POST /t/{t}/api/v1/login".to_owned(),
                format!("{rate:.1}"),
                format!("{ratio:.2}"),
                ms(latency.p50),
                ms(latency.p99),
                storm.errors.to_string(),
            ],
        ],
        json!({
            "floor_verifies_per_second": round(floor),
            "sign_ins_per_second": round(rate),
            "ratio_to_floor": round(ratio),
            "sign_ins": storm.ok,
            "errors": storm.errors,
            "connections": connections,
            "users": users,
            "latency": latency.json(),
        }),
    );

    let mut rows = Vec::new();
    let mut data = Vec::new();
    for (operation, when, mut result) in probes {
        let latency = Latency::of(&mut result.latencies);
        rows.push(vec![
            operation.to_owned(),
            when.to_owned(),
            format!("{:.0}", result.rate()),
            ms(latency.p50),
            ms(latency.p99),
            ms(latency.max),
            result.errors.to_string(),
        ]);
        let mut entry = json!({"operation": operation, "when": when, "errors": result.errors,
            "requests_per_second": result.rate().round()});
        if let (Value::Object(e), Value::Object(l)) = (&mut entry, latency.json()) {
            e.extend(l);
        }
        data.push(entry);
    }
    report.table(
        "probes",
        "Reads from one client each, alone (floor) and during the sign-in storm",
        &[
            "operation",
            "when",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
        ],
        &rows,
        Value::Array(data),
    );

    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            vec![
                t.alg.to_owned(),
                format!("{:.0}", t.signs),
                format!("{:.0}", t.verifies),
            ]
        })
        .collect();
    let data = tokens
        .iter()
        .map(|t| json!({"alg": t.alg, "signs_per_second": t.signs.round(), "verifies_per_second": t.verifies.round()}))
        .collect();
    report.table(
        "tokens",
        "Access tokens (at+jwt) on one thread: JwtSigner, in-process",
        &["alg", "signs/s", "verifies/s"],
        &rows,
        Value::Array(data),
    );
}
