//! Loading tests: explicit environments and temporary files only — the process environment
//! is never read or changed, so these run in parallel.

use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn toml_file(content: &str) -> NamedTempFile {
    let mut file = NamedTempFile::new().unwrap();
    file.write_all(content.as_bytes()).unwrap();
    file
}

fn secret_file(content: &str) -> NamedTempFile {
    toml_file(content)
}

fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    load_from(None, env(pairs))
}

fn err_env(pairs: &[(&str, &str)]) -> (ConfigError, String) {
    let err = load_env(pairs).unwrap_err();
    let msg = err.to_string();
    (err, msg)
}

fn err_file(content: &str) -> (ConfigError, String, PathBuf) {
    let file = toml_file(content);
    let err = load_from(Some(file.path()), env(&[])).unwrap_err();
    let msg = err.to_string();
    (err, msg, file.path().to_path_buf())
}

#[test]
fn defaults() {
    let s = load_env(&[]).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.server.listen, "127.0.0.1:8080");
    assert_eq!(s.server.public_url, None);
    assert_eq!(s.server.data_dir, PathBuf::from("./tessera-data"));
    assert_eq!(s.server.max_body_bytes, 1024 * 1024);
    assert!(!s.server.behind_tls);
    assert_eq!(s.server.shutdown_grace_secs, 10);
    assert_eq!(s.database.url, None);
    assert_eq!(s.database.admin_url, None);
    assert_eq!(s.database.app_role, "tessera_app");
    assert_eq!(s.database.max_connections, 16);
    assert_eq!(s.database.connect_timeout_secs, 5);
    assert_eq!(s.security.master_key, None);
    assert_eq!(s.log.format, LogFormat::Json);
    assert_eq!(s.log.level, "info");
    assert_eq!(s.public_url(), "http://127.0.0.1:8080");
    assert_eq!(s.sqlite_path(), Path::new("./tessera-data/tessera.db"));
}

#[test]
fn file_overrides_defaults() {
    let file = toml_file(
        r#"
        [server]
        listen = "0.0.0.0:9000"
        behind_tls = true
        data_dir = "/var/lib/tessera"

        [database]
        url = "postgres://tessera:pw@db/tessera"
        max_connections = 4

        [log]
        format = "pretty"
        "#,
    );
    let s = load_from(Some(file.path()), env(&[])).unwrap();
    assert_eq!(s.server.listen, "0.0.0.0:9000");
    assert!(s.server.behind_tls);
    assert_eq!(s.sqlite_path(), Path::new("/var/lib/tessera/tessera.db"));
    assert_eq!(
        s.database.url.as_ref().map(Secret::expose),
        Some("postgres://tessera:pw@db/tessera")
    );
    assert_eq!(s.database.max_connections, 4);
    assert_eq!(s.log.format, LogFormat::Pretty);
    // Untouched keys keep their defaults.
    assert_eq!(s.database.app_role, "tessera_app");
    assert_eq!(s.log.level, "info");
}

#[test]
fn env_overrides_file() {
    let file = toml_file("[server]\nlisten = \"0.0.0.0:9000\"\n[log]\nlevel = \"debug\"\n");
    let s = load_from(
        Some(file.path()),
        env(&[("TESSERA_SERVER__LISTEN", "127.0.0.1:7000")]),
    )
    .unwrap();
    assert_eq!(s.server.listen, "127.0.0.1:7000");
    assert_eq!(s.log.level, "debug");
}

#[test]
fn nested_env_keys_parse_into_numbers_bools_and_enums() {
    let s = load_env(&[
        ("TESSERA_DATABASE__URL", "postgresql://db/tessera"),
        ("TESSERA_DATABASE__MAX_CONNECTIONS", "32"),
        ("TESSERA_DATABASE__APP_ROLE", "1234"),
        ("TESSERA_SERVER__BEHIND_TLS", "true"),
        ("TESSERA_SERVER__MAX_BODY_BYTES", "2048"),
        ("TESSERA_SERVER__PUBLIC_URL", "https://id.example.com/auth/"),
        ("TESSERA_LOG__FORMAT", "pretty"),
        ("TESSERA_LOG__LEVEL", "tessera=debug,info"),
    ])
    .unwrap();
    assert_eq!(
        s.database.url.as_ref().map(Secret::expose),
        Some("postgresql://db/tessera")
    );
    assert_eq!(s.database.max_connections, 32);
    // A string field keeps a numeric-looking value as a string.
    assert_eq!(s.database.app_role, "1234");
    assert!(s.server.behind_tls);
    assert_eq!(s.server.max_body_bytes, 2048);
    // Trailing slash trimmed.
    assert_eq!(
        s.server.public_url.as_deref(),
        Some("https://id.example.com/auth")
    );
    assert_eq!(s.public_url(), "https://id.example.com/auth");
    assert_eq!(s.log.format, LogFormat::Pretty);
    assert_eq!(s.log.level, "tessera=debug,info");
}

#[test]
fn other_variables_are_ignored() {
    let s = load_env(&[
        ("PATH", "/usr/bin"),
        ("DATABASE__URL", "nonsense"),
        ("TESSERA_CONFIG", "/etc/tessera.toml"),
    ])
    .unwrap();
    assert_eq!(s, Settings::default());
}

#[test]
fn empty_optional_values_mean_unset() {
    let s = load_env(&[
        ("TESSERA_DATABASE__URL", ""),
        ("TESSERA_SECURITY__MASTER_KEY", ""),
        ("TESSERA_SERVER__PUBLIC_URL", " "),
    ])
    .unwrap();
    assert_eq!(s, Settings::default());
}

#[test]
fn explicit_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.toml");
    let err = load_from(Some(&path), env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::FileNotFound { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("not found") && msg.contains("tessera.toml"),
        "{msg}"
    );
}

#[test]
fn invalid_toml_is_an_error_naming_the_file() {
    let (err, msg, path) = err_file("[server\nlisten = ");
    assert!(matches!(err, ConfigError::InvalidFile { .. }), "{err:?}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

#[test]
fn unknown_key_in_file_is_rejected_naming_it() {
    let (err, msg, path) = err_file("[database]\nurll = \"postgres://db/x\"\n");
    match &err {
        ConfigError::UnknownKey {
            key,
            origin,
            expected,
        } => {
            assert_eq!(key, "database.urll");
            assert_eq!(origin, &Origin::File(path.clone()));
            assert!(expected.iter().any(|k| k == "url"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        msg.contains("unknown configuration key `database.urll`"),
        "{msg}"
    );
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("`url_file`"), "{msg}");

    let (_, msg, _) = err_file("[serverr]\nlisten = \"0.0.0.0:1\"\n");
    assert!(msg.contains("`serverr`"), "{msg}");
}

#[test]
fn unknown_env_key_is_rejected_naming_the_variable() {
    let (err, msg) = err_env(&[("TESSERA_DATABASE__URLL", "postgres://db/x")]);
    assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err:?}");
    assert!(
        msg.starts_with("unknown configuration key `database.urll` (from TESSERA_DATABASE__URLL)"),
        "{msg}"
    );

    let (_, msg) = err_env(&[("TESSERA_NOPE__X", "1")]);
    assert!(msg.contains("`nope` (from TESSERA_NOPE__X)"), "{msg}");
}

#[test]
fn single_underscore_env_key_gets_a_hint() {
    let (_, msg) = err_env(&[("TESSERA_SERVER_LISTEN", "0.0.0.0:1")]);
    assert!(
        msg.contains("`server_listen` (from TESSERA_SERVER_LISTEN)"),
        "{msg}"
    );
    assert!(
        msg.contains("did you mean TESSERA_SERVER__LISTEN?"),
        "{msg}"
    );
}

#[test]
fn malformed_env_name_is_rejected() {
    for name in [
        "TESSERA_",
        "TESSERA_DATABASE__",
        "TESSERA_DATABASE____URL",
        "TESSERA_DATA-BASE__URL",
    ] {
        let (err, msg) = err_env(&[(name, "x")]);
        assert!(
            matches!(err, ConfigError::InvalidEnvVar { .. }),
            "{name}: {err:?}"
        );
        assert!(msg.contains(name), "{msg}");
    }
    let (err, msg) = err_env(&[("TESSERA_DATABASE", "x"), ("TESSERA_DATABASE__URL", "y")]);
    assert!(matches!(err, ConfigError::InvalidEnvVar { .. }), "{err:?}");
    assert!(msg.contains("TESSERA_DATABASE"), "{msg}");
}

#[test]
fn wrong_type_is_rejected_naming_the_key() {
    let (err, msg) = err_env(&[("TESSERA_DATABASE__MAX_CONNECTIONS", "many")]);
    assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err:?}");
    assert!(
        msg.contains("`database.max_connections` (from TESSERA_DATABASE__MAX_CONNECTIONS)"),
        "{msg}"
    );
    assert!(msg.contains("many"), "{msg}");

    let (_, msg) = err_env(&[("TESSERA_SERVER__BEHIND_TLS", "perhaps")]);
    assert!(msg.contains("`server.behind_tls`"), "{msg}");

    let (_, msg, path) = err_file("[server]\nmax_body_bytes = \"big\"\n");
    assert!(msg.contains("`server.max_body_bytes`"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");

    let (_, msg) = err_env(&[("TESSERA_LOG__FORMAT", "xml")]);
    assert!(
        msg.contains("`log.format`") && msg.contains("pretty"),
        "{msg}"
    );
}

#[test]
fn secret_is_read_from_a_file() {
    let db = secret_file("postgres://app:s3cret@db/tessera\n");
    let key = secret_file("a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=\r\n");
    let s = load_env(&[
        ("TESSERA_DATABASE__URL_FILE", db.path().to_str().unwrap()),
        (
            "TESSERA_SECURITY__MASTER_KEY_FILE",
            key.path().to_str().unwrap(),
        ),
    ])
    .unwrap();
    assert_eq!(
        s.database.url.as_ref().map(Secret::expose),
        Some("postgres://app:s3cret@db/tessera")
    );
    assert_eq!(
        s.security.master_key.as_ref().map(Secret::expose),
        Some("a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=")
    );

    // Same from the TOML file.
    let file = toml_file(&format!(
        "[database]\nadmin_url_file = {:?}\n",
        db.path().to_str().unwrap()
    ));
    let s = load_from(Some(file.path()), env(&[])).unwrap();
    assert_eq!(
        s.database.admin_url.as_ref().map(Secret::expose),
        Some("postgres://app:s3cret@db/tessera")
    );
}

#[test]
fn value_and_file_together_is_an_error_naming_both() {
    let db = secret_file("postgres://db/x\n");
    let file = toml_file("[database]\nurl = \"postgres://db/y\"\n");
    let err = load_from(
        Some(file.path()),
        env(&[("TESSERA_DATABASE__URL_FILE", db.path().to_str().unwrap())]),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::SecretConflict { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("`database.url`") && msg.contains("`database.url_file`"),
        "{msg}"
    );
    assert!(msg.contains("TESSERA_DATABASE__URL_FILE"), "{msg}");
    assert!(!msg.contains("postgres://db"), "{msg}");
}

#[test]
fn unreadable_or_empty_secret_file_is_an_error_naming_key_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-secret");
    let (err, msg) = err_env(&[(
        "TESSERA_SECURITY__MASTER_KEY_FILE",
        missing.to_str().unwrap(),
    )]);
    assert!(matches!(err, ConfigError::SecretFile { .. }), "{err:?}");
    assert!(msg.contains("`security.master_key_file`"), "{msg}");
    assert!(msg.contains(&missing.display().to_string()), "{msg}");

    let empty = secret_file("\n");
    let (_, msg) = err_env(&[("TESSERA_DATABASE__URL_FILE", empty.path().to_str().unwrap())]);
    assert!(
        msg.contains("`database.url_file`") && msg.contains("empty"),
        "{msg}"
    );
}

#[test]
fn secrets_are_masked_in_effective_toml_and_debug() {
    let s = load_env(&[
        ("TESSERA_DATABASE__URL", "postgres://app:hunter2@db/tessera"),
        (
            "TESSERA_DATABASE__ADMIN_URL",
            "postgres://admin:swordfish@db/tessera",
        ),
        (
            "TESSERA_SECURITY__MASTER_KEY",
            "bWFzdGVya2V5bWFzdGVya2V5bWFzdGVya2V5MTIzNDU=",
        ),
    ])
    .unwrap();
    let shown = s.effective_toml();
    let debug = format!("{s:?}");
    for text in [&shown, &debug] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("swordfish"), "{text}");
        assert!(!text.contains("bWFzdGVya2V5"), "{text}");
        assert!(text.contains("********"), "{text}");
    }
    assert!(shown.contains("url = \"********\""), "{shown}");
    assert!(shown.contains("master_key = \"********\""), "{shown}");
    assert!(
        shown.contains("public_url = \"http://127.0.0.1:8080\""),
        "{shown}"
    );
    assert_eq!(format!("{:?}", Secret::new("x")), "********");
    assert_eq!(Secret::new("x").to_string(), "********");
}

#[test]
fn effective_toml_loads_back_to_the_same_settings() {
    let s = load_env(&[
        ("TESSERA_SERVER__LISTEN", "0.0.0.0:8443"),
        ("TESSERA_SERVER__BEHIND_TLS", "true"),
        ("TESSERA_LOG__FORMAT", "pretty"),
    ])
    .unwrap();
    let file = toml_file(&s.effective_toml());
    let mut back = load_from(Some(file.path()), env(&[])).unwrap();
    assert_eq!(
        back.server.public_url.as_deref(),
        Some("http://0.0.0.0:8443")
    );
    back.server.public_url = None;
    assert_eq!(back, s);
}

#[test]
fn invalid_listen_address_is_rejected() {
    for listen in ["localhost:8080", "127.0.0.1", "8080", ""] {
        let (err, msg) = err_env(&[("TESSERA_SERVER__LISTEN", listen)]);
        assert!(
            matches!(err, ConfigError::InvalidValue { .. }),
            "{listen}: {err:?}"
        );
        assert!(
            msg.contains("`server.listen` (from TESSERA_SERVER__LISTEN)"),
            "{msg}"
        );
    }
    load_env(&[("TESSERA_SERVER__LISTEN", "[::1]:0")]).unwrap();
}

#[test]
fn invalid_public_url_is_rejected() {
    for url in [
        "id.example.com",
        "ftp://id.example.com",
        "https://id.example.com/?a=b",
        "/auth",
    ] {
        let (_, msg) = err_env(&[("TESSERA_SERVER__PUBLIC_URL", url)]);
        assert!(msg.contains("`server.public_url`"), "{url}: {msg}");
    }
}

#[test]
fn unsupported_database_url_is_rejected_without_echoing_it() {
    let (err, msg) = err_env(&[("TESSERA_DATABASE__URL", "mysql://root:hunter2@db/x")]);
    assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err:?}");
    assert!(
        msg.contains("`database.url` (from TESSERA_DATABASE__URL)"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
    let (_, msg) = err_env(&[("TESSERA_DATABASE__ADMIN_URL", "redis://x")]);
    assert!(msg.contains("`database.admin_url`"), "{msg}");
    load_env(&[("TESSERA_DATABASE__URL", "sqlite:/tmp/other.db")]).unwrap();
}

#[test]
fn numeric_limits_are_validated() {
    let (_, msg) = err_env(&[("TESSERA_DATABASE__MAX_CONNECTIONS", "0")]);
    assert!(
        msg.contains("`database.max_connections`") && msg.contains("at least 1"),
        "{msg}"
    );
    let (_, msg) = err_env(&[("TESSERA_DATABASE__MAX_CONNECTIONS", "-1")]);
    assert!(msg.contains("`database.max_connections`"), "{msg}");
    let (_, msg) = err_env(&[("TESSERA_LOG__LEVEL", " ")]);
    assert!(msg.contains("`log.level`"), "{msg}");
}

#[test]
fn test_harness_variables_are_not_configuration() {
    let env = vec![
        (
            "TESSERA_TEST_DATABASE_URL".to_owned(),
            "postgres://x@y/z".to_owned(),
        ),
        ("TESSERA_TEST_REDIS_URL".to_owned(), "redis://y".to_owned()),
    ];
    assert!(load_from(None, env).is_ok());
}

#[test]
fn the_redis_url_is_a_masked_secret_and_checked() {
    let env = vec![(
        "TESSERA_CACHE__REDIS_URL".to_owned(),
        "redis://:pw@cache:6379/0".to_owned(),
    )];
    let s = load_from(None, env).unwrap();
    assert_eq!(
        s.cache.redis_url.as_ref().map(|u| u.expose()),
        Some("redis://:pw@cache:6379/0")
    );
    assert!(!s.effective_toml().contains(":pw@"));
    let bad = vec![(
        "TESSERA_CACHE__REDIS_URL".to_owned(),
        "http://cache".to_owned(),
    )];
    assert!(
        load_from(None, bad)
            .unwrap_err()
            .to_string()
            .contains("cache.redis_url")
    );
    let ns = vec![("TESSERA_CACHE__NAMESPACE".to_owned(), "a b".to_owned())];
    assert!(
        load_from(None, ns)
            .unwrap_err()
            .to_string()
            .contains("cache.namespace")
    );
}
