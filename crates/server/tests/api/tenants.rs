use serde_json::json;
use tessera_testkit::{TestApp, unique_slug};

#[tokio::test]
async fn operator_creates_lists_gets_updates_disables_and_enables_tenants() {
    let app = TestApp::spawn().await;
    let slug = unique_slug();
    let created = app
        .post(
            "/api/v1/tenants",
            json!({"slug": slug, "display_name": "Acme Corp", "organization_name": "Acme"}),
        )
        .await;
    let t = created.expect(201);
    assert_eq!(t["slug"], slug);
    assert_eq!(t["state"], "active");
    assert_eq!(t["issuer"], format!("{}/t/{slug}", app.base));
    assert_eq!(t["version"], 1);

    // A second tenant in the same organization.
    let other = unique_slug();
    let o = app.post("/api/v1/tenants", json!({"slug": other, "display_name": "Acme staging", "organization_id": t["organization_id"]})).await;
    assert_eq!(o.expect(201)["organization_id"], t["organization_id"]);

    let got = app.get(&format!("/api/v1/tenants/{slug}")).await;
    assert_eq!(got.expect(200)["display_name"], "Acme Corp");

    // Paging through the list visits every tenant once (system + 2).
    let mut seen = vec![];
    let mut path = "/api/v1/tenants?limit=1".to_owned();
    loop {
        let page = app.get(&path).await;
        let body = page.expect(200);
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["slug"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/tenants?limit=1&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    let mut expected = vec![slug.clone(), other.clone(), "system".to_owned()];
    expected.sort();
    assert_eq!(seen, expected);

    let updated = app
        .patch(
            &format!("/api/v1/tenants/{slug}"),
            json!({"display_name": "Acme Inc", "settings": {"mask_pii_in_audit": true}}),
        )
        .await;
    let u = updated.expect(200);
    assert_eq!(u["display_name"], "Acme Inc");
    assert_eq!(u["settings"]["mask_pii_in_audit"], true);
    assert_eq!(u["version"], 2);

    // A tenant key works until its tenant is disabled; the operator still manages it.
    let key = app.key(&slug, &["users:read"]).await;
    let path = format!("/api/v1/tenants/{slug}/users");
    app.send(reqwest::Method::GET, &path, Some(&key), None)
        .await
        .expect(200);
    app.post(&format!("/api/v1/tenants/{slug}/disable"), json!({}))
        .await
        .expect(200);
    let refused = app
        .send(reqwest::Method::GET, &path, Some(&key), None)
        .await;
    refused.expect_problem(403, "forbidden");
    app.get(&path).await.expect(200);
    let enabled = app
        .post(&format!("/api/v1/tenants/{slug}/enable"), json!({}))
        .await;
    assert_eq!(enabled.expect(200)["state"], "active");
    app.send(reqwest::Method::GET, &path, Some(&key), None)
        .await
        .expect(200);
}

#[tokio::test]
async fn slugs_are_validated_reserved_and_unique() {
    let app = TestApp::spawn().await;
    for bad in [
        "ab",
        "Acme",
        "acme_corp",
        "-acme",
        "acme-",
        "a--b",
        "ünï",
        "x' OR '1'='1",
    ] {
        let a = app
            .post("/api/v1/tenants", json!({"slug": bad, "display_name": "x"}))
            .await;
        let p = a.expect_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], "slug", "{bad}");
    }
    for reserved in ["system", "admin", "api"] {
        let a = app
            .post(
                "/api/v1/tenants",
                json!({"slug": reserved, "display_name": "x"}),
            )
            .await;
        assert_eq!(
            a.expect_problem(422, "validation_failed")["errors"][0]["code"],
            "reserved_slug"
        );
    }
    let slug = app.tenant().await;
    let dup = app
        .post(
            "/api/v1/tenants",
            json!({"slug": slug, "display_name": "again"}),
        )
        .await;
    assert_eq!(dup.expect_problem(409, "duplicate")["field"], "slug");
    // The operator tenant cannot be disabled.
    app.post("/api/v1/tenants/system/disable", json!({}))
        .await
        .expect_problem(409, "operator_tenant");
    app.get("/api/v1/tenants/no-such-tenant")
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn only_operator_keys_manage_the_tenant_registry() {
    let app = TestApp::spawn().await;
    let slug = app.tenant().await;
    let tenant_key = app.key(&slug, &["*"]).await;
    let create = app
        .send(
            reqwest::Method::POST,
            "/api/v1/tenants",
            Some(&tenant_key),
            Some(json!({"slug": unique_slug(), "display_name": "x"})),
        )
        .await;
    create.expect_problem(403, "forbidden");
    app.send(
        reqwest::Method::GET,
        "/api/v1/tenants",
        Some(&tenant_key),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    // A tenant key may read its own tenant, not another one (which it cannot even see).
    app.send(
        reqwest::Method::GET,
        &format!("/api/v1/tenants/{slug}"),
        Some(&tenant_key),
        None,
    )
    .await
    .expect(200);
    let other = app.tenant().await;
    app.send(
        reqwest::Method::GET,
        &format!("/api/v1/tenants/{other}"),
        Some(&tenant_key),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    // An operator key without tenants:write cannot create tenants.
    let reader = app.key("system", &["tenants:read"]).await;
    app.send(
        reqwest::Method::POST,
        "/api/v1/tenants",
        Some(&reader),
        Some(json!({"slug": unique_slug(), "display_name": "x"})),
    )
    .await
    .expect_problem(403, "forbidden");
    app.send(reqwest::Method::GET, "/api/v1/tenants", Some(&reader), None)
        .await
        .expect(200);
}

#[tokio::test]
async fn an_invalid_custom_attribute_schema_is_refused() {
    let app = TestApp::spawn().await;
    let a = app.post("/api/v1/tenants", json!({"slug": unique_slug(), "display_name": "x", "settings": {"custom_attributes_schema": {"type": "no-such-type"}}})).await;
    assert_eq!(
        a.expect_problem(422, "validation_failed")["errors"][0]["code"],
        "invalid_schema"
    );
}
