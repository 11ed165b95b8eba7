use serde_json::json;
use tessera_testkit::TestApp;

#[tokio::test]
async fn units_form_a_tree_that_cannot_cycle_and_is_not_deleted_while_used() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let base = format!("/api/v1/tenants/{t}/org-units");
    let m = app
        .post(&base, json!({"name": "Merchant One", "kind": "merchant"}))
        .await
        .expect(201)
        .clone();
    let mid = m["id"].as_str().unwrap();
    let s1 = app
        .post(
            &base,
            json!({"name": "Store A", "kind": "store", "parent_id": mid}),
        )
        .await
        .expect(201)
        .clone();
    let s1id = s1["id"].as_str().unwrap();
    let s2 = app
        .post(
            &base,
            json!({"name": "Kiosk", "kind": "store", "parent_id": s1id}),
        )
        .await
        .expect(201)
        .clone();
    let s2id = s2["id"].as_str().unwrap();

    let roots = app.get(&format!("{base}?parent=root")).await;
    assert_eq!(roots.expect(200)["items"].as_array().unwrap().len(), 1);
    let children = app.get(&format!("{base}?parent={mid}")).await;
    assert_eq!(children.expect(200)["items"][0]["id"], s1id);

    // No cycles: the merchant cannot move under its grandchild, nor under itself.
    app.patch(&format!("{base}/{mid}"), json!({"parent_id": s2id}))
        .await
        .expect_problem(409, "cycle");
    app.patch(&format!("{base}/{mid}"), json!({"parent_id": mid}))
        .await
        .expect_problem(409, "cycle");
    // Moving the kiosk to the root works.
    let moved = app
        .patch(
            &format!("{base}/{s2id}"),
            json!({"parent_id": null, "name": "Kiosk HQ"}),
        )
        .await;
    assert_eq!(moved.expect(200)["parent_id"], serde_json::Value::Null);
    // A parent of another tenant does not exist here.
    let other = app.tenant().await;
    let foreign = app
        .post(
            &format!("/api/v1/tenants/{other}/org-units"),
            json!({"name": "X", "kind": "merchant"}),
        )
        .await
        .expect(201)
        .clone();
    let p = app
        .post(
            &base,
            json!({"name": "Y", "kind": "store", "parent_id": foreign["id"]}),
        )
        .await;
    assert_eq!(
        p.expect_problem(422, "validation_failed")["errors"][0]["code"],
        "unknown_parent"
    );
    app.post(&base, json!({"name": "Y", "kind": "Not A Kind"}))
        .await
        .expect_problem(422, "validation_failed");

    // Employees: assigned to one or more units.
    let e = app.user(&t, json!({"username": "emp"})).await;
    let eid = e["id"].as_str().unwrap();
    app.post(&format!("{base}/{s1id}/employees"), json!({"user_id": eid}))
        .await
        .expect(201);
    app.post(&format!("{base}/{mid}/employees"), json!({"user_id": eid}))
        .await
        .expect(201);
    app.post(&format!("{base}/{mid}/employees"), json!({"user_id": eid}))
        .await
        .expect_problem(409, "duplicate");
    let units = app
        .get(&format!("/api/v1/tenants/{t}/users/{eid}/org-units"))
        .await;
    assert_eq!(units.expect(200).as_array().unwrap().len(), 2);
    let staff = app.get(&format!("{base}/{s1id}/employees")).await;
    assert_eq!(staff.expect(200)["items"][0]["user_id"], eid);

    // A unit with a child or an employee is not deleted.
    app.delete(&format!("{base}/{mid}"))
        .await
        .expect_problem(409, "in_use");
    app.delete(&format!("{base}/{s1id}"))
        .await
        .expect_problem(409, "in_use");
    app.delete(&format!("{base}/{s1id}/employees/{eid}"))
        .await
        .expect(204);
    app.delete(&format!("{base}/{s1id}/employees/{eid}"))
        .await
        .expect_problem(404, "not_found");
    app.delete(&format!("{base}/{s1id}")).await.expect(204);
    app.get(&format!("{base}/{s1id}"))
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn customers_have_no_credentials_and_are_promoted_keeping_their_id_and_history() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let m = app
        .post(
            &format!("/api/v1/tenants/{t}/org-units"),
            json!({"name": "Shop", "kind": "merchant"}),
        )
        .await
        .expect(201)
        .clone();
    let c = app
        .post(
            &format!("/api/v1/tenants/{t}/customers"),
            json!({"given_name": "Carla", "org_unit_id": m["id"]}),
        )
        .await;
    let c = c.expect(201).clone();
    assert_eq!(c["kind"], "customer");
    assert_eq!(c["state"], "created");
    let cid = c["id"].as_str().unwrap();
    // Listed among customers of the merchant, not among users.
    let of_shop = app
        .get(&format!(
            "/api/v1/tenants/{t}/customers?org_unit_id={}",
            m["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(of_shop.expect(200)["items"].as_array().unwrap().len(), 1);
    let users = app
        .get(&format!("/api/v1/tenants/{t}/users?kind=user"))
        .await;
    assert_eq!(users.expect(200)["items"].as_array().unwrap().len(), 0);
    // The merchant cannot be deleted while it has customers.
    app.delete(&format!(
        "/api/v1/tenants/{t}/org-units/{}",
        m["id"].as_str().unwrap()
    ))
    .await
    .expect_problem(409, "in_use");
    // Customers cannot be employees.
    let assign = app
        .post(
            &format!(
                "/api/v1/tenants/{t}/org-units/{}/employees",
                m["id"].as_str().unwrap()
            ),
            json!({"user_id": cid}),
        )
        .await;
    assign.expect_problem(422, "validation_failed");
    // Promotion needs an identifier.
    app.post(
        &format!("/api/v1/tenants/{t}/customers/{cid}/promote"),
        json!({}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.patch(
        &format!("/api/v1/tenants/{t}/users/{cid}"),
        json!({"emails": [{"address": "carla@example.com", "verified": true}]}),
    )
    .await
    .expect(200);
    let promoted = app
        .post(
            &format!("/api/v1/tenants/{t}/customers/{cid}/promote"),
            json!({}),
        )
        .await;
    let p = promoted.expect(200);
    assert_eq!(p["id"], cid);
    assert_eq!(p["kind"], "user");
    assert_eq!(p["state"], "active");
    app.post(
        &format!("/api/v1/tenants/{t}/customers/{cid}/promote"),
        json!({}),
    )
    .await
    .expect_problem(409, "not_a_customer");
    // Its history is one trail under the same subject id.
    let audit = app
        .get(&format!("/api/v1/tenants/{t}/audit?subject_id={cid}"))
        .await;
    let actions: Vec<_> = audit.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        vec!["customer.created", "user.updated", "customer.promoted"]
    );
}
