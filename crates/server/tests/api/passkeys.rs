//! Passkeys over REST, driven by a software authenticator (1Password's `passkey` crate):
//! registration, listing, renaming and removal; passwordless sign-in; the second step of a
//! sign-in; step-up. The bad inputs are in `attacks`.
//!
//! WebAuthn takes the RP ID from the server's public URL, and an IP address cannot be one
//! (`webauthn-rs`, like browsers, refuses it), so these servers have the public URL
//! `http://localhost:<port>`: the RP ID is `localhost` and the origin that URL.

use super::mfa::{bearer, call, claims, expect_invalid, grant, set_cookie, signed_in};
use super::native_auth::login;
use super::passkey_client::{AAGUID, Device, unb64};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_store_postgres::testing::{DATABASE_URL_VAR, TestDatabase};
use tessera_testkit::{Answer, TestApp, postgres_configured, test_settings};
use url::Url;

mod attacks;

const PW: &str = "correct horse battery staple";

/// A bootstrapped server whose public URL is `http://localhost:<port>` (the client still
/// talks to 127.0.0.1).
async fn spawn() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database = if postgres_configured() {
        Some(TestDatabase::create(&std::env::var(DATABASE_URL_VAR).unwrap()).await)
    } else {
        None
    };
    let mut settings = test_settings(&dir, database.as_ref().map(|d| d.url.as_str()));
    // The public URL names the port: take a free one first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.server.listen = format!("127.0.0.1:{port}");
    settings.server.public_url = Some(format!("http://localhost:{port}"));
    let mut app = TestApp::start_with(settings, dir, database).await;
    app.operator_key = tessera_server::cli::bootstrap::bootstrap(
        &app.settings,
        "admin",
        Some("admin@example.com"),
    )
    .await
    .unwrap()
    .api_key;
    app
}

/// The origin of the server's pages.
fn origin(app: &TestApp) -> Url {
    Url::parse(&app.settings.public_url()).unwrap()
}

/// The same page served from another origin (another port of the same host).
fn other_origin(app: &TestApp) -> Url {
    let mut url = origin(app);
    let port = url.port().unwrap();
    url.set_port(Some(if port == 65535 { 1024 } else { port + 1 }))
        .unwrap();
    url
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The `amr` of a sign-in answer's access token, after checking its `acr` is MFA.
#[track_caller]
fn mfa_amr(answer: &Value) -> Vec<String> {
    let c = claims(answer["access_token"].as_str().unwrap());
    assert_eq!(c["acr"], "urn:tessera:acr:mfa", "{c}");
    let amr = strings(&c["amr"]);
    assert!(
        amr.iter().any(|m| m == "hwk" || m == "swk") && amr.iter().any(|m| m == "mfa"),
        "{amr:?}"
    );
    amr
}

/// Starts a ceremony at `path` (POST, no body): (challenge id, options).
async fn ceremony(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (String, Value) {
    let a = call(app, Method::POST, path, headers, None).await;
    let body = a.expect(200);
    (
        body["challenge_id"].as_str().unwrap().to_owned(),
        body["options"].clone(),
    )
}

/// Posts a registration response with `auth` (a bearer token or an `X-MFA-Token`).
async fn finish_registration(
    app: &TestApp,
    t: &str,
    auth: (&str, &str),
    challenge: &str,
    credential: &Value,
    name: &str,
) -> Answer {
    call(
        app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[auth],
        Some(json!({"challenge_id": challenge, "credential": credential, "name": name})),
    )
    .await
}

/// Registers a passkey of `device` for the holder of `auth`; the 201 answer.
async fn register(app: &TestApp, t: &str, auth: (&str, &str), device: &mut Device) -> Value {
    let (challenge, options) =
        ceremony(app, &format!("/t/{t}/api/v1/me/passkeys/options"), &[auth]).await;
    let credential = device.create(&origin(app), &options).await;
    finish_registration(app, t, auth, &challenge, &credential, "My key")
        .await
        .expect(201)
        .clone()
}

/// Starts a passwordless sign-in in the browser whose flow cookie is `flow`.
async fn passwordless_options(app: &TestApp, t: &str, flow: &str) -> (String, Value) {
    ceremony(
        app,
        &format!("/t/{t}/api/v1/login/passkey/options"),
        &[("cookie", &format!("tessera_flow={flow}"))],
    )
    .await
}

async fn passwordless(
    app: &TestApp,
    t: &str,
    flow: &str,
    challenge: &str,
    credential: &Value,
) -> Answer {
    call(
        app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/passkey"),
        &[("cookie", &format!("tessera_flow={flow}"))],
        Some(json!({"challenge_id": challenge, "credential": credential})),
    )
    .await
}

/// Starts a passkey check for the second step of the sign-in `mfa_token`.
async fn second_step_options(app: &TestApp, t: &str, mfa_token: &str) -> (String, Value) {
    ceremony(
        app,
        &format!("/t/{t}/api/v1/login/mfa/passkey/options"),
        &[("x-mfa-token", mfa_token)],
    )
    .await
}

async fn second_step(
    app: &TestApp,
    t: &str,
    mfa_token: &str,
    challenge: &str,
    credential: &Value,
) -> Answer {
    call(
        app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/mfa"),
        &[("x-mfa-token", mfa_token)],
        Some(json!({"method": "passkey", "challenge_id": challenge, "credential": credential})),
    )
    .await
}

/// Signs in with the password of a user who has a second factor: the `mfa_token`.
async fn half_signed_in(app: &TestApp, t: &str, email: &str) -> String {
    let a = login(app, t, email, PW).await;
    assert_eq!(a.expect(200)["status"], "mfa_required", "{}", a.text);
    a.json["mfa_token"].as_str().unwrap().to_owned()
}

/// The tenant's audit events with this action (oldest first).
async fn audited(app: &TestApp, t: &str, action: &str) -> Vec<Value> {
    let a = app
        .get(&format!("/api/v1/tenants/{t}/audit?action={action}"))
        .await;
    a.expect(200)["items"].as_array().unwrap().clone()
}

/// The `after` of the change `field` of an audit event.
fn changed(event: &Value, field: &str) -> Value {
    event["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .map(|c| c["after"].clone())
        .unwrap_or_else(|| panic!("no change {field} in {event}"))
}

/// Asserts that the last `action` event was a failure whose reason contains `needle`
/// (case-insensitive), and that there are `count` of them.
#[track_caller]
fn assert_refusal(events: &[Value], count: usize, needle: &str) {
    assert_eq!(events.len(), count, "{events:#?}");
    let last = events.last().unwrap();
    assert_eq!(last["outcome"], "failure", "{last}");
    let reason = changed(last, "reason").as_str().unwrap().to_lowercase();
    assert!(reason.contains(needle), "{needle} not in {reason:?}");
}

#[tokio::test]
async fn passkeys_are_registered_listed_renamed_and_removed() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (token, user) = signed_in(&app, &t, "ada@example.com").await;
    let auth = bearer(&token);
    let auth = ("authorization", auth.as_str());

    let (challenge, options) =
        ceremony(&app, &format!("/t/{t}/api/v1/me/passkeys/options"), &[auth]).await;
    // A discoverable credential with user verification, for this server, for this user.
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost", "{options}");
    let selection = &public_key["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{options}");
    assert_eq!(selection["userVerification"], "required", "{options}");
    let handle = unb64(public_key["user"]["id"].as_str().unwrap());
    assert_eq!(
        uuid::Uuid::from_slice(&handle).unwrap().to_string(),
        user,
        "the user handle is the user id"
    );
    let mut device = Device::with_counter();
    let credential = device.create(&origin(&app), &options).await;
    let done = finish_registration(&app, &t, auth, &challenge, &credential, "  YubiKey  ").await;
    let done = done.expect(201).clone();
    // The first factor comes with backup codes; a full session gets no new tokens.
    assert_eq!(done["backup_codes"].as_array().unwrap().len(), 10, "{done}");
    assert!(done["access_token"].is_null(), "{done}");
    assert_eq!(done["passkey"]["name"], "YubiKey");
    assert_eq!(done["passkey"]["aaguid"], AAGUID.to_string());
    let id = done["passkey"]["id"].as_str().unwrap().to_owned();
    // The ceremony is single use.
    finish_registration(&app, &t, auth, &challenge, &credential, "again")
        .await
        .expect_problem(403, "invalid_challenge");

    let list = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[auth],
        None,
    )
    .await;
    let list = list.expect(200).as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["name"], "YubiKey");
    assert_eq!(list[0]["aaguid"], AAGUID.to_string());
    let status = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/mfa"),
        &[auth],
        None,
    )
    .await;
    assert_eq!(status.expect(200)["passkeys"], 1, "{}", status.text);
    assert_eq!(status.json["backup_codes_remaining"], 10);

    // Rename: a name is required and has no control characters.
    let path = format!("/t/{t}/api/v1/me/passkeys/{id}");
    call(
        &app,
        Method::PATCH,
        &path,
        &[auth],
        Some(json!({"name": "Work key"})),
    )
    .await
    .expect(204);
    expect_invalid(
        &call(
            &app,
            Method::PATCH,
            &path,
            &[auth],
            Some(json!({"name": " "})),
        )
        .await,
        "name_required",
    );
    expect_invalid(
        &call(
            &app,
            Method::PATCH,
            &path,
            &[auth],
            Some(json!({"name": "bad\u{7}name"})),
        )
        .await,
        "invalid_name",
    );
    let list = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[auth],
        None,
    )
    .await;
    assert_eq!(list.expect(200)[0]["name"], "Work key", "{}", list.text);

    // Another user can neither rename nor remove it, nor see it.
    let (eve, _) = signed_in(&app, &t, "eve@example.com").await;
    let eve = bearer(&eve);
    let eve = ("authorization", eve.as_str());
    call(
        &app,
        Method::PATCH,
        &path,
        &[eve],
        Some(json!({"name": "mine now"})),
    )
    .await
    .expect_problem(404, "not_found");
    call(&app, Method::DELETE, &path, &[eve], None)
        .await
        .expect_problem(404, "not_found");
    let eves = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[eve],
        None,
    )
    .await;
    assert_eq!(eves.expect(200), &json!([]));

    // Remove: gone, with the backup codes of a user left without a factor; then 404.
    call(&app, Method::DELETE, &path, &[auth], None)
        .await
        .expect(204);
    let list = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[auth],
        None,
    )
    .await;
    assert_eq!(list.expect(200), &json!([]));
    let status = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/mfa"),
        &[auth],
        None,
    )
    .await;
    assert_eq!(status.expect(200)["passkeys"], 0, "{}", status.text);
    assert_eq!(status.json["backup_codes_remaining"], 0);
    call(&app, Method::DELETE, &path, &[auth], None)
        .await
        .expect_problem(404, "not_found");
    call(
        &app,
        Method::PATCH,
        &path,
        &[auth],
        Some(json!({"name": "ghost"})),
    )
    .await
    .expect_problem(404, "not_found");
    // The password alone signs in again.
    assert_eq!(
        login(&app, &t, "ada@example.com", PW).await.json["status"],
        "signed_in"
    );
    for action in [
        "mfa.passkey_added",
        "mfa.passkey_renamed",
        "mfa.passkey_removed",
    ] {
        assert_eq!(audited(&app, &t, action).await.len(), 1, "{action}");
    }
}

#[tokio::test]
async fn a_passkey_alone_signs_in_with_both_factors() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (token, user) = signed_in(&app, &t, "ada@example.com").await;
    let mut device = Device::with_counter();
    register(&app, &t, ("authorization", &bearer(&token)), &mut device).await;

    // A browser without a flow cookie gets one with the options.
    let start = call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/passkey/options"),
        &[],
        None,
    )
    .await;
    let body = start.expect(200).clone();
    let flow = set_cookie(&start, "tessera_flow").expect("a flow cookie");
    let options = &body["options"];
    assert_eq!(options["publicKey"]["rpId"], "localhost", "{options}");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "any discoverable credential: {options}"
    );
    let credential = device.get(&origin(&app), options).await;
    let challenge = body["challenge_id"].as_str().unwrap();
    let answer = passwordless(&app, &t, &flow, challenge, &credential).await;
    let done = answer.expect(200).clone();
    assert_eq!(done["status"], "signed_in", "{done}");
    assert_eq!(done["user_id"], user.as_str());
    let amr = mfa_amr(&done);
    assert!(!amr.iter().any(|m| m == "pwd"), "{amr:?}");
    assert!(
        set_cookie(&answer, "tessera_session").is_some(),
        "{:?}",
        answer.headers
    );
    // The token works.
    call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me"),
        &[(
            "authorization",
            &bearer(done["access_token"].as_str().unwrap()),
        )],
        None,
    )
    .await
    .expect(200);

    // Switched off, it is refused at the start.
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"auth": {"passwordless": {"passkeys": false}}}}),
    )
    .await
    .expect(200);
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/passkey/options"),
        &[("cookie", &format!("tessera_flow={flow}"))],
        None,
    )
    .await
    .expect_problem(403, "method_disabled");
}

#[tokio::test]
async fn a_passkey_is_a_second_factor_after_the_password() {
    let app = spawn().await;
    let t = app.tenant().await;
    let email = "ada@example.com";
    let (token, _) = signed_in(&app, &t, email).await;
    let mut device = Device::with_counter();
    let registered = register(&app, &t, ("authorization", &bearer(&token)), &mut device).await;

    let a = login(&app, &t, email, PW).await;
    let body = a.expect(200).clone();
    assert_eq!(body["status"], "mfa_required", "{}", a.text);
    assert!(body.get("access_token").is_none());
    let methods = strings(&body["methods"]);
    assert!(methods.iter().any(|m| m == "passkey"), "{methods:?}");
    let mfa = body["mfa_token"].as_str().unwrap();
    let (challenge, options) = second_step_options(&app, &t, mfa).await;
    // Restricted to the user's credentials.
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "{options}");
    let credential = device.get(&origin(&app), &options).await;
    assert_eq!(allowed[0]["id"], credential["rawId"]);
    // Without the ceremony id, or without the credential: 422.
    expect_invalid(
        &call(
            &app,
            Method::POST,
            &format!("/t/{t}/api/v1/login/mfa"),
            &[("x-mfa-token", mfa)],
            Some(json!({"method": "passkey", "credential": credential})),
        )
        .await,
        "required",
    );
    let done = second_step(&app, &t, mfa, &challenge, &credential).await;
    let done = done.expect(200).clone();
    assert_eq!(done["status"], "signed_in", "{done}");
    let amr = mfa_amr(&done);
    assert!(amr.iter().any(|m| m == "pwd"), "{amr:?}");
    // The passkey's last use is recorded.
    let list = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[(
            "authorization",
            &bearer(done["access_token"].as_str().unwrap()),
        )],
        None,
    )
    .await;
    let list = list.expect(200);
    assert_eq!(list[0]["id"], registered["passkey"]["id"]);
    assert!(list[0]["last_used_at"].is_string(), "{list}");
}

#[tokio::test]
async fn an_administrator_keeps_their_only_passkey_and_steps_up_with_it() {
    let app = spawn().await;
    let t = app.tenant().await;
    let email = "root@example.com";
    let (_, user) = signed_in(&app, &t, email).await;
    grant(&app, &t, &user, "admin").await;
    // The next sign-in must enrol a factor: a passkey, from the restricted session.
    let a = login(&app, &t, email, PW).await;
    assert_eq!(
        a.expect(200)["status"],
        "mfa_enrolment_required",
        "{}",
        a.text
    );
    let mfa = a.json["mfa_token"].as_str().unwrap().to_owned();
    let mut device = Device::with_counter();
    let done = register(&app, &t, ("x-mfa-token", &mfa), &mut device).await;
    assert_eq!(done["backup_codes"].as_array().unwrap().len(), 10, "{done}");
    mfa_amr(&done);
    let access = bearer(done["access_token"].as_str().unwrap());
    let auth = ("authorization", access.as_str());
    let id = done["passkey"]["id"].as_str().unwrap();

    // It is the administrator's only factor: it stays.
    call(
        &app,
        Method::DELETE,
        &format!("/t/{t}/api/v1/me/passkeys/{id}"),
        &[auth],
        None,
    )
    .await
    .expect_problem(409, "last_factor");
    let list = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[auth],
        None,
    )
    .await;
    assert_eq!(list.expect(200).as_array().unwrap().len(), 1);

    // Step-up with the passkey (the password no longer does).
    let step_up = format!("/t/{t}/api/v1/me/step-up");
    expect_invalid(
        &call(
            &app,
            Method::POST,
            &step_up,
            &[auth],
            Some(json!({"method": "password", "password": PW})),
        )
        .await,
        "invalid_code",
    );
    let (challenge, options) = ceremony(
        &app,
        &format!("/t/{t}/api/v1/me/step-up/passkey/options"),
        &[auth],
    )
    .await;
    let credential = device.get(&origin(&app), &options).await;
    let proof = json!({"method": "passkey", "challenge_id": challenge, "credential": credential});
    call(&app, Method::POST, &step_up, &[auth], Some(proof.clone()))
        .await
        .expect(204);
    // Once.
    call(&app, Method::POST, &step_up, &[auth], Some(proof))
        .await
        .expect_problem(403, "invalid_challenge");
    let steps = audited(&app, &t, "auth.step_up").await;
    assert_eq!(steps.len(), 1, "{steps:#?}");
    let method = changed(&steps[0], "method");
    assert!(method == "hwk" || method == "swk", "{method}");
}
