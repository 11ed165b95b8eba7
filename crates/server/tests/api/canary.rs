//! The canary: the real binary, logging at debug level, goes through every authentication
//! flow with unique canary passwords; no password, code, ticket, token or session secret may
//! appear in any log line, and every line stays valid JSON even when identifiers carry CR/LF
//! and ANSI escapes.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn tessera(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.current_dir(dir)
        .env_remove("TESSERA_TEST_DATABASE_URL")
        .env("TESSERA_AUTH__ARGON2_MEMORY_KIB", "4096");
    cmd
}

#[test]
fn no_secret_of_any_flow_reaches_the_logs_and_every_line_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let boot = tessera(dir.path())
        .args(["bootstrap", "--json"])
        .env("TESSERA_LOG__LEVEL", "error")
        .output()
        .unwrap();
    assert!(boot.status.success());
    let key = serde_json::from_slice::<Value>(&boot.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut child = tessera(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TESSERA_LOG__LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Debug logging is plentiful: drain stderr while the test runs, or the server blocks on
    // a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let drain = std::thread::spawn(move || {
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut all).unwrap();
        all
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.split_whitespace().nth(4).unwrap().to_owned();
    let outbox = dir.path().join("tessera-data/outbox/outbox.jsonl");
    let last_code = |to: &str| -> String {
        std::fs::read_to_string(&outbox)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .rfind(|m| m["to"] == to && m["code"].is_string())
            .unwrap()["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let canary_pw = "CANARYpw-3f9a1c77e2d4-first";
    let canary_pw2 = "CANARYpw-8b2e60aa51c9-second";
    let canary_pw3 = "CANARYpw-c1d2e3f4a5b6-third";
    let canary_wrong = "CANARYpw-0d0d0d0d0d0d-wrong";
    let email = "canary@example.com";
    let mut secrets: Vec<String> = vec![
        canary_pw.into(),
        canary_pw2.into(),
        canary_pw3.into(),
        canary_wrong.into(),
    ];

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let c = reqwest::Client::new();
        let post = |path: String, body: Value, bearer: Option<String>| {
            let c = c.clone();
            let url = url.clone();
            async move {
                let mut req = c.post(format!("{url}{path}")).json(&body);
                if let Some(b) = bearer {
                    req = req.bearer_auth(b);
                }
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                let cookie = res
                    .headers()
                    .get("set-cookie")
                    .map(|v| v.to_str().unwrap().to_owned());
                let body: Value = res.json().await.unwrap_or(Value::Null);
                (status, body, cookie)
            }
        };
        let (s, _, _) = post(
            "/api/v1/tenants".into(),
            json!({"slug": "canary", "display_name": "Canary"}),
            Some(key.clone()),
        )
        .await;
        assert_eq!(s, 201);
        let t = "/t/canary/api/v1";
        assert_eq!(post(format!("{t}/register"), json!({"email": email, "password": canary_pw}), None).await.0, 202);
        let code = last_code(email);
        assert_eq!(post(format!("{t}/verify"), json!({"identifier": email, "code": code}), None).await.0, 204);
        secrets.push(code);
        assert_eq!(post(format!("{t}/login"), json!({"identifier": email, "password": canary_wrong}), None).await.0, 401);
        let (s, body, cookie) = post(format!("{t}/login"), json!({"identifier": email, "password": canary_pw}), None).await;
        assert_eq!(s, 200);
        let access = body["access_token"].as_str().unwrap().to_owned();
        secrets.push(access.clone());
        secrets.push(body["refresh_token"].as_str().unwrap().to_owned());
        let session = cookie.unwrap().split(';').next().unwrap().split('=').nth(1).unwrap().to_owned();
        secrets.push(session);
        let (s, body, _) = post(format!("{t}/token/refresh"), json!({"refresh_token": body["refresh_token"]}), None).await;
        assert_eq!(s, 200);
        secrets.push(body["refresh_token"].as_str().unwrap().to_owned());
        let access = body["access_token"].as_str().unwrap().to_owned();
        secrets.push(access.clone());
        assert_eq!(
            post(format!("{t}/me/password"), json!({"current_password": canary_pw, "new_password": canary_pw2}), Some(access.clone())).await.0,
            204
        );
        // Forged and hostile input.
        assert_eq!(post(format!("{t}/login"), json!({"identifier": "evil\r\n{\"level\":\"ERROR\"}\u{1b}[31m", "password": canary_wrong}), None).await.0, 401);
        assert_eq!(post(format!("{t}/register"), json!({"username": "x\r\ny\u{1b}[0m", "email": "x@example.com", "password": canary_pw3}), None).await.0, 422);
        // Recovery.
        assert_eq!(post(format!("{t}/recover"), json!({"identifier": email}), None).await.0, 202);
        let code = last_code(email);
        let (s, body, _) = post(format!("{t}/recover/verify"), json!({"identifier": email, "code": code}), None).await;
        assert_eq!(s, 200);
        secrets.push(code);
        let ticket = body["ticket"].as_str().unwrap().to_owned();
        secrets.push(ticket.split('.').nth(1).unwrap().to_owned());
        assert_eq!(post(format!("{t}/recover/reset"), json!({"ticket": ticket, "new_password": canary_pw3}), None).await.0, 204);
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let logs = String::from_utf8_lossy(&drain.join().unwrap()).into_owned();
    assert!(
        logs.lines().count() > 10,
        "too few log lines to mean anything: {logs}"
    );
    for line in logs.lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a secret reached the logs: {line}"
            );
        }
        assert!(
            !line.contains("CANARY"),
            "a canary password reached the logs: {line}"
        );
    }
}
