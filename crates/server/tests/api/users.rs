use serde_json::{Value, json};
use tessera_testkit::TestApp;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_user_is_created_with_identifiers_profile_attributes_and_default_settings() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let u = app
        .user(&t, json!({
            "username": "Ｊａｎｅ.Doe",
            "emails": [{"address": "Jane@Example.COM", "verified": true}, {"address": "jd@work.example.org"}],
            "phones": [{"number": "+1 (415) 555-0123", "primary": true}],
            "given_name": "Jane", "family_name": "Doe", "birthday": "1990-04-01",
            "locale": "en-US", "zoneinfo": "America/Los_Angeles", "picture": "https://cdn.example.com/j.png",
            "custom_attributes": {"employee_number": "E-42", "level": 3}
        }))
        .await;
    assert_eq!(u["username"], "Jane.Doe"); // NFKC-normalised
    assert_eq!(u["state"], "active"); // a verified identifier
    assert_eq!(u["emails"][0]["primary"], true);
    assert_eq!(u["emails"][1]["primary"], false);
    assert_eq!(u["phones"][0]["number"], "+14155550123");
    assert_eq!(u["birthday"], "1990-04-01");
    assert_eq!(u["custom_attributes"]["level"], 3);
    let id = u["id"].as_str().unwrap();

    let got = app.get(&format!("/api/v1/tenants/{t}/users/{id}")).await;
    assert_eq!(got.header("etag"), Some("\"1\""));
    assert_eq!(
        got.expect(200),
        &u,
        "what a read returns equals what the create returned"
    );

    let settings = app
        .get(&format!("/api/v1/tenants/{t}/users/{id}/settings"))
        .await;
    assert_eq!(settings.expect(200)["security_alerts_email"], true);
    let changed = app
        .patch(
            &format!("/api/v1/tenants/{t}/users/{id}/settings"),
            json!({"theme": "dark"}),
        )
        .await;
    assert_eq!(changed.expect(200)["theme"], "dark");
    assert_eq!(changed.json["security_alerts_email"], true);
    let unknown = app
        .patch(
            &format!("/api/v1/tenants/{t}/users/{id}/settings"),
            json!({"colour": "red"}),
        )
        .await;
    unknown.expect_problem(422, "validation_failed");
    let bad_type = app
        .patch(
            &format!("/api/v1/tenants/{t}/users/{id}/settings"),
            json!({"theme": "neon"}),
        )
        .await;
    bad_type.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn new_users_get_the_tenant_default_settings() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let defaults = json!({"theme": "light", "security_alerts_email": false, "security_alerts_sms": true, "marketing_emails": false, "date_format": "DD/MM/YYYY"});
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"default_user_settings": defaults}}),
    )
    .await
    .expect(200);
    let u = app.user(&t, json!({"username": "sam"})).await;
    let s = app
        .get(&format!(
            "/api/v1/tenants/{t}/users/{}/settings",
            u["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s.expect(200), &defaults);
    assert_eq!(u["state"], "unverified");
}

#[tokio::test]
async fn identifiers_are_unique_per_tenant_case_insensitively_and_nothing_is_written_on_conflict() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.user(&t, json!({"username": "Ana", "emails": [{"address": "ana@example.com"}], "phones": [{"number": "+33612345678"}]})).await;
    let audit_before = app
        .get(&format!("/api/v1/tenants/{t}/audit?limit=500"))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .len();
    for (body, field) in [
        (json!({"username": "ANA"}), "username"),
        (
            json!({"username": "other1", "emails": [{"address": "ANA@EXAMPLE.COM"}]}),
            "email",
        ),
        (
            json!({"username": "other2", "phones": [{"number": "+33 6 12 34 56 78"}]}),
            "phone",
        ),
    ] {
        let a = app.post(&format!("/api/v1/tenants/{t}/users"), body).await;
        assert_eq!(a.expect_problem(409, "duplicate")["field"], field);
    }
    // Nothing was written: one user, and no new audit event.
    let list = app.get(&format!("/api/v1/tenants/{t}/users")).await;
    assert_eq!(ids(list.expect(200)).len(), 1);
    let audit_after = app
        .get(&format!("/api/v1/tenants/{t}/audit?limit=500"))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after);
    // The same identifiers are free in another tenant.
    let other = app.tenant().await;
    app.user(
        &other,
        json!({"username": "ana", "emails": [{"address": "ana@example.com"}]}),
    )
    .await;
    // Duplicates inside one request are refused too.
    let twice = app
        .post(
            &format!("/api/v1/tenants/{t}/users"),
            json!({"emails": [{"address": "x@example.com"}, {"address": "X@example.com"}]}),
        )
        .await;
    twice.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn list_filters_sorts_and_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut created = vec![];
    for i in 0..7 {
        let u = app.user(&t, json!({"username": format!("user{i}"), "emails": [{"address": format!("u{i}@example.com"), "verified": i % 2 == 0}]})).await;
        created.push(u["id"].as_str().unwrap().to_owned());
    }
    // Paging by 3 visits all, once, in creation order.
    let mut seen = vec![];
    let mut path = format!("/api/v1/tenants/{t}/users?limit=3");
    loop {
        let page = app.get(&path).await;
        let body = page.expect(200).clone();
        seen.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/tenants/{t}/users?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, created);
    // Descending by username.
    let desc = app
        .get(&format!("/api/v1/tenants/{t}/users?sort=-username&limit=2"))
        .await;
    assert_eq!(desc.expect(200)["items"][0]["username"], "user6");
    // Filters.
    let by_email = app
        .get(&format!("/api/v1/tenants/{t}/users?email=U3@EXAMPLE.com"))
        .await;
    assert_eq!(ids(by_email.expect(200)), vec![created[3].clone()]);
    let by_username = app
        .get(&format!("/api/v1/tenants/{t}/users?username=USER5"))
        .await;
    assert_eq!(ids(by_username.expect(200)), vec![created[5].clone()]);
    let active = app
        .get(&format!("/api/v1/tenants/{t}/users?state=active"))
        .await;
    assert_eq!(ids(active.expect(200)).len(), 4);
    let unverified = app
        .get(&format!("/api/v1/tenants/{t}/users?state=unverified"))
        .await;
    assert_eq!(ids(unverified.expect(200)).len(), 3);
    // Bad parameters are refused, not ignored.
    app.get(&format!("/api/v1/tenants/{t}/users?sort=password"))
        .await
        .expect_problem(422, "validation_failed");
    app.get(&format!("/api/v1/tenants/{t}/users?state=happy"))
        .await
        .expect_problem(422, "validation_failed");
    app.get(&format!("/api/v1/tenants/{t}/users?colour=red"))
        .await
        .expect_problem(400, "invalid_query");
    app.get(&format!("/api/v1/tenants/{t}/users?cursor=garbage"))
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn sql_metacharacters_in_filters_are_data() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.user(
        &t,
        json!({"username": "victim", "emails": [{"address": "victim@example.com"}]}),
    )
    .await;
    for evil in [
        "' OR '1'='1",
        "x\" OR 1=1 --",
        "%",
        "_",
        "victim@example.com'; DROP TABLE users; --",
        "\\",
        "*)(uid=*",
    ] {
        let enc: String = url_encode(evil);
        for field in ["email", "username"] {
            let a = app
                .get(&format!("/api/v1/tenants/{t}/users?{field}={enc}"))
                .await;
            assert_eq!(ids(a.expect(200)).len(), 0, "{field}={evil}");
        }
        let audit = app
            .get(&format!("/api/v1/tenants/{t}/audit?action={enc}"))
            .await;
        assert_eq!(audit.expect(200)["items"].as_array().unwrap().len(), 0);
    }
    // Still there, table intact.
    assert_eq!(
        ids(app
            .get(&format!("/api/v1/tenants/{t}/users"))
            .await
            .expect(200))
        .len(),
        1
    );
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn updates_replace_fields_check_versions_and_keep_identifiers_unique() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.user(
        &t,
        json!({"username": "taken", "emails": [{"address": "taken@example.com"}]}),
    )
    .await;
    let u = app.user(&t, json!({"username": "bob", "emails": [{"address": "bob@example.com"}], "given_name": "Bob"})).await;
    let path = format!("/api/v1/tenants/{t}/users/{}", u["id"].as_str().unwrap());
    let a = app.patch(&path, json!({"given_name": null, "family_name": "Builder", "emails": [{"address": "bob@example.com"}, {"address": "b2@example.com", "primary": true}]})).await;
    let v = a.expect(200);
    assert_eq!(v["given_name"], Value::Null);
    assert_eq!(v["family_name"], "Builder");
    assert_eq!(v["emails"][1]["primary"], true);
    assert_eq!(v["version"], 2);
    assert_eq!(a.header("etag"), Some("\"2\""));
    // A stale If-Match is refused and changes nothing.
    let stale = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&app.operator_key)
        .header("if-match", "\"1\"")
        .json(&json!({"family_name": "X"}))
        .send()
        .await
        .unwrap();
    TestApp::answer(stale)
        .await
        .expect_problem(412, "precondition_failed");
    assert_eq!(app.get(&path).await.expect(200)["family_name"], "Builder");
    let fresh = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&app.operator_key)
        .header("if-match", "\"2\"")
        .json(&json!({"family_name": "Y"}))
        .send()
        .await
        .unwrap();
    TestApp::answer(fresh).await.expect(200);
    // Taking another user's identifier is a conflict, and nothing changes.
    app.patch(&path, json!({"username": "TAKEN"}))
        .await
        .expect_problem(409, "duplicate");
    app.patch(&path, json!({"emails": [{"address": "taken@example.com"}]}))
        .await
        .expect_problem(409, "duplicate");
    assert_eq!(app.get(&path).await.expect(200)["username"], "bob");
    // The last identifier of a user cannot be removed.
    app.patch(&path, json!({"username": null, "emails": [], "phones": []}))
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn custom_attributes_follow_the_tenant_schema() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let schema = json!({"type": "object", "properties": {"level": {"type": "integer", "minimum": 1}}, "required": ["level"], "additionalProperties": false});
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"custom_attributes_schema": schema}}),
    )
    .await
    .expect(200);
    let bad = app
        .post(
            &format!("/api/v1/tenants/{t}/users"),
            json!({"username": "a", "custom_attributes": {"level": 0, "extra": true}}),
        )
        .await;
    let p = bad.expect_problem(422, "validation_failed");
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "schema_violation"),
        "{p}"
    );
    let ok = app
        .user(
            &t,
            json!({"username": "a", "custom_attributes": {"level": 2}}),
        )
        .await;
    let path = format!("/api/v1/tenants/{t}/users/{}", ok["id"].as_str().unwrap());
    app.patch(&path, json!({"custom_attributes": {"level": "high"}}))
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn ids_of_another_tenant_are_not_found_through_a_tenant_path() {
    let app = TestApp::spawn().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let ub = app.user(&b, json!({"username": "inb"})).await;
    let id = ub["id"].as_str().unwrap();
    app.get(&format!("/api/v1/tenants/{a}/users/{id}"))
        .await
        .expect_problem(404, "not_found");
    app.patch(
        &format!("/api/v1/tenants/{a}/users/{id}"),
        json!({"given_name": "x"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.delete(&format!("/api/v1/tenants/{a}/users/{id}"))
        .await
        .expect_problem(404, "not_found");
    app.post(
        &format!("/api/v1/tenants/{a}/users/{id}/state"),
        json!({"state": "suspended"}),
    )
    .await
    .expect_problem(404, "not_found");
    // Untouched in its own tenant.
    let still = app.get(&format!("/api/v1/tenants/{b}/users/{id}")).await;
    assert_eq!(still.expect(200)["version"], 1);
    // A key of tenant A cannot reach tenant B at all.
    let key_a = app.key(&a, &["users:read", "users:write"]).await;
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/tenants/{b}/users/{id}"),
            Some(&key_a),
            None,
        )
        .await;
    r.expect_problem(404, "not_found");
}
