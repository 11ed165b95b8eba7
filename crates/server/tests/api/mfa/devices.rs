//! Remembered devices and new networks over REST: the device cookie skips the second factor
//! until forgotten; signals and decisions reach the login history; new-device notices.

use super::*;

#[tokio::test]
async fn remembered_devices_and_new_networks() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"auth": {"mfa": {"risk_based": true, "remember_device_days": 7}}}}),
    )
    .await
    .expect(200);
    let email = "ada@example.com";
    let (token, _) = signed_in(&app, &t, email).await;
    let (secret, step, _) = enrol_totp(&app, &t, ("authorization", &bearer(&token))).await;

    // New device and network: second factor, then "remember this device".
    let a = login_from(&app, &t, "198.51.100.7", email, PW).await;
    assert_eq!(a.expect(200)["status"], "mfa_required");
    let mfa = a.json["mfa_token"].as_str().unwrap();
    let done = second_step(
        &app,
        &t,
        mfa,
        json!({"method": "totp", "code": totp(&secret, step + 1), "remember_device": true}),
    )
    .await;
    done.expect(200);
    let device = set_cookie(&done, "tessera_device").expect("a device cookie");
    let with_device = format!("tessera_device={device}");
    let from = |ip: &'static str| {
        let app = &app;
        let t = t.clone();
        let cookie = with_device.clone();
        async move {
            let res = app
                .client
                .post(app.url(&format!("/t/{t}/api/v1/login")))
                .header("x-forwarded-for", ip)
                .header("cookie", cookie)
                .json(&json!({"identifier": email, "password": PW}))
                .send()
                .await
                .unwrap();
            TestApp::answer(res).await
        }
    };
    // The remembered device skips the factor, even from another network.
    let again = from("198.51.100.7").await;
    assert_eq!(again.expect(200)["status"], "signed_in", "{}", again.text);
    let access = again.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&access)["acr"], "urn:tessera:acr:mfa");
    assert_eq!(from("203.0.113.9").await.json["status"], "signed_in");
    // Without the device cookie, the factor is asked again.
    let other = login_from(&app, &t, "198.51.100.7", email, PW).await;
    assert_eq!(other.expect(200)["status"], "mfa_required");

    // Forgetting the device: the cookie no longer skips anything.
    let auth = bearer(&access);
    let devices = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/devices"),
        &[("authorization", &auth)],
        None,
    )
    .await;
    let list = devices.expect(200).as_array().unwrap().clone();
    let remembered: Vec<&Value> = list
        .iter()
        .filter(|d| d["remembered_until"].is_string())
        .collect();
    assert_eq!(remembered.len(), 1, "{list:?}");
    let id = remembered[0]["id"].as_str().unwrap();
    call(
        &app,
        Method::DELETE,
        &format!("/t/{t}/api/v1/me/devices/{id}"),
        &[("authorization", &auth)],
        None,
    )
    .await
    .expect(200);
    call(
        &app,
        Method::DELETE,
        &format!("/t/{t}/api/v1/me/devices/{id}"),
        &[("authorization", &auth)],
        None,
    )
    .await
    .expect_problem(404, "not_found");
    assert_eq!(from("198.51.100.7").await.json["status"], "mfa_required");

    // The login history records the signals and the decisions.
    let history = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/login-history"),
        &[("authorization", &auth)],
        None,
    )
    .await;
    let text = history.expect(200).to_string();
    for needle in [
        "new_device",
        "new_network",
        "remembered_device",
        "auth.device_forgotten",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    // The user was told about the sign-in from a new device.
    assert!(
        app.outbox()
            .iter()
            .any(|m| m["to"] == email && m["kind"] == "new_device_sign_in"),
        "{:?}",
        app.outbox()
    );
}
