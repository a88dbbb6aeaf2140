//! Users and access (issue 16): sessions that end at once, roles at several schools,
//! invitations and password resets by one-time link, the audit, and the tenancy matrix.

use oneclass_testkit::APP_PASSWORD;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{DEMO_PASSWORD, TestApp};

async fn login(
    app: &TestApp,
    username: &str,
    password: &str,
    role: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"username": username, "password": password});
    if let Some(role) = role {
        body["role"] = json!(role);
    }
    app.client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&body)
        .send()
        .await
        .expect("login")
}

async fn token_of(resp: reqwest::Response) -> String {
    assert!(resp.status().is_success(), "sign-in: {}", resp.status());
    let body: Value = resp.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

async fn me(app: &TestApp, token: &str) -> Value {
    let resp = app.get(token, "/api/v1/auth/me").await;
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

async fn delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .delete(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("DELETE")
}

/// The last message the outbox holds for `recipient`, and the token its link carries.
async fn outbox_token(app: &TestApp, recipient: &str) -> (String, String) {
    let body: String = sqlx::query_scalar(
        "SELECT body FROM comms.outbox WHERE recipient = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(recipient)
    .fetch_one(&app.owner)
    .await
    .expect("a message in the outbox");
    let token = body
        .split("token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a link with a token")
        .to_owned();
    (body, token)
}

async fn school_of(app: &TestApp, username: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT m.school_id FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
         WHERE u.username = $1 LIMIT 1",
    )
    .bind(username)
    .fetch_one(&app.owner)
    .await
    .expect("school")
}

async fn other_school(app: &TestApp, school: Uuid) -> Uuid {
    sqlx::query_scalar("SELECT id FROM platform.schools WHERE id <> $1 ORDER BY emis_code LIMIT 1")
        .bind(school)
        .fetch_one(&app.owner)
        .await
        .expect("another school")
}

/// Acceptance 1 (revocation): a signed-out or revoked session's token is refused at once, by the
/// API and the staff pages, while the account's other sessions go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_sessions_are_refused_at_once() {
    let app = TestApp::spawn().await;
    let head = app.username("school_head");
    let first = token_of(login(&app, &head, DEMO_PASSWORD, None).await).await;
    let second = token_of(login(&app, &head, DEMO_PASSWORD, None).await).await;
    assert_eq!(app.get(&second, "/api/v1/learners?limit=1").await.status(), 200);

    let sessions: Vec<Value> =
        app.get(&first, "/api/v1/auth/sessions").await.json().await.expect("sessions");
    assert_eq!(sessions.len(), 2);
    let second_id = me(&app, &second).await["session"].as_str().expect("session").to_owned();
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_ne!(current[0]["id"], json!(second_id));

    // The head signs out the second session from the first: refused on its very next request.
    assert_eq!(
        delete(&app, &first, &format!("/api/v1/auth/sessions/{second_id}")).await.status(),
        204
    );
    let refused = app.get(&second, "/api/v1/learners?limit=1").await;
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    let page = app
        .client
        .get(format!("{}/app/classes", app.base))
        .bearer_auth(&second)
        .send()
        .await
        .expect("page");
    assert_ne!(page.status(), 200, "the staff pages refuse it too");
    assert_eq!(app.get(&first, "/api/v1/learners?limit=1").await.status(), 200);
    // Another user's session is not one's own to end.
    let registrar = app.token("registrar").await;
    let first_id = me(&app, &first).await["session"].as_str().expect("session").to_owned();
    assert_eq!(
        delete(&app, &registrar, &format!("/api/v1/auth/sessions/{first_id}")).await.status(),
        404
    );
    assert_eq!(app.get(&first, "/api/v1/learners?limit=1").await.status(), 200);

    // A platform admin signs out every session of the account; a registrar may not.
    let head_id = me(&app, &first).await["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/users/{head_id}/revoke-sessions");
    assert_eq!(app.post(&registrar, &path, &json!({})).await.status(), 403);
    let admin = app.token("platform_admin").await;
    assert_eq!(app.post(&admin, &path, &json!({})).await.status(), 204);
    assert_eq!(app.get(&first, "/api/v1/learners?limit=1").await.status(), 401);

    // Signing out ends the session; a token of a session that never existed is refused.
    let third = token_of(login(&app, &head, DEMO_PASSWORD, None).await).await;
    assert_eq!(app.post(&third, "/api/v1/auth/logout", &json!({})).await.status(), 204);
    assert_eq!(app.get(&third, "/api/v1/auth/me").await.status(), 401);
    let revoked_at: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.sessions s JOIN platform.users u ON u.id = s.user_id
         WHERE u.username = $1 AND s.revoked_at IS NOT NULL",
    )
    .bind(&head)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(revoked_at, 3);
    app.stop().await;
}

/// Invitations by a one-time link; a person holding different roles at two schools; heads
/// assign roles only below their own and only at their school; a removed role ends the
/// person's sessions at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_and_roles_at_several_schools() {
    let app = TestApp::spawn().await;
    let head = app.token("school_head").await;
    let school_a = school_of(&app, &app.username("school_head")).await;
    let school_b = other_school(&app, school_a).await;
    let invitations_a = format!("/api/v1/schools/{school_a}/invitations");

    // Refusals first: nothing is sent for any of them.
    let teacher_invite =
        json!({"role": "teacher", "display_name": "Tendai Mlambo", "phone": "077 123 4567"});
    let to_b =
        app.post(&head, &format!("/api/v1/schools/{school_b}/invitations"), &teacher_invite).await;
    assert_eq!(to_b.status(), 403, "not the head's school");
    let a_head = json!({"role": "school_head", "display_name": "X Y", "email": "x@y.co.zw"});
    let resp = app.post(&head, &invitations_a, &a_head).await;
    assert_eq!(resp.status(), 422, "a head does not appoint heads");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errors"][0]["field"], "role");
    let nowhere = json!({"role": "teacher", "display_name": "X Y"});
    let resp = app.post(&head, &invitations_a, &nowhere).await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errors"][0]["field"], "phone");
    let bad_phone = json!({"role": "teacher", "display_name": "X Y", "phone": "+27 82 123 4567"});
    assert_eq!(app.post(&head, &invitations_a, &bad_phone).await.status(), 422);
    let teacher = app.token("teacher").await;
    assert_eq!(app.post(&teacher, &invitations_a, &teacher_invite).await.status(), 403);
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM comms.outbox")
        .fetch_one(&app.owner)
        .await
        .expect("count");
    assert_eq!(sent, 0);

    // The invitation: the link goes to the phone, in E.164; the inviter never sees it.
    let resp = app.post(&head, &invitations_a, &teacher_invite).await;
    assert_eq!(resp.status(), 201);
    let invitation: Value = resp.json().await.expect("json");
    assert_eq!(invitation["phone"], "+263771234567");
    assert!(!invitation.to_string().contains("token"));
    let (message, token) = outbox_token(&app, "+263771234567").await;
    assert!(message.contains("teacher"), "{message}");
    let accept = |username: &str, password: &str, token: &str| json!({"token": token, "username": username, "password": password});
    let url = format!("{}/api/v1/invitations/accept", app.base);
    let resp = app
        .client
        .post(&url)
        .json(&accept("t.mlambo", "short", &token))
        .send()
        .await
        .expect("accept");
    assert_eq!(resp.status(), 422, "a new account's password meets the rules");
    let resp = app
        .client
        .post(&url)
        .json(&accept("t.mlambo", "Mhoro-vese-2026", &token))
        .send()
        .await
        .expect("accept");
    assert_eq!(resp.status(), 201);
    let newcomer = token_of(resp).await;
    let who = me(&app, &newcomer).await;
    assert_eq!(who["role"], "teacher");
    assert_eq!(who["schools"], json!([school_a]));
    assert_eq!(who["display_name"], "Tendai Mlambo");
    // The link works once.
    let again = app
        .client
        .post(&url)
        .json(&accept("t.mlambo2", "Mhoro-vese-2026", &token))
        .send()
        .await
        .expect("accept");
    assert_eq!(again.status(), 401);
    let listed: Vec<Value> = app.get(&head, &invitations_a).await.json().await.expect("list");
    assert!(listed.iter().any(|i| i["accepted_at"].is_string()));

    // The head sees the new member; the registrar of school A is made a teacher at school B
    // by a platform admin, and accepts with their existing account.
    let members: Vec<Value> = app
        .get(&head, &format!("/api/v1/schools/{school_a}/members"))
        .await
        .json()
        .await
        .expect("members");
    let newcomer_id = who["id"].as_str().expect("id").to_owned();
    assert!(members.iter().any(|m| m["user_id"] == json!(newcomer_id) && m["role"] == "teacher"));
    let admin = app.token("platform_admin").await;
    let to_b =
        json!({"role": "teacher", "display_name": "Registrar", "email": "registrar@school.ac.zw"});
    let resp = app.post(&admin, &format!("/api/v1/schools/{school_b}/invitations"), &to_b).await;
    assert_eq!(resp.status(), 201);
    let (_, token_b) = outbox_token(&app, "registrar@school.ac.zw").await;
    let registrar = app.username("registrar");
    let wrong = app
        .client
        .post(&url)
        .json(&accept(&registrar, "not-the-password", &token_b))
        .send()
        .await
        .expect("accept");
    assert_eq!(wrong.status(), 401, "an existing account proves itself with its password");
    let resp = app
        .client
        .post(&url)
        .json(&accept(&registrar, DEMO_PASSWORD, &token_b))
        .send()
        .await
        .expect("accept");
    assert_eq!(resp.status(), 201);
    let as_teacher_b = token_of(resp).await;
    let who = me(&app, &as_teacher_b).await;
    assert_eq!(
        (who["role"].as_str(), who["schools"].clone()),
        (Some("teacher"), json!([school_b]))
    );
    assert_eq!(who["roles"].as_array().expect("roles").len(), 2);

    // Signing in: the account's own role by default, the other on request; switching within a
    // session; a role not held is refused with the field named.
    let own = token_of(login(&app, &registrar, DEMO_PASSWORD, None).await).await;
    let who = me(&app, &own).await;
    assert_eq!(
        (who["role"].as_str(), who["schools"].clone()),
        (Some("registrar"), json!([school_a]))
    );
    let b = token_of(login(&app, &registrar, DEMO_PASSWORD, Some("teacher")).await).await;
    assert_eq!(me(&app, &b).await["schools"], json!([school_b]));
    let resp = app.post(&own, "/api/v1/auth/switch", &json!({"role": "teacher"})).await;
    let switched = token_of(resp).await;
    let who = me(&app, &switched).await;
    assert_eq!(
        (who["role"].as_str(), who["schools"].clone()),
        (Some("teacher"), json!([school_b]))
    );
    let resp = app.post(&own, "/api/v1/auth/switch", &json!({"role": "bursar"})).await;
    assert_eq!(resp.status(), 422);
    let resp = login(&app, &registrar, DEMO_PASSWORD, Some("school_head")).await;
    assert_eq!(resp.status(), 422);

    // Roles given and taken: a head adds a role to an existing user, cannot take one at another
    // school, and taking one ends that user's sessions at once.
    let members_a = format!("/api/v1/schools/{school_a}/members");
    let add = json!({"user_id": newcomer_id, "role": "bursar"});
    assert_eq!(app.post(&head, &members_a, &add).await.status(), 201);
    assert_eq!(app.post(&head, &members_a, &add).await.status(), 409);
    let take_b = format!("/api/v1/schools/{school_b}/members/{newcomer_id}/teacher");
    assert_eq!(delete(&app, &head, &take_b).await.status(), 403);
    assert_eq!(app.get(&newcomer, "/api/v1/auth/me").await.status(), 200);
    let take = format!("/api/v1/schools/{school_a}/members/{newcomer_id}/teacher");
    assert_eq!(delete(&app, &head, &take).await.status(), 204);
    assert_eq!(app.get(&newcomer, "/api/v1/auth/me").await.status(), 401);
    assert_eq!(delete(&app, &head, &take).await.status(), 404);

    // Every change above is in the audit, by whom.
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.action, u.username FROM audit.events e JOIN platform.users u ON u.id = e.user_id
         WHERE e.entity = 'platform.memberships' ORDER BY e.id",
    )
    .fetch_all(&app.owner)
    .await
    .expect("audit");
    let head_name = app.username("school_head");
    assert_eq!(
        audited,
        vec![
            ("insert".to_owned(), "t.mlambo".to_owned()),
            ("insert".to_owned(), registrar.clone()),
            ("insert".to_owned(), head_name.clone()),
            ("delete".to_owned(), head_name),
        ]
    );
    app.stop().await;
}

/// Password change signs out the other sessions; a reset link works once, and wrong secrets
/// lock the account as failed sign-ins do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_and_reset() {
    let app = TestApp::spawn().await;
    let bursar = app.username("bursar");
    sqlx::query("UPDATE platform.users SET phone = '+263712345678' WHERE username = $1")
        .bind(&bursar)
        .execute(&app.owner)
        .await
        .expect("phone");
    let kept = token_of(login(&app, &bursar, DEMO_PASSWORD, None).await).await;
    let other = token_of(login(&app, &bursar, DEMO_PASSWORD, None).await).await;

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let resp = app
        .post(&kept, "/api/v1/auth/password", &change("wrong-password", "Chinhu-chitsva-1"))
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errors"][0]["field"], "current_password");
    let resp = app.post(&kept, "/api/v1/auth/password", &change(DEMO_PASSWORD, "short")).await;
    assert_eq!(resp.status(), 422);
    let resp =
        app.post(&kept, "/api/v1/auth/password", &change(DEMO_PASSWORD, "Chinhu-chitsva-1")).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get(&kept, "/api/v1/auth/me").await.status(), 200, "this session stays");
    assert_eq!(app.get(&other, "/api/v1/auth/me").await.status(), 401, "the others end");
    assert_eq!(login(&app, &bursar, DEMO_PASSWORD, None).await.status(), 401);
    assert_eq!(login(&app, &bursar, "Chinhu-chitsva-1", None).await.status(), 200);

    // A reset asked for an unknown account answers the same and sends nothing.
    let ask = |username: &str| json!({"username": username});
    let url = |path: &str| format!("{}/api/v1/auth/password/{path}", app.base);
    let resp =
        app.client.post(url("reset-request")).json(&ask("nobody.here")).send().await.expect("ask");
    assert_eq!(resp.status(), 202);
    let resp = app.client.post(url("reset-request")).json(&ask(&bursar)).send().await.expect("ask");
    assert_eq!(resp.status(), 202);
    let (_, token) = outbox_token(&app, "+263712345678").await;
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM comms.outbox")
        .fetch_one(&app.owner)
        .await
        .expect("n");
    assert_eq!(sent, 1);

    // Wrong secrets for the link: refused, and the fifth locks the account.
    let (id, secret) = token.split_once('.').expect("id.secret");
    let forged = format!("{id}.{}", "0".repeat(secret.len()));
    let reset = |token: &str, password: &str| json!({"token": token, "new_password": password});
    for _ in 0..5 {
        let resp = app
            .client
            .post(url("reset"))
            .json(&reset(&forged, "Chinhu-chitsva-2"))
            .send()
            .await
            .expect("reset");
        assert_eq!(resp.status(), 401);
    }
    assert_eq!(login(&app, &bursar, "Chinhu-chitsva-1", None).await.status(), 429, "locked");
    let resp = app
        .client
        .post(url("reset"))
        .json(&reset(&token, "Chinhu-chitsva-2"))
        .send()
        .await
        .expect("reset");
    assert_eq!(resp.status(), 429, "not even the right link while locked");
    sqlx::query(
        "UPDATE platform.users SET locked_until = NULL, failed_logins = 0 WHERE username = $1",
    )
    .bind(&bursar)
    .execute(&app.owner)
    .await
    .expect("unlock");
    let resp = app
        .client
        .post(url("reset"))
        .json(&reset(&token, "Chinhu-chitsva-2"))
        .send()
        .await
        .expect("reset");
    assert_eq!(resp.status(), 401, "the link is void after five wrong secrets");

    // A fresh link sets the password once and ends every session.
    let resp = app.client.post(url("reset-request")).json(&ask(&bursar)).send().await.expect("ask");
    assert_eq!(resp.status(), 202);
    let (_, token) = outbox_token(&app, "+263712345678").await;
    let resp =
        app.client.post(url("reset")).json(&reset(&token, "weak")).send().await.expect("reset");
    assert_eq!(resp.status(), 422);
    let resp = app
        .client
        .post(url("reset"))
        .json(&reset(&token, "Chinhu-chitsva-3"))
        .send()
        .await
        .expect("reset");
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get(&kept, "/api/v1/auth/me").await.status(), 401);
    let resp = app
        .client
        .post(url("reset"))
        .json(&reset(&token, "Chinhu-chitsva-4"))
        .send()
        .await
        .expect("reset");
    assert_eq!(resp.status(), 401, "used once");
    assert_eq!(login(&app, &bursar, "Chinhu-chitsva-3", None).await.status(), 200);
    app.stop().await;
}

/// The audit: every write through the API is recorded with who made it and what changed; a
/// head reads their own school's, an admin all; the API's role can neither change nor delete a
/// row; a learner's record has its full history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_records_writes_and_reads_and_is_append_only() {
    let app = TestApp::spawn().await;
    let registrar = app.token("registrar").await;
    let head = app.token("school_head").await;
    let school_a = school_of(&app, &app.username("registrar")).await;
    let resp = app
        .post(
            &registrar,
            "/api/v1/learners",
            &json!({"learner_number": "AUD-1", "first_name": "Nyasha", "last_name": "Ndlovu",
                    "sex": "F", "date_of_birth": "2016-04-02"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let learner: Value = resp.json().await.expect("json");
    let learner_id = learner["id"].as_str().expect("id").to_owned();
    let resp = app
        .post(
            &registrar,
            "/api/v1/enrolments",
            &json!({"learner_id": learner_id, "academic_year": 2026, "grade": "G4",
                    "entry_type": "new", "start_date": "2026-09-08"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(app.get(&head, &format!("/api/v1/learners/{learner_id}")).await.status(), 200);

    // A change made as the app role, in a request's scope: recorded with the changed column.
    let app_pool = oneclass_core::db::pool_with(
        oneclass_core::db::role_options(&app.owner_url, "oneclass_app", &APP_PASSWORD.into())
            .expect("options"),
        2,
    )
    .await
    .expect("app pool");
    let head_id: Uuid = sqlx::query_scalar("SELECT id FROM platform.users WHERE username = $1")
        .bind(app.username("school_head"))
        .fetch_one(&app.owner)
        .await
        .expect("head");
    let mut tx = app_pool.begin().await.expect("tx");
    sqlx::query(
        "SELECT set_config('app.user_id', $1, true), set_config('app.school_ids', $2, true),
                set_config('app.role', 'school_head', true)",
    )
    .bind(head_id.to_string())
    .bind(format!("{{{school_a}}}"))
    .execute(&mut *tx)
    .await
    .expect("scope");
    sqlx::query("UPDATE sis.learners SET last_name = 'Ndlovu-Moyo' WHERE id = $1::uuid")
        .bind(&learner_id)
        .execute(&mut *tx)
        .await
        .expect("update");
    tx.commit().await.expect("commit");

    let page: Value = app
        .get(&head, &format!("/api/v1/learners/{learner_id}/history"))
        .await
        .json()
        .await
        .expect("history");
    let events = page["items"].as_array().expect("items");
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["action"].as_str().unwrap_or(""), e["entity"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("update", "sis.learners"),
            ("read", "sis.learners"),
            ("insert", "sis.enrolments"),
            ("insert", "sis.learners"),
        ],
        "newest first"
    );
    assert_eq!(
        events[0]["changes"],
        json!({"last_name": {"old": "Ndlovu", "new": "Ndlovu-Moyo"}}),
        "an update records the columns that changed"
    );
    assert_eq!(events[0]["username"], json!(app.username("school_head")));
    assert_eq!(events[3]["username"], json!(app.username("registrar")));
    assert_eq!(events[3]["role"], "registrar");
    assert_eq!(events[3]["changes"]["first_name"], "Nyasha");

    // Who may read it: the head for their school, an admin everywhere, not a teacher; nobody of
    // school A reads school B's.
    let teacher = app.token("teacher").await;
    assert_eq!(app.get(&teacher, "/api/v1/audit").await.status(), 403);
    assert_eq!(
        app.get(&registrar, &format!("/api/v1/learners/{learner_id}/history")).await.status(),
        403
    );
    let school_b = other_school(&app, school_a).await;
    sqlx::query(
        "INSERT INTO audit.events (id, school_id, action, entity) VALUES ($1, $2, 'insert', 'sis.learners')",
    )
    .bind(Uuid::now_v7())
    .bind(school_b)
    .execute(&app.owner)
    .await
    .expect("an event of school B");
    let of_b: Value = app
        .get(&head, &format!("/api/v1/audit?school_id={school_b}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(of_b["items"], json!([]));
    let admin = app.token("platform_admin").await;
    let all: Value = app
        .get(&admin, &format!("/api/v1/audit?school_id={school_b}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(all["items"].as_array().map(Vec::len), Some(1));
    let mine: Value = app
        .get(&head, "/api/v1/audit?entity=sis.enrolments&limit=1")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["items"][0]["action"], "insert");
    assert_eq!(app.get(&head, "/api/v1/audit?limit=0").await.status(), 422);

    // Append-only for the API's role.
    let update = sqlx::query("UPDATE audit.events SET action = 'nothing'").execute(&app_pool).await;
    assert!(update.is_err(), "the app role cannot change the audit");
    let delete = sqlx::query("DELETE FROM audit.events").execute(&app_pool).await;
    assert!(delete.is_err(), "the app role cannot delete from the audit");
    let truncate = sqlx::query("TRUNCATE audit.events").execute(&app_pool).await;
    assert!(truncate.is_err());
    // Loads by operators (no user in the session) are not recorded as API writes.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM audit.events")
        .fetch_one(&app.owner)
        .await
        .expect("n");
    sqlx::query("UPDATE sis.learners SET disability = 'none' WHERE id = $1::uuid")
        .bind(&learner_id)
        .execute(&app.owner)
        .await
        .expect("owner update");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit.events")
        .fetch_one(&app.owner)
        .await
        .expect("n");
    assert_eq!(before, after);
    app.stop().await;
}

/// Acceptance 1 (tenancy): for every school role and every school resource, a user of school A
/// can neither read nor change school B's data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenancy_matrix_school_a_never_reaches_school_b() {
    let app = TestApp::spawn().await;
    let school_a = school_of(&app, &app.username("school_head")).await;
    let school_b = other_school(&app, school_a).await;
    let (learner_b, class_b, enrolment_b): (Uuid, Uuid, Uuid) = sqlx::query_as(
        "SELECT e.learner_id, e.class_id, e.id FROM sis.enrolments e
         WHERE e.school_id = $1 AND e.class_id IS NOT NULL AND e.end_date IS NULL LIMIT 1",
    )
    .bind(school_b)
    .fetch_one(&app.owner)
    .await
    .expect("a learner of school B in a class");
    let assessment_b: Uuid = sqlx::query_scalar(
        "INSERT INTO assessment.assessments (id, school_id, class_id, academic_year, term,
             subject_code, name, max_score, weight, held_on)
         SELECT $1, c.school_id, c.id, c.academic_year, 1, 'MAT', 'Test B', 10, 1, current_date
         FROM academic.classes c WHERE c.id = $2 RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(class_b)
    .fetch_one(&app.owner)
    .await
    .expect("an assessment of school B");
    let today = chrono::Utc::now().date_naive();
    let count_b = || async {
        let learners: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sis.learners WHERE school_id = $1")
                .bind(school_b)
                .fetch_one(&app.owner)
                .await
                .expect("n");
        let marks: i64 =
            sqlx::query_scalar("SELECT count(*) FROM attendance.daily_marks WHERE school_id = $1")
                .bind(school_b)
                .fetch_one(&app.owner)
                .await
                .expect("n");
        let members: i64 =
            sqlx::query_scalar("SELECT count(*) FROM platform.memberships WHERE school_id = $1")
                .bind(school_b)
                .fetch_one(&app.owner)
                .await
                .expect("n");
        // Every school-owned write of an API request is in the audit: none may name school B.
        let audited: i64 =
            sqlx::query_scalar("SELECT count(*) FROM audit.events WHERE school_id = $1")
                .bind(school_b)
                .fetch_one(&app.owner)
                .await
                .expect("n");
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sis.enrolments WHERE school_id = $1 AND end_date IS NULL",
        )
        .bind(school_b)
        .fetch_one(&app.owner)
        .await
        .expect("n");
        let announced: i64 =
            sqlx::query_scalar("SELECT count(*) FROM comms.announcements WHERE school_id = $1")
                .bind(school_b)
                .fetch_one(&app.owner)
                .await
                .expect("n");
        let sms: i64 = sqlx::query_scalar("SELECT count(*) FROM comms.outbox")
            .fetch_one(&app.owner)
            .await
            .expect("n");
        (learners, marks, members, audited, open, announced, sms)
    };
    let before = count_b().await;

    for role in ["school_head", "deputy", "registrar", "teacher", "bursar"] {
        let token = app.token(role).await;
        let reads = [
            format!("/api/v1/learners/{learner_b}"),
            format!("/api/v1/learners/{learner_b}/history"),
            format!("/api/v1/classes/{class_b}/register?date={today}"),
            format!("/api/v1/schools/{school_b}/attention"),
            format!("/api/v1/schools/{school_b}/members"),
            format!("/api/v1/schools/{school_b}/invitations"),
            format!("/api/v1/learners/{learner_b}/guardians"),
            format!("/api/v1/learners/{learner_b}/enrolments"),
            format!("/api/v1/learners/{learner_b}/report-card?year=2026&term=3"),
            format!("/api/v1/classes/{class_b}/assessments"),
            format!("/api/v1/classes/{class_b}/gradebook?subject=MAT&term=3"),
            format!("/api/v1/schools/{school_b}/exam-entries?year=2026&exam=G7"),
            format!("/api/v1/classes/{class_b}/teaching"),
            format!("/api/v1/learners/{learner_b}/account"),
            format!("/api/v1/schools/{school_b}/fees/report?year=2026&term=1"),
            format!("/api/v1/schools/{school_b}/fee-structures"),
            format!("/api/v1/learners/{learner_b}/messages"),
            format!("/api/v1/learners/{learner_b}/messages/events"),
            format!("/app/learners/{learner_b}/messages"),
            format!("/api/v1/assessments/{assessment_b}/results"),
            // The staff pages answer as the API does.
            format!("/app/learners/{learner_b}"),
            format!("/app/classes/{class_b}/marks"),
            format!("/app/classes/{class_b}/register"),
            format!("/app/assessments/{assessment_b}"),
        ];
        for path in &reads {
            let status = app.get(&token, path).await.status().as_u16();
            assert!(matches!(status, 403 | 404), "{role} GET {path}: {status}");
        }
        // Lists answer with nothing of school B.
        for path in [
            format!("/api/v1/learners?school_id={school_b}"),
            format!("/api/v1/classes?school_id={school_b}"),
            format!("/api/v1/audit?school_id={school_b}"),
            format!("/api/v1/timetable?school_id={school_b}"),
            format!("/api/v1/timetable/periods?school_id={school_b}"),
            format!("/api/v1/timetable/clashes?school_id={school_b}"),
            format!("/api/v1/announcements?school_id={school_b}"),
            "/app/learners?q=a".to_owned(),
        ] {
            let resp = app.get(&token, &path).await;
            let status = resp.status().as_u16();
            let text = resp.text().await.expect("body");
            if status == 200 {
                assert!(!text.contains(&school_b.to_string()), "{role} GET {path}: {text}");
                assert!(!text.contains(&class_b.to_string()), "{role} GET {path}: {text}");
                assert!(!text.contains(&learner_b.to_string()), "{role} GET {path}: {text}");
            } else {
                assert!(matches!(status, 403 | 404 | 422), "{role} GET {path}: {status}");
            }
        }
        let writes = [
            (
                "/api/v1/learners".to_owned(),
                json!({"school_id": school_b, "learner_number": "T-1", "first_name": "Rudo",
                       "last_name": "Moyo", "sex": "F", "date_of_birth": "2015-03-01"}),
            ),
            (
                "/api/v1/enrolments".to_owned(),
                json!({"learner_id": learner_b, "academic_year": 2027, "grade": "G2",
                       "entry_type": "promoted", "start_date": "2027-01-12"}),
            ),
            (
                format!("/api/v1/classes/{class_b}/register"),
                json!({"date": today, "marks": [{"learner_id": learner_b, "status": "absent"}]}),
            ),
            (
                format!("/api/v1/schools/{school_b}/members"),
                json!({"user_id": Uuid::now_v7(), "role": "teacher"}),
            ),
            (
                format!("/api/v1/schools/{school_b}/invitations"),
                json!({"role": "teacher", "display_name": "X", "phone": "0771234567"}),
            ),
            (
                format!("/api/v1/learners/{learner_b}/guardians"),
                json!({"full_name": "X Y", "relationship": "mother"}),
            ),
            (
                format!("/api/v1/enrolments/{enrolment_b}/exit"),
                json!({"date": today, "reason": "dropout"}),
            ),
            (format!("/api/v1/classes/{class_b}/year-end"), json!({"default_outcome": "promote"})),
            (
                "/api/v1/transfers".to_owned(),
                json!({"learner_id": learner_b, "to_school_id": school_a, "leaving_on": today}),
            ),
            (
                format!("/api/v1/classes/{class_b}/assessments"),
                json!({"subject_code": "MAT", "name": "T", "max_score": 10, "held_on": today}),
            ),
            (
                "/api/v1/classes".to_owned(),
                json!({"school_id": school_b, "academic_year": 2027, "grade": "G1", "name": "T"}),
            ),
            ("/api/v1/rooms".to_owned(), json!({"school_id": school_b, "name": "T"})),
            (
                "/api/v1/staff".to_owned(),
                json!({"school_id": school_b, "full_name": "T T", "sex": "F", "post": "clerk",
                       "start_date": "2020-01-01"}),
            ),
            (
                "/api/v1/exam-entries".to_owned(),
                json!({"learner_id": learner_b, "academic_year": 2026, "exam": "G7",
                       "candidate_number": "123456", "subjects": ["MAT"]}),
            ),
            ("/api/v1/timetable/generate".to_owned(), json!({"school_id": school_b})),
            (
                format!("/api/v1/learners/{learner_b}/payments"),
                json!({"invoice_id": Uuid::now_v7(), "currency": "USD", "amount": "1.00",
                       "method": "cash"}),
            ),
            (
                format!("/api/v1/schools/{school_b}/fee-structures"),
                json!({"academic_year": 2027, "term": 1, "grade": "G1", "currency": "USD",
                       "amount": "1.00", "due_on": "2027-02-01"}),
            ),
            (
                format!("/api/v1/learners/{learner_b}/messages"),
                json!({"guardian_id": Uuid::now_v7(), "body": "B"}),
            ),
            (
                format!("/api/v1/schools/{school_b}/invoices/generate"),
                json!({"academic_year": 2026, "term": 1}),
            ),
            (
                "/api/v1/timetable/lessons".to_owned(),
                json!({"teaching_id": Uuid::now_v7(), "period_id": Uuid::now_v7()}),
            ),
            (
                "/api/v1/announcements".to_owned(),
                json!({"school_id": school_b, "audience": "school", "title": "T", "body": "B"}),
            ),
            (
                "/api/v1/announcements".to_owned(),
                json!({"audience": "class_parents", "class_id": class_b, "title": "T", "body": "B",
                       "sms": true}),
            ),
        ];
        for (path, body) in &writes {
            let status = app.post(&token, path, body).await.status().as_u16();
            assert!(matches!(status, 403 | 404 | 422), "{role} POST {path}: {status}");
        }
        let staff_b: Uuid =
            sqlx::query_scalar("SELECT id FROM staff.staff WHERE school_id = $1 LIMIT 1")
                .bind(school_b)
                .fetch_one(&app.owner)
                .await
                .expect("staff of B");
        for (method, path, body) in [
            ("PATCH", format!("/api/v1/staff/{staff_b}"), json!({"end_date": today})),
            (
                "PUT",
                "/api/v1/timetable/periods".to_owned(),
                json!({"school_id": school_b, "days": [1],
                       "periods": [{"starts_at": "08:00", "ends_at": "08:40"}]}),
            ),
            (
                "PUT",
                format!("/api/v1/classes/{class_b}/teaching"),
                json!({"subject_code": "MAT", "user_id": Uuid::now_v7(), "periods_per_week": 2}),
            ),
        ] {
            let status = app
                .client
                .request(method.parse().expect("method"), format!("{}{path}", app.base))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16();
            assert!(matches!(status, 403 | 404 | 422), "{role} {method} {path}: {status}");
        }
        let resp = app
            .client
            .patch(format!("{}/api/v1/learners/{learner_b}", app.base))
            .bearer_auth(&token)
            .json(&json!({"first_name": "Changed"}))
            .send()
            .await
            .expect("PATCH");
        let status = resp.status().as_u16();
        assert!(matches!(status, 403 | 404), "{role} PATCH learner: {status}");
        let status = delete(
            &app,
            &token,
            &format!("/api/v1/schools/{school_b}/members/{}/teacher", Uuid::now_v7()),
        )
        .await
        .status()
        .as_u16();
        assert!(matches!(status, 403 | 404), "{role} DELETE member: {status}");
    }
    assert_eq!(count_b().await, before, "nothing of school B changed");
    app.stop().await;
}

/// Every table that holds a school's rows has row-level security enabled and forced, and every
/// published table can be read by the CDC role (a table it cannot read stops the snapshot).
#[tokio::test]
async fn every_school_table_is_forced_under_rls_and_every_published_table_is_readable() {
    let owner_url = oneclass_testkit::fresh_database().await;
    let owner = oneclass_core::db::pool(&owner_url, 2).await.expect("pool");
    let unforced: Vec<String> = sqlx::query_scalar(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'school_id' AND NOT a.attisdropped
         WHERE c.relkind = 'r' AND n.nspname IN ('platform', 'sis', 'academic', 'attendance',
               'assessment', 'finance', 'staff', 'comms', 'privacy')
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
         ORDER BY 1",
    )
    .fetch_all(&owner)
    .await
    .expect("query");
    assert_eq!(unforced, Vec::<String>::new(), "school-owned tables without forced RLS");
    let unreadable: Vec<String> = sqlx::query_scalar(
        "SELECT p.schemaname || '.' || p.tablename FROM pg_publication_tables p
         JOIN pg_namespace n ON n.nspname = p.schemaname
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename
         WHERE p.pubname = 'oneclass_lake'
           AND (NOT has_table_privilege('oneclass_cdc', c.oid, 'SELECT')
                OR (c.relrowsecurity AND NOT EXISTS (
                      SELECT 1 FROM pg_policy pol WHERE pol.polrelid = c.oid
                        AND 'oneclass_cdc'::regrole = ANY (pol.polroles))))
         ORDER BY 1",
    )
    .fetch_all(&owner)
    .await
    .expect("query");
    assert_eq!(unreadable, Vec::<String>::new(), "published tables the CDC role cannot read");
}
