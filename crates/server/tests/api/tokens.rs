//! Access tokens (RFC 9068 JWTs), the JWKS, key rotation, and rotating refresh tokens: the
//! forged and replayed ones are refused.

use crate::native_auth::{login, registered, token};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tessera_testkit::TestApp;

const PW: &str = "correct horse battery staple";

fn parts(jwt: &str) -> (Value, Value, String) {
    let mut it = jwt.split('.');
    let h = B64.decode(it.next().unwrap()).unwrap();
    let p = B64.decode(it.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&h).unwrap(),
        serde_json::from_slice(&p).unwrap(),
        it.next().unwrap().to_owned(),
    )
}

fn enc(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).unwrap())
}

async fn me_status(app: &TestApp, t: &str, token: &str) -> u16 {
    app.send(Method::GET, &format!("/t/{t}/api/v1/me"), Some(token), None)
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn access_tokens_are_rfc9068_jwts_verifiable_with_the_jwks() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    registered(&app, &t, "jwt@example.com", PW).await;
    let a = login(&app, &t, "jwt@example.com", PW).await;
    let at = token(&a);
    let (header, claims, _) = parts(&at);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["iss"], app.url(&format!("/t/{t}")));
    assert_eq!(claims["sub"], a.json["user_id"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert_eq!(claims["amr"], json!(["pwd"]));
    let jwks = app
        .send(Method::GET, &format!("/t/{t}/oauth2/jwks"), None, None)
        .await;
    let keys = jwks.expect(200)["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], header["kid"]);
    assert_eq!(keys[0]["kty"], "EC");
    assert!(keys[0].get("d").is_none(), "never the private key");
    assert_eq!(me_status(&app, &t, &at).await, 200);
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let other = app.tenant().await;
    registered(&app, &t, "f@example.com", PW).await;
    registered(&app, &other, "f@example.com", PW).await;
    let at = token(&login(&app, &t, "f@example.com", PW).await);
    let (header, claims, sig) = parts(&at);

    // Tampered payload (another subject), same signature.
    let mut evil = claims.clone();
    evil["sub"] = json!("00000000-0000-0000-0000-000000000000");
    let tampered = format!("{}.{}.{sig}", enc(&header), enc(&evil));
    // alg: none.
    let none = format!(
        "{}.{}.",
        enc(&json!({"alg": "none", "typ": "at+jwt", "kid": header["kid"]})),
        enc(&claims)
    );
    // HS256 keyed with the public key (the classic confusion attack).
    let jwks = app
        .send(Method::GET, &format!("/t/{t}/oauth2/jwks"), None, None)
        .await;
    let public = serde_json::to_vec(&jwks.json["keys"][0]).unwrap();
    let hs_header = enc(&json!({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}));
    let signing_input = format!("{hs_header}.{}", enc(&claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(&public).unwrap();
    mac.update(signing_input.as_bytes());
    let hs256 = format!(
        "{signing_input}.{}",
        B64.encode(mac.finalize().into_bytes())
    );
    // Unknown kid.
    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = json!("no-such-key");
    let unknown = format!("{}.{}.{sig}", enc(&unknown_kid), enc(&claims));
    // Wrong typ (an ID-token-like JWT).
    let mut jwt_typ = header.clone();
    jwt_typ["typ"] = json!("JWT");
    let wrong_typ = format!("{}.{}.{sig}", enc(&jwt_typ), enc(&claims));
    // Claims edited to an earlier expiry: the signature no longer matches. (The expiry check
    // itself is unit-tested in the application: `claims_hold`.)
    let mut expired = claims.clone();
    expired["exp"] = json!(1);
    let expired = format!("{}.{}.{sig}", enc(&header), enc(&expired));

    for (name, forged) in [
        ("tampered", tampered),
        ("alg none", none),
        ("HS256 with the public key", hs256),
        ("unknown kid", unknown),
        ("wrong typ", wrong_typ),
        ("expiry edited", expired),
        ("garbage", "a.b.c".to_owned()),
    ] {
        let a = app
            .send(
                Method::GET,
                &format!("/t/{t}/api/v1/me"),
                Some(&forged),
                None,
            )
            .await;
        assert_eq!(a.status, 401, "{name}: {}", a.text);
        assert!(
            a.header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{name}"
        );
    }
    // A genuine token of another tenant is not valid here.
    let theirs = token(&login(&app, &other, "f@example.com", PW).await);
    assert_eq!(me_status(&app, &t, &theirs).await, 401);
    assert_eq!(me_status(&app, &t, &at).await, 200);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    registered(&app, &t, "r@example.com", PW).await;
    let a = login(&app, &t, "r@example.com", PW).await;
    let first = a.json["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |rt: String| {
        let app = &app;
        let t = t.clone();
        async move {
            app.send(
                Method::POST,
                &format!("/t/{t}/api/v1/token/refresh"),
                None,
                Some(json!({"refresh_token": rt})),
            )
            .await
        }
    };
    let r1 = refresh(first.clone()).await;
    let second = r1.expect(200)["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(me_status(&app, &t, &token(&r1)).await, 200);
    // Replaying the first one revokes the family: the second one dies with it.
    refresh(first).await.expect_problem(401, "invalid_grant");
    refresh(second).await.expect_problem(401, "invalid_grant");
    // Unknown and cross-tenant tokens.
    refresh("not-a-token".to_owned())
        .await
        .expect_problem(401, "invalid_grant");
    let other = app.tenant().await;
    registered(&app, &other, "r@example.com", PW).await;
    let theirs = login(&app, &other, "r@example.com", PW).await.json["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    refresh(theirs).await.expect_problem(401, "invalid_grant");
    let audit = app
        .get(&format!(
            "/api/v1/tenants/{t}/audit?action=auth.refresh_token_reused"
        ))
        .await;
    assert_eq!(audit.expect(200)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_succeed_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    registered(&app, &t, "c@example.com", PW).await;
    let rt = login(&app, &t, "c@example.com", PW).await.json["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/t/{t}/api/v1/token/refresh");
    let tries = (0..8).map(|_| {
        app.send(
            Method::POST,
            &path,
            None,
            Some(json!({"refresh_token": rt})),
        )
    });
    let answers = futures::future::join_all(tries).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn rotation_keeps_the_previous_key_published_and_its_tokens_valid() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    registered(&app, &t, "k@example.com", PW).await;
    let old = token(&login(&app, &t, "k@example.com", PW).await);
    let kid = app
        .post(
            &format!("/api/v1/tenants/{t}/signing-keys/rotate"),
            json!({}),
        )
        .await;
    let new_kid = kid.expect(200)["kid"].as_str().unwrap().to_owned();
    let jwks = app
        .send(Method::GET, &format!("/t/{t}/oauth2/jwks"), None, None)
        .await;
    assert_eq!(jwks.expect(200)["keys"].as_array().unwrap().len(), 2);
    assert_eq!(
        me_status(&app, &t, &old).await,
        200,
        "tokens of the previous key still verify"
    );
    let fresh = token(&login(&app, &t, "k@example.com", PW).await);
    assert_eq!(parts(&fresh).0["kid"], new_kid);
    let keys = app.get(&format!("/api/v1/tenants/{t}/signing-keys")).await;
    let keys = keys.expect(200).as_array().unwrap().clone();
    assert_eq!(keys.iter().filter(|k| k["current"] == true).count(), 1);
    assert!(
        keys.iter()
            .any(|k| k["current"] == false && k["publish_until"].is_string())
    );
}

#[tokio::test]
async fn tenants_may_sign_with_eddsa_or_rs256() {
    let app = TestApp::spawn().await;
    for alg in ["EdDSA", "RS256"] {
        let t = app.tenant().await;
        app.patch(
            &format!("/api/v1/tenants/{t}"),
            json!({"settings": {"auth": {"tokens": {"signing_alg": alg}}}}),
        )
        .await
        .expect(200);
        registered(&app, &t, "a@example.com", PW).await;
        let at = token(&login(&app, &t, "a@example.com", PW).await);
        assert_eq!(parts(&at).0["alg"], alg);
        assert_eq!(me_status(&app, &t, &at).await, 200);
    }
    // A policy that makes no sense is refused.
    let t = app.tenant().await;
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"auth": {"password": {"max_length": 64}}}}),
    )
    .await
    .expect(422);
}
