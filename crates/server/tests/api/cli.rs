use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn tessera(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.current_dir(dir)
        .env_remove("TESSERA_TEST_DATABASE_URL")
        .env("TESSERA_LOG__LEVEL", "error");
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn every_command_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = tessera(dir.path()).arg("--help").output().unwrap();
    let help = text(&out);
    for cmd in [
        "serve",
        "migrate",
        "bootstrap",
        "check-config",
        "audit",
        "keys",
        "import",
    ] {
        assert!(help.contains(cmd), "{cmd} missing from --help:\n{help}");
    }
    for (args, expect) in [
        (vec!["serve", "--help"], "--listen"),
        (vec!["bootstrap", "--help"], "--json"),
        (vec!["migrate", "--help"], "migrations"),
        (vec!["check-config", "--help"], "secrets masked"),
        (vec!["audit", "verify", "--help"], "--tenant"),
        (vec!["keys", "rotate", "--help"], "--tenant"),
        (vec!["import", "users", "--help"], "password_hash"),
    ] {
        let out = tessera(dir.path()).args(&args).output().unwrap();
        assert!(
            out.status.success() && text(&out).contains(expect),
            "{args:?}: {}",
            text(&out)
        );
    }
}

#[test]
fn check_config_prints_defaults_masks_secrets_and_names_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = tessera(dir.path()).arg("check-config").output().unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("listen = \"127.0.0.1:8080\"") && t.contains("data_dir = \"./tessera-data\""),
        "{t}"
    );

    let out = tessera(dir.path())
        .arg("check-config")
        .env(
            "TESSERA_DATABASE__URL",
            "postgres://app:hunter2@db.internal/tessera",
        )
        .output()
        .unwrap();
    let t = text(&out);
    assert!(
        out.status.success() && t.contains("********") && !t.contains("hunter2"),
        "{t}"
    );

    let secret_file = dir.path().join("master");
    std::fs::write(
        &secret_file,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    )
    .unwrap();
    let out = tessera(dir.path())
        .arg("check-config")
        .env("TESSERA_SECURITY__MASTER_KEY_FILE", &secret_file)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(
        out.status.success() && t.contains("master_key = \"********\"") && !t.contains("AAAA"),
        "{t}"
    );

    let out = tessera(dir.path())
        .arg("check-config")
        .env("TESSERA_DATABASE__URLL", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("database.urll"), "{}", text(&out));

    let file = dir.path().join("tessera.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:9999\"\nlsiten = \"x\"\n",
    )
    .unwrap();
    let out = tessera(dir.path())
        .args(["--config", file.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("server.lsiten"), "{}", text(&out));
}

#[test]
fn bootstrap_prints_json_once_and_refuses_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = tessera(dir.path())
        .args(["bootstrap", "--json", "--admin-email", "root@example.com"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["tenant"], "system");
    assert!(doc["api_key"].as_str().unwrap().starts_with("tsk_"));
    assert!(
        doc["setup_link"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:8080/t/system/setup?token=")
    );
    let expires = time::OffsetDateTime::parse(
        doc["api_key_expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let hours = (expires - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!(
        (23 * 60..=24 * 60).contains(&hours),
        "expires in {hours} min"
    );
    assert!(dir.path().join("tessera-data/tessera.db").exists());

    let again = tessera(dir.path())
        .args(["bootstrap", "--json"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        text(&again).contains("already bootstrapped"),
        "{}",
        text(&again)
    );
    assert!(again.stdout.is_empty(), "no second key is printed");
}

#[test]
fn a_database_that_is_down_at_start_gives_a_clear_error_and_a_failure_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = tessera(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "TESSERA_DATABASE__URL",
            "postgres://tessera:pw@127.0.0.1:1/tessera",
        )
        .env("TESSERA_DATABASE__CONNECT_TIMEOUT_SECS", "2")
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("cannot reach the database") && t.contains("127.0.0.1:1"),
        "{t}"
    );
    assert!(!t.contains(":pw@"), "the password must not be printed: {t}");
}

#[test]
fn serve_with_no_configuration_creates_the_embedded_database_prints_the_url_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Port 0 instead of 8080 so the test cannot collide; the default itself is checked above.
    let mut child = tessera(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(
        first.starts_with("Tessera is listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(
        first.contains("SQLite at ./tessera-data/tessera.db"),
        "{first}"
    );
    let url = first.split_whitespace().nth(4).unwrap().to_owned();
    let health = reqwest::blocking_get(&format!("{url}/readyz"));
    assert!(dir.path().join("tessera-data/tessera.db").exists());
    assert!(dir.path().join("tessera-data/master.key").exists());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful stop: {status}");
    assert_eq!(health, 200);
}

mod reqwest {
    /// A minimal blocking GET (the test is synchronous), returning the status code.
    pub fn blocking_get(url: &str) -> u16 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
    }
}

#[test]
fn logs_are_json_lines_carrying_the_request_id_and_never_the_presented_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tessera(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TESSERA_LOG__LEVEL", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.split_whitespace().nth(4).unwrap().to_owned();
    let secret = "tsk_0123456789abcdef0123456789abcdef_TOPSECRETTOPSECRETTOPSECRETTOPSECRETTOPSECR";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = ::reqwest::Client::new();
        let res = client
            .get(format!("{url}/api/v1/tenants"))
            .bearer_auth(secret)
            .header("x-request-id", "log-me-7")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401);
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    let served: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
        })
        .filter(|l| l["message"] == "request served")
        .collect();
    assert!(
        served
            .iter()
            .any(|l| l["span"]["request_id"] == "log-me-7" && l["status"] == 401),
        "{logs}"
    );
    assert!(
        !logs.contains("TOPSECRET"),
        "a presented key reached the logs: {logs}"
    );
}

#[test]
fn import_users_from_json_lines_and_csv_reports_what_was_skipped_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let boot = tessera(dir.path())
        .args(["bootstrap", "--json"])
        .output()
        .unwrap();
    assert!(boot.status.success(), "{}", text(&boot));
    let hash = bcrypt::hash("imported passphrase", 4).unwrap();
    let jsonl = dir.path().join("users.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{}\n{}\n{}\n\nnot json\n",
            serde_json::json!({"email": "a@example.com", "password_hash": hash}),
            serde_json::json!({"username": "bee", "email": "b@example.com", "given_name": "Bee"}),
            serde_json::json!({"email": "a@example.com"}),
        ),
    )
    .unwrap();
    let out = tessera(dir.path())
        .args([
            "import",
            "users",
            jsonl.to_str().unwrap(),
            "--tenant",
            "system",
        ])
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("imported 2 users (1 with a password hash)"),
        "{t}"
    );
    assert!(t.contains("skipped 2"), "{t}");
    assert!(
        t.contains("line 3: email:a@example.com appears earlier"),
        "{t}"
    );
    assert!(t.contains("line 5: not a user record"), "{t}");

    let csv = dir.path().join("users.csv");
    std::fs::write(
        &csv,
        format!("email,email_verified,password_hash\nc@example.com,true,{hash}\nb@example.com,true,\nbad-email,,\n"),
    )
    .unwrap();
    let out = tessera(dir.path())
        .args([
            "import",
            "users",
            csv.to_str().unwrap(),
            "--tenant",
            "system",
        ])
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("imported 1 users (1 with a password hash)"),
        "{t}"
    );
    assert!(
        t.contains("line 3: email:b@example.com already belongs to a user"),
        "{t}"
    );
    assert!(t.contains("line 4: email:"), "{t}");

    let unknown = tessera(dir.path())
        .args([
            "import",
            "users",
            dir.path().join("users.txt").to_str().unwrap(),
            "--tenant",
            "system",
        ])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(text(&unknown).contains("--format"), "{}", text(&unknown));
}

#[test]
fn keys_rotate_makes_a_new_current_key_and_keeps_the_old_one_listed() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        tessera(dir.path())
            .args(["bootstrap", "--json"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let first = tessera(dir.path())
        .args(["keys", "rotate", "--tenant", "system"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", text(&first));
    let second = tessera(dir.path())
        .args(["keys", "rotate", "--tenant", "system"])
        .output()
        .unwrap();
    let kid = String::from_utf8_lossy(&second.stdout).trim().to_owned();
    assert_eq!(kid.len(), 32, "{}", text(&second));
    let list = tessera(dir.path())
        .args(["keys", "list", "--tenant", "system"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&kid) && l.contains("current")),
        "{listed}"
    );
    assert!(
        listed.contains("retired") && listed.contains("published until"),
        "{listed}"
    );
    let nope = tessera(dir.path())
        .args(["keys", "rotate", "--tenant", "no-such-tenant"])
        .output()
        .unwrap();
    assert!(!nope.status.success());
    assert!(text(&nope).contains("not found"), "{}", text(&nope));
}
