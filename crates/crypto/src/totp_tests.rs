use super::*;
use std::process::Command;

/// RFC 6238 Appendix B: the SHA-1 key is the 20 ASCII bytes "12345678901234567890".
const RFC_SECRET: &[u8] = b"12345678901234567890";

/// RFC 6238 Appendix B, SHA-1 rows: (Unix time, 8-digit TOTP).
const RFC_VECTORS: [(u64, &str); 6] = [
    (59, "94287082"),
    (1_111_111_109, "07081804"),
    (1_111_111_111, "14050471"),
    (1_234_567_890, "89005924"),
    (2_000_000_000, "69279037"),
    (20_000_000_000, "65353130"),
];

fn code_at(secret: &[u8], unix: u64) -> String {
    let totp = Rfc6238Totp;
    totp.code(secret, unix / totp.step_secs())
}

#[test]
fn rfc6238_appendix_b_sha1_vectors_truncated_to_six_digits() {
    for (unix, eight) in RFC_VECTORS {
        // The same dynamic truncation, reduced modulo 10^6 instead of 10^8.
        let truncated: u32 = eight.parse().unwrap();
        let expected = format!("{:06}", truncated % 1_000_000);
        assert_eq!(code_at(RFC_SECRET, unix), expected, "T = {unix}");
    }
}

#[test]
fn codes_have_six_digits_with_leading_zeros_and_change_per_step() {
    // 1111111109 gives 081804: the leading zero is kept.
    assert_eq!(code_at(RFC_SECRET, 1_111_111_109), "081804");
    let totp = Rfc6238Totp;
    assert_eq!(totp.step_secs(), 30);
    // Same step, same code; next step, another code.
    assert_eq!(code_at(RFC_SECRET, 60), code_at(RFC_SECRET, 89));
    assert_ne!(code_at(RFC_SECRET, 89), code_at(RFC_SECRET, 90));
    for step in 0..50 {
        let code = totp.code(RFC_SECRET, step);
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }
}

#[test]
fn provisioning_uri_has_every_parameter_and_is_percent_encoded() {
    let uri = Rfc6238Totp.provisioning_uri(RFC_SECRET, "Acme Corp", "alice@example.com");
    assert_eq!(
        uri,
        "otpauth://totp/Acme%20Corp:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30"
    );
    // It is a valid URL whose decoded parts are the inputs.
    let parsed = url::Url::parse(&uri).unwrap();
    assert_eq!(parsed.scheme(), "otpauth");
    assert_eq!(parsed.host_str(), Some("totp"));
    let query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert!(query.contains(&("issuer".into(), "Acme Corp".into())));
    assert!(query.contains(&("secret".into(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into())));
}

#[test]
fn provisioning_uri_escapes_reserved_characters_and_drops_colons() {
    let uri = Rfc6238Totp.provisioning_uri(b"0123456789abcdef", "A&B: ID/?#", "bob:x+y=z");
    let (label, query) = uri
        .strip_prefix("otpauth://totp/")
        .unwrap()
        .split_once('?')
        .unwrap();
    // One label separator only, nothing that would end the path or split the query.
    assert_eq!(label.matches(':').count(), 1, "{label}");
    for reserved in ['/', '?', '#', '&', '=', '+', ' '] {
        assert!(!label.contains(reserved), "{reserved} in {label}");
    }
    let parsed = url::Url::parse(&uri).unwrap();
    let issuer = parsed
        .query_pairs()
        .find(|(k, _)| k == "issuer")
        .map(|(_, v)| v.into_owned());
    assert_eq!(issuer.as_deref(), Some("A&B  ID/?#"));
    assert_eq!(query.matches("secret=").count(), 1);
    // totp-rs reads its own URI back with the same parameters.
    let back = totp_rs::Totp::from_url_unchecked(&uri).unwrap();
    assert_eq!(back.account_name(), "bob x+y=z");
    assert_eq!(back.issuer(), Some("A&B  ID/?#"));
    assert_eq!(back.digits(), 6);
    assert_eq!(back.step(), 30);
}

#[test]
fn provisioning_uri_without_issuer_or_account() {
    let uri = Rfc6238Totp.provisioning_uri(RFC_SECRET, "", "");
    assert_eq!(
        uri,
        "otpauth://totp/account?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &algorithm=SHA1&digits=6&period=30"
    );
}

/// The base32 secret of a provisioning URI, as an authenticator app reads it.
fn base32_of(secret: &[u8]) -> String {
    let uri = Rfc6238Totp.provisioning_uri(secret, "Tessera", "alice");
    let parsed = url::Url::parse(&uri).unwrap();
    parsed
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// An independent implementation: `oathtool` (oath-toolkit) fed the base32 secret of the
/// provisioning URI, at fixed times. CI installs it (`.ci/run`).
#[test]
fn codes_match_oathtool() {
    let available = Command::new("oathtool").arg("--version").output().is_ok();
    assert!(
        available,
        "the `oathtool` binary is missing: install Debian's `oathtool` package \
         (`apt-get install oathtool`; .ci/run does it)"
    );
    let secrets: [&[u8]; 3] = [
        RFC_SECRET,
        &[
            0xff, 0x00, 0x7f, 0x80, 0x01, 0xfe, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
            0x90, 0xa0,
        ],
        &[0x5a; 32],
    ];
    let times = [
        0u64,
        29,
        30,
        59,
        1_111_111_109,
        1_700_000_000,
        2_000_000_000,
        4_102_444_799,
    ];
    for secret in secrets {
        let base32 = base32_of(secret);
        for unix in times {
            let output = Command::new("oathtool")
                .args(["--totp", "--base32", "--digits=6", "--time-step-size=30s"])
                .arg(format!("--now=@{unix}"))
                .arg(&base32)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "oathtool failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let expected = String::from_utf8(output.stdout).unwrap();
            assert_eq!(code_at(secret, unix), expected.trim(), "{base32} at {unix}");
        }
    }
}
