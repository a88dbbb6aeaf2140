//! Learner records and enrolment workflows (issue 16): the Zimbabwe fields, guardians, the
//! directory, one active enrolment per learner, exit and re-entry, year-end promotion and
//! repetition, and transfers between two schools on the platform.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{DEMO_PASSWORD, TestApp};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn patch(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("PATCH")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learner_records_guardians_and_the_directory() {
    let app = TestApp::spawn().await;
    let registrar = app.token("registrar").await;
    let head = app.token("school_head").await;
    let new = |birth_entry: &str| {
        json!({"learner_number": "ZW-0042", "first_name": "Zoë", "last_name": "Mpofu-Ndlovu",
               "sex": "F", "date_of_birth": "2017-02-14", "birth_entry_number": birth_entry,
               "home_language": "Ndebele", "is_beam": true, "is_ovc": true})
    };
    let resp = app.post(&registrar, "/api/v1/learners", &new("abc")).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["birth_entry_number"]);
    let resp = app.post(&registrar, "/api/v1/learners", &new("BE/1234567-07")).await;
    assert_eq!(resp.status(), 201);
    let learner: Value = resp.json().await.expect("json");
    let id = learner["id"].as_str().expect("id").to_owned();
    assert_eq!(learner["first_name"], "Zoë", "non-ASCII letters kept");
    assert_eq!(
        (learner["is_beam"].as_bool(), learner["home_language"].as_str()),
        (Some(true), Some("Ndebele"))
    );

    // One active enrolment per learner, whatever the year.
    let enrol = |year: i32, entry: &str| {
        json!({"learner_id": id, "academic_year": year, "grade": "G3", "entry_type": entry,
               "start_date": format!("{year}-09-08")})
    };
    let resp = app.post(&registrar, "/api/v1/enrolments", &enrol(2026, "new")).await;
    assert_eq!(resp.status(), 201);
    let enrolment: Value = resp.json().await.expect("json");
    assert_eq!(
        app.post(&registrar, "/api/v1/enrolments", &enrol(2027, "promoted")).await.status(),
        409
    );

    // The directory: search by the start of a name (any case) or the number, filters.
    let ids_of = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    for (query, found) in [
        ("q=zo", true),
        ("q=mpofu", true),
        ("q=ZW-0042", true),
        ("q=ndlovu", false),
        ("grade=G3&sex=F", true),
        ("grade=G4", false),
        ("sex=M", false),
        ("status=active&q=Zo", true),
    ] {
        let page: Value = app
            .get(&registrar, &format!("/api/v1/learners?limit=500&{query}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(ids_of(&page).contains(&id), found, "{query}");
    }
    let wild = app.get(&registrar, "/api/v1/learners?q=%25").await;
    assert_eq!(wild.status(), 200, "a wildcard is searched for as text");

    // A correction: recorded in the history with old and new values.
    let resp = patch(
        &app,
        &registrar,
        &format!("/api/v1/learners/{id}"),
        &json!({"home_language": "Shona"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let resp =
        patch(&app, &registrar, &format!("/api/v1/learners/{id}"), &json!({"first_name": "Z0e"}))
            .await;
    assert_eq!(resp.status(), 422);
    let history: Value = app
        .get(&head, &format!("/api/v1/learners/{id}/history"))
        .await
        .json()
        .await
        .expect("history");
    let update = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "update")
        .cloned()
        .expect("an update");
    assert_eq!(update["changes"], json!({"home_language": {"old": "Ndebele", "new": "Shona"}}));

    // Guardians: phones stored as E.164, one first contact, a sibling's guardian linked.
    let path = format!("/api/v1/learners/{id}/guardians");
    let mother = json!({"full_name": "Nokuthula Mpofu", "phone": "077 123 4567", "relationship": "mother",
                        "pays_fees": true, "is_primary": true});
    let resp = app
        .post(
            &registrar,
            &path,
            &json!({"full_name": "X", "phone": "12345", "relationship": "aunt"}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["phone"]);
    let resp =
        app.post(&registrar, &path, &json!({"full_name": "X", "relationship": "aunty"})).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["relationship"]);
    let resp = app.post(&registrar, &path, &mother).await;
    assert_eq!(resp.status(), 201);
    let added: Value = resp.json().await.expect("json");
    assert_eq!(added["phone"], "+263771234567");
    let second_primary =
        json!({"full_name": "Sipho Mpofu", "relationship": "father", "is_primary": true});
    assert_eq!(app.post(&registrar, &path, &second_primary).await.status(), 409);
    let father = json!({"full_name": "Sipho Mpofu", "phone": "+263 78 765 4321", "relationship": "father", "may_collect": false});
    assert_eq!(app.post(&registrar, &path, &father).await.status(), 201);
    let listed: Vec<Value> = app.get(&registrar, &path).await.json().await.expect("json");
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[0]["full_name"].as_str(), listed[0]["is_primary"].as_bool()),
        (Some("Nokuthula Mpofu"), Some(true))
    );
    assert_eq!(listed[1]["may_collect"], false);

    // Exit with a reason, then re-entry.
    let exit = format!("/api/v1/enrolments/{}/exit", enrolment["id"].as_str().expect("id"));
    let resp = app.post(&registrar, &exit, &json!({"date": "2026-10-02", "reason": "gone"})).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        app.post(&registrar, &exit, &json!({"date": "2026-10-02", "reason": "dropout"}))
            .await
            .status(),
        204
    );
    let status: String = sqlx::query_scalar("SELECT status FROM sis.learners WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .expect("status");
    assert_eq!(status, "dropped_out");
    assert_eq!(
        app.post(&registrar, &exit, &json!({"date": "2026-10-03", "reason": "dropout"}))
            .await
            .status(),
        409
    );
    let back = json!({"learner_id": id, "academic_year": 2026, "grade": "G3", "entry_type": "re_entry", "start_date": "2026-11-02"});
    assert_eq!(app.post(&registrar, "/api/v1/enrolments", &back).await.status(), 201);
    let learner: Value =
        app.get(&registrar, &format!("/api/v1/learners/{id}")).await.json().await.expect("json");
    assert_eq!(learner["status"], "active");
    let spells: Vec<Value> = app
        .get(&registrar, &format!("/api/v1/learners/{id}/enrolments"))
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<(&str, Option<&str>)> = spells
        .iter()
        .map(|s| (s["entry_type"].as_str().unwrap_or(""), s["exit_reason"].as_str()))
        .collect();
    assert_eq!(kinds, [("re_entry", None), ("new", Some("dropout"))]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_between_schools_and_year_end() {
    let app = TestApp::spawn().await;
    let registrar_a = app.token("registrar").await;
    let head = app.token("school_head").await;
    let school_a: Uuid = app.school_of("registrar").await;
    let school_b: Uuid = sqlx::query_scalar(
        "SELECT id FROM platform.schools WHERE id <> $1 ORDER BY emis_code LIMIT 1",
    )
    .bind(school_a)
    .fetch_one(&app.owner)
    .await
    .expect("school B");
    // A registrar at school B, with the demo password.
    sqlx::query(
        "INSERT INTO platform.users (id, username, password_hash, role, display_name)
         SELECT $1, 'registrar.b', password_hash, 'registrar', 'Registrar B' FROM platform.users
         WHERE username = $2",
    )
    .bind(Uuid::now_v7())
    .bind(app.username("registrar"))
    .execute(&app.owner)
    .await
    .expect("user");
    sqlx::query(
        "INSERT INTO platform.memberships (user_id, school_id, role)
         SELECT id, $1, 'registrar' FROM platform.users WHERE username = 'registrar.b'",
    )
    .bind(school_b)
    .execute(&app.owner)
    .await
    .expect("membership");
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": "registrar.b", "password": DEMO_PASSWORD}))
        .send()
        .await
        .expect("login");
    let registrar_b = resp.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let (learner, grade, year): (Uuid, String, i32) = sqlx::query_as(
        "SELECT learner_id, grade, academic_year FROM sis.enrolments
         WHERE school_id = $1 AND end_date IS NULL AND grade LIKE 'G%' ORDER BY learner_id LIMIT 1",
    )
    .bind(school_a)
    .fetch_one(&app.owner)
    .await
    .expect("a learner of A");
    let ask = json!({"learner_id": learner, "to_school_id": school_b, "leaving_on": "2026-10-30"});
    let resp = app.post(&registrar_a, "/api/v1/transfers", &ask).await;
    assert_eq!(resp.status(), 201);
    let transfer: Value = resp.json().await.expect("json");
    let transfer_id = transfer["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.post(&registrar_a, "/api/v1/transfers", &ask).await.status(),
        409,
        "one pending at a time"
    );
    let to_self =
        json!({"learner_id": learner, "to_school_id": school_a, "leaving_on": "2026-10-30"});
    assert_eq!(app.post(&registrar_a, "/api/v1/transfers", &to_self).await.status(), 422);

    // The receiving school sees who is coming, but not the record until it completes.
    let incoming: Vec<Value> =
        app.get(&registrar_b, "/api/v1/transfers").await.json().await.expect("json");
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0]["grade"], json!(grade));
    assert_eq!(app.get(&registrar_b, &format!("/api/v1/learners/{learner}")).await.status(), 404);
    let complete = format!("/api/v1/transfers/{transfer_id}/complete");
    let early = json!({"grade": grade, "start_date": "2026-10-01", "academic_year": year});
    assert_eq!(app.post(&registrar_b, &complete, &early).await.status(), 422, "before leaving A");
    assert_eq!(
        app.post(
            &registrar_a,
            &complete,
            &json!({"grade": grade, "start_date": "2026-11-02", "academic_year": year})
        )
        .await
        .status(),
        404,
        "the sending school cannot complete it"
    );
    let resp = app
        .post(
            &registrar_b,
            &complete,
            &json!({"grade": grade, "start_date": "2026-11-02", "academic_year": year}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json")["status"], "completed");
    assert_eq!(
        app.post(
            &registrar_b,
            &complete,
            &json!({"grade": grade, "start_date": "2026-11-02", "academic_year": year})
        )
        .await
        .status(),
        409
    );

    // The receiving school has the record and its whole history; the sending school keeps its
    // own past (its enrolment), no longer the record.
    assert_eq!(app.get(&registrar_b, &format!("/api/v1/learners/{learner}")).await.status(), 200);
    let spells: Vec<Value> = app
        .get(&registrar_b, &format!("/api/v1/learners/{learner}/enrolments"))
        .await
        .json()
        .await
        .expect("json");
    let at: Vec<(String, &str, Option<&str>)> = spells
        .iter()
        .map(|s| {
            (
                s["school_id"].as_str().unwrap_or("").to_owned(),
                s["entry_type"].as_str().unwrap_or(""),
                s["exit_reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(at[0], (school_b.to_string(), "transfer_in", None));
    assert!(at[1..].iter().any(|s| s.0 == school_a.to_string() && s.2 == Some("transfer_out")));
    assert_eq!(app.get(&registrar_a, &format!("/api/v1/learners/{learner}")).await.status(), 404);
    let past: Vec<Value> = app
        .get(&registrar_a, &format!("/api/v1/learners/{learner}/enrolments"))
        .await
        .json()
        .await
        .expect("json");
    assert!(!past.is_empty() && past.iter().all(|s| s["school_id"] == json!(school_a)));
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sis.enrolments WHERE learner_id = $1 AND end_date IS NULL",
    )
    .bind(learner)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(open, 1);

    // Year end for a class of school A: everyone promoted, one repeats; all or nothing.
    let (class_id, class_grade): (Uuid, String) = sqlx::query_as(
        "SELECT c.id, c.grade FROM academic.classes c
         WHERE c.school_id = $1 AND c.grade IN ('G1', 'G2', 'G3', 'G4', 'G5') AND c.academic_year = $2
           AND (SELECT count(*) FROM sis.enrolments e WHERE e.class_id = c.id AND e.end_date IS NULL) >= 2
         ORDER BY c.grade LIMIT 1",
    )
    .bind(school_a)
    .bind(year)
    .fetch_one(&app.owner)
    .await
    .expect("a class");
    let members: Vec<Uuid> = sqlx::query_scalar(
        "SELECT learner_id FROM sis.enrolments WHERE class_id = $1 AND end_date IS NULL ORDER BY learner_id",
    )
    .bind(class_id)
    .fetch_all(&app.owner)
    .await
    .expect("members");
    let path = format!("/api/v1/classes/{class_id}/year-end");
    let wrong = json!({"default_outcome": "promote", "decisions": [{"learner_id": learner, "outcome": "repeat"}]});
    let resp = app.post(&head, &path, &wrong).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["decisions[0].learner_id"]);
    let resp = app
        .post(&head, &path, &json!({"default_outcome": "promote", "decisions": [{"learner_id": members[0], "outcome": "repeat"}]}))
        .await;
    assert_eq!(resp.status(), 200);
    let done: Value = resp.json().await.expect("json");
    assert_eq!(
        (done["promoted"].as_u64(), done["repeating"].as_u64()),
        (Some(members.len() as u64 - 1), Some(1))
    );
    let next: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT learner_id, grade, entry_type FROM sis.enrolments
         WHERE learner_id = ANY ($1) AND academic_year = $2 AND end_date IS NULL ORDER BY learner_id",
    )
    .bind(&members)
    .bind(year + 1)
    .fetch_all(&app.owner)
    .await
    .expect("next year");
    assert_eq!(next.len(), members.len());
    let next_grade = format!("G{}", class_grade[1..].parse::<u32>().expect("grade") + 1);
    for (l, g, entry) in &next {
        if *l == members[0] {
            assert_eq!((g.as_str(), entry.as_str()), (class_grade.as_str(), "repeater"));
        } else {
            assert_eq!((g.as_str(), entry.as_str()), (next_grade.as_str(), "promoted"));
        }
    }
    let still_open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sis.enrolments WHERE class_id = $1 AND end_date IS NULL",
    )
    .bind(class_id)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(still_open, 0);
    app.stop().await;
}

/// Acceptance 3 (imports): a bad file writes nothing and reports every bad line; a retried
/// upload with the same key is applied once, also when both arrive at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bulk_import_is_all_or_nothing_and_applied_once() {
    let app = TestApp::spawn().await;
    let registrar = app.token("registrar").await;
    let school: Uuid = app.school_of("registrar").await;
    let (grade, class): (String, String) = sqlx::query_as(
        "SELECT grade, name FROM academic.classes WHERE school_id = $1 AND academic_year = (
             SELECT academic_year FROM ref.terms WHERE start_date <= current_date
             ORDER BY start_date DESC LIMIT 1) AND grade LIKE 'G%' ORDER BY grade, name LIMIT 1",
    )
    .bind(school)
    .fetch_one(&app.owner)
    .await
    .expect("a class");
    let template = app.get(&registrar, "/api/v1/learners/import-template").await;
    assert_eq!(template.status(), 200);
    let header = template.text().await.expect("csv").lines().next().expect("header").to_owned();
    assert!(header.starts_with("learner_number,first_name,last_name,sex,date_of_birth"));

    let url = format!("{}/api/v1/schools/{school}/learners/import", app.base);
    let send = |key: Option<&str>, body: String| {
        let mut req = app
            .client
            .post(&url)
            .bearer_auth(&registrar)
            .header("content-type", "text/csv")
            .body(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send()
    };
    let count = |prefix: &'static str| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM sis.learners WHERE learner_number LIKE $1",
            )
            .bind(format!("{prefix}%"))
            .fetch_one(&owner)
            .await
            .expect("count")
        }
    };
    let good = format!(
        "{header}\nIMP-1,Chiedza,Mhlanga,F,2015-06-01,,,Shona,,no,yes,{grade},{class},Tsitsi Mhlanga,0782345678,mother\n\
         IMP-2,Farai,Sibanda,M,2014-09-09,,,,,,,{grade},,,,\n\
         IMP-3,Nomvula,Dube,F,2016-01-20,,,,,,,,,,,\n"
    );
    let bad = format!(
        "{header}\nIMP-1,Chiedza,Mhlanga,F,2015-06-01,,,,,,,,,,,\n\
         IMP-2,Farai,Sibanda,Q,2014-09-09,,,,,,,,,,,\n\
         IMP-3,Nomvula,Dube,F,not-a-date,,,,,maybe,,,,,,\n"
    );
    let resp = send(None, good.clone()).await.expect("send");
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["Idempotency-Key"]);
    let resp = send(Some("upload-1"), bad).await.expect("send");
    assert_eq!(resp.status(), 422);
    assert_eq!(
        fields(&resp.json().await.expect("json")),
        ["line 3: sex", "line 4: date_of_birth", "line 4: is_ovc"],
        "every bad line and field"
    );
    assert_eq!(count("IMP-").await, 0, "nothing of a refused file is written");

    // The corrected file, with the same key (the refused attempt kept nothing), then a retry.
    let resp = send(Some("upload-1"), good.clone()).await.expect("send");
    assert_eq!(resp.status(), 201);
    let first: Value = resp.json().await.expect("json");
    assert_eq!(first, json!({"learners": 3, "enrolments": 2, "guardians": 1}));
    let resp = send(Some("upload-1"), good.clone()).await.expect("send");
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    assert_eq!(resp.json::<Value>().await.expect("json"), first);
    assert_eq!(count("IMP-").await, 3, "a retry imports nothing more");
    let other = good.replace("IMP-", "OTH-");
    assert_eq!(send(Some("upload-1"), other.clone()).await.expect("send").status(), 409);
    // Numbers already in the school are bad lines too.
    let resp = send(Some("upload-2"), good.clone()).await.expect("send");
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(3));

    // The same upload twice at the same moment: applied once, both answered alike.
    let (a, b) = tokio::join!(send(Some("upload-3"), other.clone()), send(Some("upload-3"), other));
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    assert_eq!(count("OTH-").await, 3);

    // The export has the imported learners in the same layout.
    let resp = app.get(&registrar, &format!("/api/v1/schools/{school}/learners/export")).await;
    assert_eq!(resp.status(), 200);
    let csv = resp.text().await.expect("csv");
    assert_eq!(csv.lines().next(), Some(header.as_str()));
    let line = csv.lines().find(|l| l.starts_with("IMP-1,")).expect("IMP-1 exported");
    assert_eq!(
        line,
        format!(
            "IMP-1,Chiedza,Mhlanga,F,2015-06-01,,,Shona,,no,yes,{grade},{class},Tsitsi Mhlanga,+263782345678,mother"
        )
    );
    app.stop().await;
}
