//! Step-up over REST: who may confirm with what, and the whole loop after the window (401
//! with the RFC 9470 challenge, step-up, retry).

use super::*;

#[tokio::test]
async fn step_up_needs_the_strongest_factor_the_user_has() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (token, _) = signed_in(&app, &t, "ada@example.com").await;
    let auth = bearer(&token);
    let path = format!("/t/{t}/api/v1/me/step-up");
    call(
        &app,
        Method::POST,
        &path,
        &[("authorization", &auth)],
        Some(json!({"method": "password", "password": "not the password at all"})),
    )
    .await
    .expect_invalid("invalid_code");
    call(
        &app,
        Method::POST,
        &path,
        &[("authorization", &auth)],
        Some(json!({"method": "password", "password": PW})),
    )
    .await
    .expect(204);
    call(
        &app,
        Method::POST,
        &path,
        &[("authorization", &auth)],
        Some(json!({"method": "sms"})),
    )
    .await
    .expect_invalid("invalid_method");
    // After MFA, the password alone no longer confirms it is you.
    let (secret, step, _) = enrol_totp(&app, &t, ("authorization", &auth)).await;
    let a = login(&app, &t, "ada@example.com", PW).await;
    let mfa = a.json["mfa_token"].as_str().unwrap().to_owned();
    let done = second_step(
        &app,
        &t,
        &mfa,
        json!({"method": "totp", "code": totp(&secret, step + 1)}),
    )
    .await;
    let strong = bearer(done.expect(200)["access_token"].as_str().unwrap());
    call(
        &app,
        Method::POST,
        &path,
        &[("authorization", &strong)],
        Some(json!({"method": "password", "password": PW})),
    )
    .await
    .expect_invalid("invalid_code");
    // Step-up failures are audited.
    let history = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/login-history"),
        &[("authorization", &strong)],
        None,
    )
    .await;
    assert!(
        history
            .expect(200)
            .to_string()
            .contains("auth.step_up.failed")
    );
}

/// The whole step-up loop in real time: after the window, a sensitive change answers 401 with
/// an RFC 9470 challenge; a step-up lets it through. (The shortest window a tenant may set is
/// 60 s, so this test waits that long, in parallel with the others.)
#[tokio::test]
async fn sensitive_changes_after_the_step_up_window_ask_for_a_step_up() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"auth": {"mfa": {"step_up_secs": 60}}}}),
    )
    .await
    .expect(200);
    let (token, _) = signed_in(&app, &t, "ada@example.com").await;
    let auth = bearer(&token);
    tokio::time::sleep(std::time::Duration::from_secs(62)).await;
    let refused = call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/mfa/totp"),
        &[("authorization", &auth)],
        None,
    )
    .await;
    refused.expect_problem(401, "step_up_required");
    let challenge = refused.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("insufficient_user_authentication") && challenge.contains("max_age=60"),
        "{challenge}"
    );
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/identifiers"),
        &[("authorization", &auth)],
        Some(json!({"identifier": "ada.other@example.com"})),
    )
    .await
    .expect_problem(401, "step_up_required");
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/step-up"),
        &[("authorization", &auth)],
        Some(json!({"method": "password", "password": PW})),
    )
    .await
    .expect(204);
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/mfa/totp"),
        &[("authorization", &auth)],
        None,
    )
    .await
    .expect(200);
}
