use super::*;
use jsonwebtoken::{EncodingKey, Header};

const ALL: [SigningAlgorithm; 3] = [
    SigningAlgorithm::ES256,
    SigningAlgorithm::EdDSA,
    SigningAlgorithm::RS256,
];

struct Fixture {
    signer: JwtSigner,
    alg: SigningAlgorithm,
    generated: GeneratedKey,
    key: VerifyingKey,
}

impl Fixture {
    fn new(alg: SigningAlgorithm) -> Self {
        Self::with_kid(alg, "k1")
    }

    fn with_kid(alg: SigningAlgorithm, kid: &str) -> Self {
        let signer = JwtSigner::new();
        let generated = signer.generate(alg).unwrap();
        let key = VerifyingKey {
            kid: kid.to_owned(),
            alg,
            public_jwk: generated.public_jwk.clone(),
        };
        Self {
            signer,
            alg,
            generated,
            key,
        }
    }

    fn sign(&self, typ: &str, claims: &Value) -> String {
        self.signer
            .sign(
                self.alg,
                &self.generated.private_pkcs8,
                &self.key.kid,
                typ,
                claims,
            )
            .unwrap()
    }

    fn verify(&self, token: &str, typ: &str) -> Result<Value, TokenError> {
        self.signer.verify(token, &self.key, typ)
    }
}

fn claims() -> Value {
    json!({ "sub": "user-1", "scope": "openid", "exp": 1, "iat": 0 })
}

fn part(value: &Value) -> String {
    b64(&serde_json::to_vec(value).unwrap())
}

/// A token from raw header and claims, with `signature` as its third part.
fn forge(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", part(header), part(claims))
}

fn public_key_bytes(jwk: &Value) -> Vec<Vec<u8>> {
    ["x", "y", "n"]
        .iter()
        .filter_map(|f| jwk.get(f).and_then(Value::as_str))
        .map(|s| URL_SAFE_NO_PAD.decode(s).unwrap())
        .collect()
}

// ---- attacks first ----

#[test]
fn alg_none_is_refused() {
    for alg in ALL {
        let f = Fixture::new(alg);
        for none in ["none", "None", "NONE", ""] {
            let header = json!({ "alg": none, "typ": "JWT", "kid": "k1" });
            for signature in ["", "AAAA"] {
                let token = forge(&header, &claims(), signature);
                assert_eq!(
                    f.verify(&token, "JWT"),
                    Err(TokenError::WrongAlgorithm),
                    "{alg:?} {none:?}"
                );
            }
        }
        // No `alg` at all.
        let token = forge(&json!({ "typ": "JWT", "kid": "k1" }), &claims(), "");
        assert_eq!(f.verify(&token, "JWT"), Err(TokenError::WrongAlgorithm));
    }
}

#[test]
fn hs256_keyed_with_the_public_key_is_refused() {
    for alg in ALL {
        let f = Fixture::new(alg);
        let mut secrets = public_key_bytes(&f.key.public_jwk);
        secrets.push(serde_json::to_vec(&f.key.public_jwk).unwrap());
        for secret in secrets {
            for hmac in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let mut header = Header::new(hmac);
                header.typ = Some("JWT".to_owned());
                header.kid = Some("k1".to_owned());
                let token =
                    jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret))
                        .unwrap();
                assert_eq!(
                    f.verify(&token, "JWT"),
                    Err(TokenError::WrongAlgorithm),
                    "{alg:?} {hmac:?}"
                );
            }
            // The same HMAC under a header claiming the key's own algorithm.
            let header = json!({ "alg": alg.as_str(), "typ": "JWT", "kid": "k1" });
            let message = format!("{}.{}", part(&header), part(&claims()));
            let mac = aws_lc_rs::hmac::sign(
                &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
                message.as_bytes(),
            );
            let token = format!("{message}.{}", b64(mac.as_ref()));
            assert_eq!(f.verify(&token, "JWT"), Err(TokenError::BadSignature));
        }
    }
}

#[test]
fn another_algorithm_of_ours_is_refused() {
    for alg in ALL {
        let f = Fixture::new(alg);
        for other in ALL.into_iter().filter(|o| *o != alg) {
            let g = Fixture::new(other);
            let token = g.sign("JWT", &claims());
            assert_eq!(f.verify(&token, "JWT"), Err(TokenError::WrongAlgorithm));
        }
    }
}

#[test]
fn tampered_payload_is_refused() {
    for alg in ALL {
        let f = Fixture::new(alg);
        let token = f.sign("JWT", &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["sub"] = json!("admin");
        let tampered = format!("{}.{}.{}", parts[0], part(&forged), parts[2]);
        assert_eq!(f.verify(&tampered, "JWT"), Err(TokenError::BadSignature));
        // Payload of another valid token, same key.
        let other = f.sign("JWT", &forged);
        let other_payload = other.split('.').nth(1).unwrap();
        let spliced = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
        assert_eq!(f.verify(&spliced, "JWT"), Err(TokenError::BadSignature));
        // A changed header (another typ) breaks the signature too.
        let header = json!({ "alg": alg.as_str(), "typ": "at+jwt", "kid": "k1" });
        let rehead = format!("{}.{}.{}", part(&header), parts[1], parts[2]);
        assert_eq!(f.verify(&rehead, "at+jwt"), Err(TokenError::BadSignature));
    }
}

#[test]
fn tampered_signature_is_refused() {
    for alg in ALL {
        let f = Fixture::new(alg);
        let token = f.sign("JWT", &claims());
        assert_eq!(
            f.verify(&tamper_signature(&token), "JWT"),
            Err(TokenError::BadSignature)
        );
        let (message, _) = token.rsplit_once('.').unwrap();
        assert_eq!(
            f.verify(&format!("{message}."), "JWT"),
            Err(TokenError::BadSignature)
        );
        let signature = URL_SAFE_NO_PAD
            .decode(token.rsplit('.').next().unwrap())
            .unwrap();
        let truncated = b64(&signature[..signature.len() - 1]);
        assert_eq!(
            f.verify(&format!("{message}.{truncated}"), "JWT"),
            Err(TokenError::BadSignature)
        );
        let mut flipped = signature.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            f.verify(&format!("{message}.{}", b64(&flipped)), "JWT"),
            Err(TokenError::BadSignature)
        );
        // Not base64url at all.
        assert_eq!(
            f.verify(&format!("{message}.!!!"), "JWT"),
            Err(TokenError::Malformed)
        );
    }
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    for alg in ALL {
        let f = Fixture::new(alg);
        let token = f.sign("JWT", &claims());
        let other_key = VerifyingKey {
            kid: "k2".to_owned(),
            ..f.key.clone()
        };
        assert_eq!(
            f.signer.verify(&token, &other_key, "JWT"),
            Err(TokenError::UnknownKey)
        );

        // What a caller does: peek the kid, look it up, refuse when absent.
        let keyset = [other_key];
        let kid = f.signer.peek_kid(&token).unwrap();
        assert_eq!(kid, "k1");
        let found = keyset.iter().find(|k| k.kid == kid);
        assert!(found.is_none());

        for header in [
            json!({ "alg": alg.as_str(), "typ": "JWT" }),
            json!({ "alg": alg.as_str(), "typ": "JWT", "kid": "" }),
        ] {
            let token = forge(&header, &claims(), "AAAA");
            assert_eq!(f.signer.peek_kid(&token), Err(TokenError::UnknownKey));
            assert_eq!(f.verify(&token, "JWT"), Err(TokenError::UnknownKey));
        }
    }
}

#[test]
fn typ_mismatch_is_refused() {
    for alg in ALL {
        let f = Fixture::new(alg);
        let token = f.sign("JWT", &claims());
        for expected in ["at+jwt", "application/at+jwt", "logout+jwt", "", "JWS"] {
            assert_eq!(
                f.verify(&token, expected),
                Err(TokenError::WrongType),
                "{expected}"
            );
        }
        let access = f.sign("at+jwt", &claims());
        assert_eq!(f.verify(&access, "JWT"), Err(TokenError::WrongType));
        assert!(f.verify(&access, "AT+JWT").is_ok());
        assert!(f.verify(&access, "application/at+jwt").is_ok());
        let prefixed = f.sign("application/at+jwt", &claims());
        assert!(f.verify(&prefixed, "at+jwt").is_ok());

        // No typ, or not a string.
        for header in [
            json!({ "alg": alg.as_str(), "kid": "k1" }),
            json!({ "alg": alg.as_str(), "kid": "k1", "typ": null }),
        ] {
            let token = forge(&header, &claims(), "AAAA");
            let res = f.verify(&token, "JWT");
            assert!(
                matches!(res, Err(TokenError::WrongType | TokenError::Malformed)),
                "{res:?}"
            );
        }
    }
}

#[test]
fn another_key_under_the_same_kid_is_refused() {
    for alg in ALL {
        let ours = Fixture::new(alg);
        let theirs = Fixture::new(alg);
        assert_ne!(ours.key.public_jwk, theirs.key.public_jwk);
        // Warm the verifying cache with our key under `k1`.
        let genuine = ours.sign("JWT", &claims());
        assert!(ours.verify(&genuine, "JWT").is_ok());

        let forged = theirs.sign("JWT", &claims());
        assert_eq!(ours.verify(&forged, "JWT"), Err(TokenError::BadSignature));

        // Signing through our signer with their private key under our kid: the cached
        // signing key (ours) is not reused for different key material.
        let forged = ours
            .signer
            .sign(alg, &theirs.generated.private_pkcs8, "k1", "JWT", &claims())
            .unwrap();
        assert_eq!(ours.verify(&forged, "JWT"), Err(TokenError::BadSignature));
        assert!(ours.signer.verify(&forged, &theirs.key, "JWT").is_ok());
        // ... and our own key still works after the cache entries were replaced.
        assert!(ours.verify(&ours.sign("JWT", &claims()), "JWT").is_ok());
        assert!(ours.verify(&genuine, "JWT").is_ok());
    }
}

#[test]
fn malformed_tokens_are_refused() {
    let f = Fixture::new(SigningAlgorithm::ES256);
    let token = f.sign("JWT", &claims());
    let header_part = token.split('.').next().unwrap();
    let crit = json!({ "alg": "ES256", "typ": "JWT", "kid": "k1", "crit": ["exp"] });
    let not_b64 = format!("{}.{}.AAAA", "***", part(&claims()));
    let array_header = format!("{}.{}.AAAA", b64(b"[1,2]"), part(&claims()));
    let not_json = format!("{}.{}.AAAA", b64(b"{not json"), part(&claims()));
    let numeric_kid = forge(
        &json!({ "alg": "ES256", "typ": "JWT", "kid": 1 }),
        &claims(),
        "AAAA",
    );
    for bad in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        &format!("{token}.extra"),
        &forge(&crit, &claims(), "AAAA"),
        &not_b64,
        &array_header,
        &not_json,
        &numeric_kid,
    ] {
        assert_eq!(f.verify(bad, "JWT"), Err(TokenError::Malformed), "{bad}");
    }
    // Empty payload and signature: refused by the signature check, before the payload.
    assert_eq!(
        f.verify(&format!("{header_part}.."), "JWT"),
        Err(TokenError::BadSignature)
    );
    for bad in ["", "abc", "a.b", &not_json, &numeric_kid] {
        assert_eq!(f.signer.peek_kid(bad), Err(TokenError::Malformed), "{bad}");
    }
    // A correctly signed token whose payload is not JSON.
    let message = format!("{header_part}.{}", b64(b"not json"));
    let signature = match &f
        .signer
        .signing_entry(f.alg, "k1", &f.generated.private_pkcs8)
        .unwrap()
        .pair
    {
        PreparedPair::Es256(pair) => pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec(),
        _ => unreachable!(),
    };
    assert_eq!(
        f.verify(&format!("{message}.{}", b64(&signature)), "JWT"),
        Err(TokenError::Malformed)
    );
}

#[test]
fn a_jwk_that_does_not_fit_the_algorithm_is_an_error() {
    let es = Fixture::new(SigningAlgorithm::ES256);
    let ed = Fixture::new(SigningAlgorithm::EdDSA);
    let token = es.sign("JWT", &claims());
    let mut bad_jwks = vec![ed.key.public_jwk.clone(), json!({}), json!("not an object")];
    let mut wrong_curve = es.key.public_jwk.clone();
    wrong_curve["crv"] = json!("P-384");
    bad_jwks.push(wrong_curve);
    let mut short_x = es.key.public_jwk.clone();
    short_x["x"] = json!(b64(&[1; 31]));
    bad_jwks.push(short_x);
    for jwk in bad_jwks {
        let key = VerifyingKey {
            public_jwk: jwk.clone(),
            ..es.key.clone()
        };
        assert!(
            matches!(
                es.signer.verify(&token, &key, "JWT"),
                Err(TokenError::Failed(_))
            ),
            "{jwk}"
        );
    }
}

#[test]
fn a_private_key_of_another_algorithm_does_not_sign() {
    let es = Fixture::new(SigningAlgorithm::ES256);
    for alg in [SigningAlgorithm::EdDSA, SigningAlgorithm::RS256] {
        let res = es
            .signer
            .sign(alg, &es.generated.private_pkcs8, "k9", "JWT", &claims());
        assert!(matches!(res, Err(TokenError::Failed(_))), "{alg:?}");
    }
    let res = es
        .signer
        .sign(SigningAlgorithm::ES256, b"garbage", "k9", "JWT", &claims());
    assert!(matches!(res, Err(TokenError::Failed(_))));
}

// ---- what works ----

#[test]
fn round_trip_for_every_algorithm() {
    for alg in ALL {
        let f = Fixture::new(alg);
        let token = f.sign("at+jwt", &claims());
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            header,
            json!({ "alg": alg.as_str(), "typ": "at+jwt", "kid": "k1" })
        );
        assert_eq!(f.signer.peek_kid(&token).unwrap(), "k1");
        // `exp` is long past: time is the caller's to check.
        assert_eq!(f.verify(&token, "at+jwt").unwrap(), claims());
        // A second signer (no cache) verifies it as well.
        assert_eq!(
            JwtSigner::new().verify(&token, &f.key, "at+jwt").unwrap(),
            claims()
        );
        // Claims need not be an object with registered claims at all.
        let bare = json!({ "anything": [1, 2, 3] });
        assert_eq!(f.verify(&f.sign("JWT", &bare), "JWT").unwrap(), bare);
    }
}

#[test]
fn tokens_signed_by_jsonwebtoken_itself_verify() {
    let cases = [
        (SigningAlgorithm::ES256, Algorithm::ES256),
        (SigningAlgorithm::EdDSA, Algorithm::EdDSA),
    ];
    for (alg, jwt_alg) in cases {
        let f = Fixture::new(alg);
        let key = match alg {
            SigningAlgorithm::ES256 => EncodingKey::from_ec_der(&f.generated.private_pkcs8),
            _ => EncodingKey::from_ed_der(&f.generated.private_pkcs8),
        };
        let mut header = Header::new(jwt_alg);
        header.kid = Some("k1".to_owned());
        let token = jsonwebtoken::encode(&header, &claims(), &key).unwrap();
        assert_eq!(f.verify(&token, "JWT").unwrap(), claims());
    }
}

#[test]
fn public_jwks_have_the_standard_shape() {
    let es = Fixture::new(SigningAlgorithm::ES256).generated.public_jwk;
    assert_eq!(es["kty"], "EC");
    assert_eq!(es["crv"], "P-256");
    assert_eq!(es.as_object().unwrap().len(), 4);
    for c in ["x", "y"] {
        let s = es[c].as_str().unwrap();
        assert!(!s.contains('='));
        assert_eq!(URL_SAFE_NO_PAD.decode(s).unwrap().len(), 32);
    }

    let ed = Fixture::new(SigningAlgorithm::EdDSA).generated.public_jwk;
    assert_eq!(ed["kty"], "OKP");
    assert_eq!(ed["crv"], "Ed25519");
    assert_eq!(ed.as_object().unwrap().len(), 3);
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(ed["x"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );

    let rsa = Fixture::new(SigningAlgorithm::RS256).generated.public_jwk;
    assert_eq!(rsa["kty"], "RSA");
    assert_eq!(rsa.as_object().unwrap().len(), 3);
    assert_eq!(rsa["e"], "AQAB");
    let n = URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256);
    assert!(n[0] & 0x80 != 0, "a 2048-bit modulus");
}

#[test]
fn generated_keys_differ_and_are_pkcs8() {
    let signer = JwtSigner::new();
    for alg in ALL {
        let a = signer.generate(alg).unwrap();
        let b = signer.generate(alg).unwrap();
        assert_ne!(a.private_pkcs8, b.private_pkcs8);
        assert_ne!(a.public_jwk, b.public_jwk);
        // PKCS#8: a DER SEQUENCE.
        assert_eq!(a.private_pkcs8[0], 0x30);
    }
}

#[test]
fn caches_are_bounded() {
    let f = Fixture::new(SigningAlgorithm::EdDSA);
    for i in 0..CACHE_CAPACITY + 10 {
        let kid = format!("k{i}");
        let token = f
            .signer
            .sign(f.alg, &f.generated.private_pkcs8, &kid, "JWT", &claims())
            .unwrap();
        let key = VerifyingKey {
            kid,
            ..f.key.clone()
        };
        f.signer.verify(&token, &key, "JWT").unwrap();
    }
    assert!(f.signer.signing.lock().unwrap().len() <= CACHE_CAPACITY);
    assert!(f.signer.verifying.lock().unwrap().len() <= CACHE_CAPACITY);
}

#[test]
fn self_test_passes() {
    JwtSigner::self_test().unwrap();
}

#[test]
fn media_type_drops_only_the_application_prefix() {
    assert_eq!(media_type("application/at+jwt"), "at+jwt");
    assert_eq!(media_type("APPLICATION/JWT"), "JWT");
    assert_eq!(media_type("at+jwt"), "at+jwt");
    assert_eq!(media_type("application/a/b"), "application/a/b");
    assert_eq!(media_type("applicatio"), "applicatio");
    assert_eq!(media_type("é"), "é");
}
