//! `tessera-bench mfa`: the cost of second factors, in one run.
//!
//! 1. TOTP checks per core: what the server does for one presented code (open the sealed
//!    secret, compute the codes of the current step ±1, compare), next to its floor: the
//!    three raw HMAC-SHA1 computations alone (aws-lc-rs).
//! 2. Passkey assertion verifications per core (`WebauthnVerifier::finish_authentication`,
//!    assertions made beforehand by a software authenticator), next to its floor: raw ECDSA
//!    P-256 verifications (aws-lc-rs), the one signature check an assertion needs.
//! 3. Over HTTP, with the real server in-process (SQLite, real Argon2id parameters): the
//!    latency of a password sign-in alone, and of the same sign-in followed by its TOTP step,
//!    alternating one of each, so that the figure the MFA step adds is measured in the same
//!    run against the same baseline.

use crate::report::{Latency, Report, ms, progress, round};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tessera_config::AuthSettings;
use tessera_crypto::{MasterKey, MasterKeySealer, Rfc6238Totp};
use tessera_domain::ports::{PasskeyUser, PasskeyVerifier, RelyingParty, SecretSealer, Totp};
use tessera_passkeys::WebauthnVerifier;
use tessera_softkey::{Device, Url};
use tessera_testkit::TestApp;

const PASSWORD: &str = "correct horse battery staple";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seconds of each in-process rate measurement.
    #[arg(long, default_value_t = 2)]
    seconds: u64,
    /// Passkey assertions prepared (and verified, cycling) for the rate.
    #[arg(long, default_value_t = 500)]
    assertions: usize,
    /// Sign-ins of each kind timed over HTTP (each TOTP user signs in once: a code's step
    /// is accepted only once).
    #[arg(long, default_value_t = 40)]
    sign_ins: usize,
}

/// Operations per second of `op` on this thread for `duration`.
fn rate(duration: Duration, mut op: impl FnMut(u64) -> bool) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        anyhow::ensure!(op(n), "an operation failed");
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn totp_rates(duration: Duration) -> anyhow::Result<(f64, f64)> {
    let sealer = MasterKeySealer::new(&MasterKey::from_bytes([7; 32]))?;
    let secret = [42u8; 20];
    let context = b"tenant/t/user/u/totp";
    let sealed = sealer.seal(&secret, context)?;
    let totp = Rfc6238Totp;
    let step = 58_000_000u64;
    let wanted = totp.code(&secret, step);
    let check = rate(duration, |_| {
        let Ok(open) = sealer.open(&sealed, context) else {
            return false;
        };
        let mut found = false;
        for s in [step - 1, step, step + 1] {
            found |= totp.code(&open, s) == wanted;
        }
        found
    })?;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &secret);
    let floor = rate(duration, |_| {
        let mut last = 0u8;
        for s in [step - 1, step, step + 1] {
            last ^= hmac::sign(&key, &s.to_be_bytes()).as_ref()[19];
        }
        std::hint::black_box(last);
        true
    })?;
    Ok((check, floor))
}

fn rp() -> RelyingParty {
    RelyingParty {
        id: "id.example.com".into(),
        origin: "https://id.example.com".into(),
        name: "Bench".into(),
    }
}

/// Prepared assertions: (state, response) pairs for one stored credential.
async fn prepared_assertions(n: usize) -> anyhow::Result<(String, Vec<(String, Value)>)> {
    let verifier = WebauthnVerifier::new();
    let origin = Url::parse("https://id.example.com")?;
    let mut device = Device::without_counter();
    let user = PasskeyUser {
        handle: uuid::Uuid::from_u128(1),
        name: "bench@example.com".into(),
        display_name: "Bench".into(),
    };
    let start = verifier.start_registration(&rp(), &user, &[])?;
    let created = device.create(&origin, &start.options).await;
    let credential = verifier
        .finish_registration(&rp(), &start.state, &created)?
        .credential;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = verifier.start_authentication(&rp(), std::slice::from_ref(&credential))?;
        let response = device.get(&origin, &start.options).await;
        out.push((start.state, response));
    }
    Ok((credential, out))
}

fn passkey_rates(
    duration: Duration,
    credential: &str,
    assertions: &[(String, Value)],
) -> anyhow::Result<(f64, f64)> {
    let verifier = WebauthnVerifier::new();
    let rp = rp();
    let verify = rate(duration, |i| {
        let (state, response) = &assertions[i as usize % assertions.len()];
        verifier
            .finish_authentication(&rp, state, response, credential)
            .is_ok_and(|v| v.user_verified)
    })?;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("P-256 key"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("P-256 key"))?;
    let message = [9u8; 69];
    let sig = pair
        .sign(&rng, &message)
        .map_err(|_| anyhow::anyhow!("P-256 sign"))?;
    let public = signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_ASN1,
        pair.public_key().as_ref().to_vec(),
    );
    let floor = rate(duration, |_| public.verify(&message, sig.as_ref()).is_ok())?;
    Ok((verify, floor))
}

// The benchmark is a client: it reads the wall clock as an authenticator app does.
#[allow(clippy::disallowed_methods)]
fn step_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 30)
}

fn base32_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => anyhow::bail!("not base32"),
        };
        buf = (buf << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Ok(out)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    header: Option<(&str, &str)>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut req = client.post(url).json(&body);
    if let Some((k, v)) = header {
        req = req.header(k, v);
    }
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    anyhow::ensure!(status.is_success(), "POST {url}: {status} {text}");
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

struct HttpFigures {
    password_only: Latency,
    with_totp: Latency,
    totp_step: Latency,
}

async fn http_latencies(sign_ins: usize) -> anyhow::Result<HttpFigures> {
    progress("server: starting (SQLite, real Argon2id parameters)");
    let dir = tempfile::tempdir()?;
    let mut settings = tessera_testkit::test_settings(&dir, None);
    let defaults = AuthSettings::default();
    settings.auth.argon2_memory_kib = defaults.argon2_memory_kib;
    settings.auth.argon2_iterations = defaults.argon2_iterations;
    settings.auth.argon2_parallelism = defaults.argon2_parallelism;
    let mut app = TestApp::start_with(settings, dir, None).await;
    let out =
        tessera_server::cli::bootstrap::bootstrap(&app.settings, "admin", Some("a@example.com"))
            .await?;
    app.operator_key = out.api_key;
    let tenant = app.tenant().await;
    let phc = {
        let hasher =
            tessera_crypto::Argon2Hasher::new(tessera_crypto::PasswordHashSettings::default())?;
        let password = tessera_domain::credential::Password::parse(PASSWORD)
            .map_err(|e| anyhow::anyhow!("password: {e}"))?;
        hasher
            .hash_blocking(&password)
            .map_err(|e| anyhow::anyhow!("hash: {e}"))?
    };
    let email = |kind: &str, n: usize| format!("{kind}{n}@example.com");
    let users: Vec<Value> = (0..sign_ins)
        .flat_map(|n| [email("plain", n), email("totp", n)])
        .map(|e| json!({"email": e, "email_verified": true, "password_hash": phc}))
        .collect();
    let imported = app
        .post(
            &format!("/api/v1/tenants/{tenant}/users/import"),
            json!({ "users": users }),
        )
        .await;
    anyhow::ensure!(imported.status.as_u16() == 200, "import: {}", imported.text);
    let client = reqwest::Client::new();
    let login = app.url(&format!("/t/{tenant}/api/v1/login"));
    let second = app.url(&format!("/t/{tenant}/api/v1/login/mfa"));
    progress(&format!("enrolling TOTP for {sign_ins} users"));
    let mut secrets = Vec::with_capacity(sign_ins);
    for n in 0..sign_ins {
        let signed = post(
            &client,
            &login,
            None,
            json!({"identifier": email("totp", n), "password": PASSWORD}),
        )
        .await?;
        let token = format!("Bearer {}", signed["access_token"].as_str().unwrap_or(""));
        let started = post(
            &client,
            &app.url(&format!("/t/{tenant}/api/v1/me/mfa/totp")),
            Some(("authorization", &token)),
            json!({}),
        )
        .await?;
        let secret = base32_decode(started["secret"].as_str().unwrap_or(""))?;
        let step = step_now();
        post(
            &client,
            &app.url(&format!("/t/{tenant}/api/v1/me/mfa/totp/confirm")),
            Some(("authorization", &token)),
            json!({"code": Rfc6238Totp.code(&secret, step)}),
        )
        .await?;
        secrets.push((secret, step));
    }
    progress(&format!(
        "timing {sign_ins} password sign-ins and {sign_ins} sign-ins with their TOTP step, alternating"
    ));
    let (mut plain, mut full, mut step_only) = (Vec::new(), Vec::new(), Vec::new());
    for (n, (secret, used)) in secrets.iter().enumerate() {
        let t0 = Instant::now();
        let a = post(
            &client,
            &login,
            None,
            json!({"identifier": email("plain", n), "password": PASSWORD}),
        )
        .await?;
        anyhow::ensure!(a["status"] == "signed_in", "plain sign-in: {a}");
        plain.push(t0.elapsed().as_nanos() as u64);

        let t1 = Instant::now();
        let b = post(
            &client,
            &login,
            None,
            json!({"identifier": email("totp", n), "password": PASSWORD}),
        )
        .await?;
        anyhow::ensure!(b["status"] == "mfa_required", "TOTP sign-in: {b}");
        let mfa = b["mfa_token"].as_str().unwrap_or("").to_owned();
        // A step after the one the enrolment used, within the ±1 tolerance.
        let step = step_now().max(used + 1);
        let t2 = Instant::now();
        let c = post(
            &client,
            &second,
            Some(("x-mfa-token", &mfa)),
            json!({"method": "totp", "code": Rfc6238Totp.code(secret, step)}),
        )
        .await?;
        anyhow::ensure!(c["status"] == "signed_in", "TOTP step: {c}");
        step_only.push(t2.elapsed().as_nanos() as u64);
        full.push(t1.elapsed().as_nanos() as u64);
    }
    app.stop().await;
    Ok(HttpFigures {
        password_only: Latency::of(&mut plain),
        with_totp: Latency::of(&mut full),
        totp_step: Latency::of(&mut step_only),
    })
}

pub async fn run(args: Args, report: &mut Report) -> anyhow::Result<()> {
    let duration = Duration::from_secs(args.seconds);
    progress(&format!(
        "TOTP checks and raw HMAC-SHA1, {}s each",
        args.seconds
    ));
    let (totp_check, totp_floor) =
        tokio::task::spawn_blocking(move || totp_rates(duration)).await??;
    progress(&format!(
        "preparing {} passkey assertions with a software authenticator",
        args.assertions
    ));
    let (credential, assertions) = prepared_assertions(args.assertions.max(1)).await?;
    progress(&format!(
        "passkey verifications and raw ECDSA P-256, {}s each",
        args.seconds
    ));
    let (passkey_verify, passkey_floor) =
        tokio::task::spawn_blocking(move || passkey_rates(duration, &credential, &assertions))
            .await??;
    let http = http_latencies(args.sign_ins.max(1)).await?;

    let per_core = |x: f64| format!("{:.0}", x);
    report.table(
        "rates",
        "Verification rates, one thread (per core)",
        &[
            "operation",
            "per second",
            "floor",
            "floor per second",
            "ratio",
        ],
        &[
            vec![
                "TOTP check (unseal + 3 codes)".into(),
                per_core(totp_check),
                "3 x HMAC-SHA1".into(),
                per_core(totp_floor),
                format!("{:.2}", totp_check / totp_floor),
            ],
            vec![
                "passkey assertion (webauthn-rs)".into(),
                per_core(passkey_verify),
                "ECDSA P-256 verify".into(),
                per_core(passkey_floor),
                format!("{:.2}", passkey_verify / passkey_floor),
            ],
        ],
        json!({
            "totp_checks_per_sec": round(totp_check),
            "totp_floor_hmac3_per_sec": round(totp_floor),
            "passkey_verifications_per_sec": round(passkey_verify),
            "passkey_floor_p256_verify_per_sec": round(passkey_floor),
        }),
    );
    let row = |name: &str, l: &Latency| vec![name.to_owned(), ms(l.p50), ms(l.p99), ms(l.mean)];
    report.table(
        "sign_in",
        "Sign-in latency over HTTP, real Argon2id, one client, alternating (ms)",
        &["sign-in", "p50", "p99", "mean"],
        &[
            row("password only", &http.password_only),
            row("password + TOTP step", &http.with_totp),
            row("the TOTP step alone", &http.totp_step),
        ],
        json!({
            "password_only": http.password_only.json(),
            "password_and_totp": http.with_totp.json(),
            "totp_step": http.totp_step.json(),
            "added_p50_ms": round(http.with_totp.p50 - http.password_only.p50),
        }),
    );
    Ok(())
}
