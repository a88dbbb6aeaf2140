//! The dashboards end to end over a small real lake: schools in two provinces with this term's
//! marks, requested through the router as a browser would.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use deltalake::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use oneclass_dashboards::Viewer;
use oneclass_testkit::lake::{FixtureLake, text, today_in_harare};
use oneclass_warehouse::{Area, Warehouse};
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn strings(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

async fn write(lake: &FixtureLake, path: &str, columns: Vec<(&str, ArrayRef)>) -> TestResult {
    Ok(lake.write(path, columns).await?)
}

/// Schools and this term's marks:
/// - H001 (Harare / Harare Central): 6 learners × 2 days, 9 of 12 marks present or late → 75.0 %.
/// - H002 (Harare / Mbare): 2 learners × 2 days, 1 of 4 → 25.0 %, suppressed below province level.
/// - B001 (Bulawayo): 3 learners × 1 day, 2 of 3 → 66.7 %, suppressed everywhere.
///
/// Harare province: 8 learners, 10 of 16 → 62.5 %.
async fn lake() -> Result<FixtureLake, Box<dyn std::error::Error>> {
    let lake = FixtureLake::new()?;
    write(
        &lake,
        "silver/platform/schools",
        vec![
            ("id", text(&["s-h001", "s-h002", "s-b001"])),
            ("emis_code", text(&["H001", "H002", "B001"])),
            ("name", text(&["Avondale Primary", "Mbare Primary", "Lobengula Primary"])),
            ("province", text(&["Harare", "Harare", "Bulawayo"])),
            ("district", text(&["Harare Central", "Mbare", "Bulawayo Central"])),
        ],
    )
    .await?;
    let t = today_in_harare();
    write(
        &lake,
        "silver/ref/terms",
        vec![
            ("academic_year", Arc::new(Int32Array::from(vec![2026, 2026])) as ArrayRef),
            ("term", Arc::new(Int32Array::from(vec![1, 2]))),
            ("start_date", Arc::new(Date32Array::from(vec![t - 120, t - 20]))),
            ("end_date", Arc::new(Date32Array::from(vec![t - 30, t + 40]))),
        ],
    )
    .await?;

    let mut marks: Vec<(String, &str, i32, &str)> = Vec::new();
    for learner in 0..6 {
        let l = format!("h1-{learner}");
        marks.push((l.clone(), "s-h001", -2, if learner == 0 { "absent" } else { "present" }));
        let day1 = match learner {
            0 | 1 => "absent",
            2 => "late",
            _ => "present",
        };
        marks.push((l, "s-h001", -1, day1));
    }
    marks.push(("h2-0".into(), "s-h002", -2, "present"));
    marks.push(("h2-0".into(), "s-h002", -1, "absent"));
    marks.push(("h2-1".into(), "s-h002", -2, "excused"));
    marks.push(("h2-1".into(), "s-h002", -1, "absent"));
    marks.push(("b-0".into(), "s-b001", -1, "present"));
    marks.push(("b-1".into(), "s-b001", -1, "late"));
    marks.push(("b-2".into(), "s-b001", -1, "absent"));
    write(
        &lake,
        "silver/attendance/daily_marks",
        vec![
            ("id", strings((0..marks.len()).map(|i| format!("m-{i}")).collect())),
            ("school_id", strings(marks.iter().map(|m| m.1.to_owned()).collect())),
            ("learner_id", strings(marks.iter().map(|m| m.0.clone()).collect())),
            (
                "date",
                Arc::new(Date32Array::from(marks.iter().map(|m| t + m.2).collect::<Vec<_>>())),
            ),
            ("status", strings(marks.iter().map(|m| m.3.to_owned()).collect())),
        ],
    )
    .await?;
    Ok(lake)
}

/// The dashboards as a ministry official sees them (every school).
fn app(lake: &FixtureLake) -> axum::Router {
    app_for(lake, Viewer::Official(Area::National))
}

/// The dashboards as `viewer` sees them, whoever the request says it is (the application's
/// reading of tokens is tested with the application).
fn app_for(lake: &FixtureLake, viewer: Viewer) -> axum::Router {
    let warehouse = Arc::new(Warehouse::new(lake.url(), b"key".to_vec()));
    oneclass_dashboards::router(
        warehouse,
        Arc::new(move |_: HeaderMap| {
            let viewer = viewer.clone();
            Box::pin(async move { viewer })
        }),
    )
}

/// The text as a browser shows it: the two escapes of `<` askama and the charts use, decoded.
fn visible(html: &str) -> String {
    html.replace("&#60;", "<").replace("&lt;", "<")
}

async fn get(
    app: &axum::Router,
    uri: &str,
) -> Result<(StatusCode, String), Box<dyn std::error::Error>> {
    let response = app.clone().oneshot(Request::get(uri).body(Body::empty())?).await?;
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await?;
    Ok((status, String::from_utf8(body.to_vec())?))
}

#[tokio::test]
async fn national_page_shows_provinces_and_suppresses_small_ones() -> TestResult {
    let lake = lake().await?;
    let app = app(&lake);
    let (status, html) = get(&app, "/dash/attendance").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<svg"), "{html}");
    assert!(html.contains("Term 2, 2026"), "{html}");
    // Harare: a bar, a value label and a table row.
    assert!(html.contains("<title>Harare: 62.5%</title>"), "{html}");
    assert!(html.contains(r#"<a href="attendance?province=Harare">Harare</a>"#), "{html}");
    assert!(
        html.contains(r#"<td class="n">8</td><td class="n">16</td><td class="n">62.5%</td>"#),
        "{html}"
    );
    // Bulawayo has 3 learners: "<5" instead of figures, and no bar.
    let shown = visible(&html);
    assert!(shown.contains("<title>Bulawayo: –</title>"), "{html}");
    assert!(
        shown.contains(r#"<td class="n"><5</td><td class="n">–</td><td class="n">–</td>"#),
        "{html}"
    );
    assert!(!html.contains("66.7"), "a suppressed rate leaked: {html}");
    assert_eq!(html.matches("<rect").count(), 1, "{html}");
    assert!(html.len() < 100 * 1024);
    Ok(())
}

#[tokio::test]
async fn drill_down_to_districts_and_schools() -> TestResult {
    let lake = lake().await?;
    let app = app(&lake);

    let (status, html) = get(&app, "/dash/attendance?province=Harare").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<a href="attendance">Zimbabwe</a>"#), "breadcrumb up: {html}");
    assert!(
        html.contains(r#"<a href="attendance?province=Harare&#38;district=Harare+Central">"#),
        "{html}"
    );
    // Mbare (2 learners) is hidden; Harare's total (8 learners, 62.5 %) is on the national page,
    // so Harare Central (6) is hidden with it, or Mbare = Harare − Harare Central.
    let shown = visible(&html);
    assert!(shown.contains("<title>Mbare: –</title>"), "{html}");
    assert!(shown.contains("<title>Harare Central: –</title>"), "{html}");
    assert!(!html.contains("25.0") && !html.contains("75.0"), "{html}");
    assert!(
        shown.contains(r#"<td class="n"><5</td>"#) && shown.contains(r#"<td class="n">–</td>"#)
    );

    // Drilling into the hidden district cannot undo it: its schools are hidden too.
    let (status, html) =
        get(&app, "/dash/attendance?province=Harare&district=Harare+Central").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<a href="attendance?province=Harare">Harare</a>"#), "{html}");
    assert!(html.contains(r#"<span aria-current="page">Harare Central</span>"#), "{html}");
    assert!(visible(&html).contains("<title>Avondale Primary: –</title>"), "{html}");
    assert!(!html.contains("75.0"), "{html}");

    // An area without marks is a page that says so, not an error.
    let (status, html) = get(&app, "/dash/attendance?province=Manicaland").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No attendance has been marked") && !html.contains("<svg"), "{html}");
    Ok(())
}

#[tokio::test]
async fn bad_parameters_are_400_pages() -> TestResult {
    let lake = lake().await?;
    let app = app(&lake);
    let long = "x".repeat(200);
    for uri in [
        "/dash/attendance?province=%01Harare".to_owned(),
        format!("/dash/attendance?district={long}"),
    ] {
        let (status, html) = get(&app, &uri).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(html.contains("<h1>That address is not valid</h1>"), "{html}");
    }
    Ok(())
}

#[tokio::test]
async fn a_broken_lake_is_a_500_page_without_details() -> TestResult {
    // Marks without the columns the named query needs: the query fails inside the warehouse.
    let lake = FixtureLake::new()?;
    write(&lake, "silver/attendance/daily_marks", vec![("id", text(&["m-1"]))]).await?;
    write(&lake, "silver/platform/schools", vec![("id", text(&["s-1"]))]).await?;
    let (status, html) = get(&app(&lake), "/dash/attendance").await?;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(html.contains("Something went wrong") && !html.contains("silver."), "{html}");
    Ok(())
}

#[tokio::test]
async fn index_links_the_dashboards_and_pages_are_compressed() -> TestResult {
    let lake = lake().await?;
    let app = app(&lake);
    let (status, html) = get(&app, "/dash/").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="attendance">Attendance</a>"#), "{html}");

    let response = app.clone().oneshot(Request::get("/dash").body(Body::empty())?).await?;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);

    let request = Request::get("/dash/attendance")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())?;
    let response = app.clone().oneshot(request).await?;
    assert_eq!(
        response.headers().get(header::CONTENT_ENCODING).map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    assert!(response.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    let compressed = to_bytes(response.into_body(), 1 << 20).await?;
    assert!(compressed.len() < 100 * 1024);
    Ok(())
}

/// Issue 17, acceptance 5: the dashboards speak the reader's language (their choice in the
/// cookie before their browser's), error pages included, from the same Fluent files as the staff
/// pages.
#[tokio::test]
async fn pages_and_error_pages_in_the_readers_language() -> TestResult {
    use oneclass_i18n::Lang;
    let lake = lake().await?;
    let app = app(&lake);
    let ask = |uri: &str, headers: &[(header::HeaderName, &str)]| {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let request = request.body(Body::empty());
        let app = app.clone();
        async move {
            let response = app.oneshot(request?).await?;
            let status = response.status();
            let body = to_bytes(response.into_body(), 1 << 20).await?;
            Ok::<_, Box<dyn std::error::Error>>((status, String::from_utf8(body.to_vec())?))
        }
    };
    for lang in [Lang::Sn, Lang::Nd] {
        let accept = format!("{}-ZW, en;q=0.5", lang.code());
        let (status, html) = ask("/dash/attendance", &[(header::ACCEPT_LANGUAGE, &accept)]).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(&format!(r#"<html lang="{}">"#, lang.code())), "{html}");
        assert!(html.contains(&lang.t("dash-by_province")), "{html}");
        assert!(!html.contains(&Lang::En.t("dash-by_province")), "{html}");
        let (status, html) =
            ask("/dash/attendance?province=%01Harare", &[(header::ACCEPT_LANGUAGE, &accept)])
                .await?;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains(&lang.t("dash-bad_request")), "{html}");
    }
    // The choice the reader made with the switcher wins over the browser's language.
    let (_, html) = ask(
        "/dash/",
        &[(header::ACCEPT_LANGUAGE, "sn"), (header::COOKIE, "a=b; oneclass_lang=nd")],
    )
    .await?;
    assert!(html.contains(r#"<html lang="nd">"#) && html.contains(&Lang::Nd.t("ind-PTR-name")));
    Ok(())
}

/// The pages as a whole, reviewed as snapshots (`cargo insta review`, or update with
/// `INSTA_UPDATE=always`): any change to what a user sees shows up in the diff. Dates that
/// move with the day the test runs are replaced before comparing.
#[tokio::test]
async fn pages_match_their_snapshots() -> TestResult {
    let lake = lake().await?;
    let app = app(&lake);
    for (name, path) in [
        ("index", "/dash/"),
        ("national", "/dash/attendance"),
        ("province", "/dash/attendance?province=Harare"),
        ("district", "/dash/attendance?province=Harare&district=Harare+Central"),
    ] {
        let (status, html) = get(&app, path).await?;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        insta::with_settings!({
            snapshot_suffix => name,
            filters => vec![(r"\b20\d\d-\d\d-\d\d\b", "[date]"), (r"\b\d{1,2} [A-Z][a-z]+ 20\d\d\b", "[date]")],
        }, {
            insta::assert_snapshot!(html);
        });
    }
    Ok(())
}

/// (year, scope level, scope code, numerator, denominator)
type GoldRow = (i32, &'static str, &'static str, f64, f64);

/// Gold figures of PTR, written as the gold builder would (sex T, all grades):
/// - 2026: H001 30 learners ÷ 2 teachers = 15; H002 4 ÷ 1; B001 3 ÷ 1; Harare Central 30 ÷ 2,
///   Mbare 4 ÷ 1, Bulawayo Central 3 ÷ 1; Harare 34 ÷ 3; Bulawayo 3 ÷ 1; Zimbabwe 37 ÷ 4 = 9.25.
/// - 2025: Zimbabwe 20 ÷ 2 = 10 only.
async fn with_gold(lake: &FixtureLake) -> TestResult {
    let rows: [GoldRow; 11] = [
        (2026, "school", "s-h001", 30.0, 2.0),
        (2026, "school", "s-h002", 4.0, 1.0),
        (2026, "school", "s-b001", 3.0, 1.0),
        (2026, "district", "Harare Central", 30.0, 2.0),
        (2026, "district", "Mbare", 4.0, 1.0),
        (2026, "district", "Bulawayo Central", 3.0, 1.0),
        (2026, "province", "Harare", 34.0, 3.0),
        (2026, "province", "Bulawayo", 3.0, 1.0),
        (2026, "national", "ZW", 37.0, 4.0),
        (2025, "national", "ZW", 20.0, 2.0),
        (2025, "province", "Harare", 20.0, 2.0),
    ];
    write_gold(lake, "PTR", &rows).await
}

/// `rows` of indicator `code` into gold (sex T, all grades, value numerator ÷ denominator).
async fn write_gold(lake: &FixtureLake, code: &str, rows: &[GoldRow]) -> TestResult {
    let n = rows.len();
    let floats = |f: &dyn Fn(&GoldRow) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let batch = RecordBatch::try_new(
        oneclass_warehouse::indicator_schema(),
        vec![
            text(&vec![code; n]),
            Arc::new(Int32Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())),
            text(&rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            text(&rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Arc::new(StringArray::from(vec![None::<&str>; n])),
            text(&vec!["T"; n]),
            floats(&|r| r.3),
            floats(&|r| r.4),
            floats(&|r| r.3 / r.4),
        ],
    )?;
    lake.write_batch("gold/indicators/values", batch, &[]).await?;
    Ok(())
}

#[tokio::test]
async fn indicator_pages_drill_down_by_year_with_small_groups_hidden() -> TestResult {
    let lake = lake().await?;
    with_gold(&lake).await?;
    let app = app(&lake);

    let (status, html) = get(&app, "/dash/indicator?code=PTR").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    let shown = visible(&html);
    assert!(html.contains("Pupil–teacher ratio: Zimbabwe"), "{html}");
    // The latest year, with a link to the other; the nation's own figure and how it is made.
    assert!(html.contains("<strong>2026</strong>"), "{html}");
    assert!(html.contains(r#"<a href="indicator?code=PTR&#38;year=2025">2025</a>"#), "{html}");
    assert!(html.contains("9.2 (37 learners ÷ 4 teachers)"), "{html}");
    assert!(
        html.contains(r#"<a href="indicator?code=PTR&#38;province=Harare">Harare</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<td class="n">34</td><td class="n">34</td><td class="n">3</td><td class="n">11.3</td>"#),
        "{html}"
    );
    // Bulawayo has 3 learners: hidden, and no value of it anywhere.
    assert!(
        shown.contains(
            r#"<td class="n"><5</td><td class="n">–</td><td class="n">–</td><td class="n">–</td>"#
        ),
        "{html}"
    );
    assert!(html.contains("census date"), "the formula is on the page: {html}");

    // Harare's districts: Mbare (4) is small, and with Harare's total shown above, Harare
    // Central is hidden with it.
    let (_, html) = get(&app, "/dash/indicator?code=PTR&province=Harare").await?;
    assert!(html.contains("Pupil–teacher ratio: Harare"), "{html}");
    assert!(!html.contains(">15<") && !html.contains(">30<"), "a hidden figure leaked: {html}");

    // An earlier year keeps the year in every link.
    let (_, html) = get(&app, "/dash/indicator?code=PTR&year=2025").await?;
    assert!(html.contains("10.0 (20 learners ÷ 2 teachers)"), "{html}");
    assert!(
        html.contains(r#"href="indicator?code=PTR&#38;year=2025&#38;province=Harare""#),
        "{html}"
    );

    // The table as CSV, suppressed as on the page.
    let (status, csv) = get(&app, "/dash/indicator?code=PTR&format=csv").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        csv,
        "province,learners,learners,teachers,value\nBulawayo,<5,,,\nHarare,34,34,3,11.3\n"
    );

    for bad in ["/dash/indicator?code=NOPE", "/dash/indicator?code=PTR&year=abc", "/dash/indicator"]
    {
        let (status, _) = get(&app, bad).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    Ok(())
}

#[tokio::test]
async fn an_indicator_page_before_gold_exists_says_so() -> TestResult {
    let lake = lake().await?;
    let (status, html) = get(&app(&lake), "/dash/indicator?code=ATTENDANCE_RATE").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("No figures for this indicator in this area yet."), "{html}");
    Ok(())
}

/// A page's area is checked against the school register: reached with a made-up parent (or
/// none), a district or school page would escape the suppression its real parent applies.
#[tokio::test]
async fn a_page_with_a_made_up_parent_reveals_nothing() -> TestResult {
    let lake = lake().await?;
    with_gold(&lake).await?;
    let app = app(&lake);
    // Harare Central is hidden in Harare's listing (with Mbare beside it), so Avondale's PTR
    // (30 ÷ 2 = 15.0) is hidden on its own page too.
    let (status, html) =
        get(&app, "/dash/indicator?code=PTR&province=Harare&district=Harare+Central&school=s-h001")
            .await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Avondale Primary"), "{html}");
    assert!(!html.contains("15.0") && !html.contains(">30<"), "a hidden figure leaked: {html}");
    for uri in [
        // Another province, no province, another district: each refused, not shown unsuppressed.
        "/dash/indicator?code=PTR&province=Bulawayo&district=Harare+Central&school=s-h001",
        "/dash/indicator?code=PTR&district=Harare+Central&school=s-h001",
        "/dash/indicator?code=PTR&province=Harare&district=Mbare&school=s-h001",
        "/dash/indicator?code=PTR&district=Harare+Central",
        "/dash/indicator?code=PTR&province=Bulawayo&district=Harare+Central",
        "/dash/attendance?district=Harare+Central",
    ] {
        let (status, html) = get(&app, uri).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {html}");
        assert!(!html.contains("15.0") && !html.contains("75.0"), "{uri}: {html}");
    }
    Ok(())
}

/// Schools are shown only to those who may see them (ARCHITECTURE.md): the public sees a
/// district's own figure and none of its schools; a district officer sees the schools of their
/// district and no other's, in the page and its CSV alike; a school's staff see their school;
/// a school's page is 403 to everyone else.
#[tokio::test]
async fn schools_are_shown_only_to_their_area_and_their_staff() -> TestResult {
    let lake = lake().await?;
    with_gold(&lake).await?;
    let central = "/dash/indicator?code=PTR&province=Harare&district=Harare+Central";
    let mbare = "/dash/indicator?code=PTR&province=Harare&district=Mbare";
    let page = |district: &str, rest: &str| format!("{district}{rest}");
    let attendance = "/dash/attendance?province=Harare&district=Harare+Central";

    let public = app_for(&lake, Viewer::Public);
    let (status, html) = get(&public, central).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Pupil–teacher ratio: Harare Central"), "{html}");
    assert!(!html.contains("Avondale") && !html.contains("s-h001"), "{html}");
    assert!(html.contains("shown to the officials of their area"), "{html}");
    let (_, csv) = get(&public, &page(central, "&format=csv")).await?;
    assert!(csv.starts_with("school,") && !csv.contains("Avondale"), "{csv}");
    let (status, _) = get(&public, &page(central, "&school=s-h001")).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html) = get(&public, attendance).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("Avondale") && !html.contains("No attendance"), "{html}");

    let officer = app_for(&lake, Viewer::Official(Area::District("Harare Central".into())));
    let (_, html) = get(&officer, central).await?;
    assert!(html.contains("Avondale Primary") && !html.contains("shown to the officials"));
    let (_, csv) = get(&officer, &page(central, "&format=csv")).await?;
    // (Its figures are hidden: Harare Central is suppressed on Harare's page, see above.)
    assert!(csv.contains("Avondale Primary,"), "{csv}");
    let (status, html) = get(&officer, &page(central, "&school=s-h001")).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (_, html) = get(&officer, attendance).await?;
    assert!(visible(&html).contains("Avondale Primary"), "{html}");
    // Another district of the same province: its figure, none of its schools.
    let (_, html) = get(&officer, mbare).await?;
    assert!(!html.contains("Mbare Primary") && !html.contains("s-h002"), "{html}");
    let (_, csv) = get(&officer, &page(mbare, "&format=csv")).await?;
    assert!(!csv.contains("Mbare Primary"), "{csv}");
    let (status, _) = get(&officer, &page(mbare, "&school=s-h002")).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let province = app_for(&lake, Viewer::Official(Area::Province("Harare".into())));
    let (status, _) = get(&province, &page(mbare, "&school=s-h002")).await?;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(
        &province,
        "/dash/indicator?code=PTR&province=Bulawayo&district=Bulawayo+Central&school=s-b001",
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let staff = app_for(&lake, Viewer::Staff(vec!["s-h002".into()]));
    let (status, _) = get(&staff, &page(mbare, "&school=s-h002")).await?;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&staff, &page(central, "&school=s-h001")).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, html) = get(&staff, central).await?;
    assert!(!html.contains("Avondale"), "{html}");
    Ok(())
}

/// Gold marts of Avondale Primary (s-h001), written as the gold builder would.
/// - enrolment 2026: G1 F 12 M 10; G2 F 3 M 8; G3 F 9 M 9.
/// - attendance, term 2 (the latest; term 1 is not shown): 1 Red (G1), weeks of 11 and 18 May,
///   20 learners, 100 marks each, 90 and 80 attended: the term 85 %; 2 Blue (G2), week of
///   11 May, 3 learners, 15 marks, all attended.
/// - results, term 2, Mathematics: band 3 F 2 learners (marks 70), band 5 M 6 (330), band 8 F
///   7 (595): 15 learners, mean 995 ÷ 15 = 66.3 %; the page's bands <40 2, 40s 0, 50s 6, 60s
///   0, 70+ 7. English: 3 learners in band 6 (195). Term 1 Mathematics is not shown.
async fn with_marts(lake: &FixtureLake) -> TestResult {
    let ints = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
    let int32 = |v: Vec<i32>| Arc::new(Int32Array::from(v)) as ArrayRef;
    let enrolment = [("G1", "F", 12), ("G1", "M", 10), ("G2", "F", 3), ("G2", "M", 8)];
    let enrolment: Vec<_> = enrolment.iter().chain(&[("G3", "F", 9), ("G3", "M", 9)]).collect();
    write(
        lake,
        "gold/marts/enrolment",
        vec![
            ("year", int32(vec![2026; enrolment.len()])),
            ("school_id", text(&vec!["s-h001"; enrolment.len()])),
            ("grade", text(&enrolment.iter().map(|e| e.0).collect::<Vec<_>>())),
            ("age", int32(vec![7; enrolment.len()])),
            ("sex", text(&enrolment.iter().map(|e| e.1).collect::<Vec<_>>())),
            ("learners", ints(enrolment.iter().map(|e| e.2).collect())),
        ],
    )
    .await?;
    // One grade of 2025, for the year picker.
    write(
        lake,
        "gold/marts/enrolment",
        vec![
            ("year", int32(vec![2025])),
            ("school_id", text(&["s-h001"])),
            ("grade", text(&["G1"])),
            ("age", int32(vec![6])),
            ("sex", text(&["F"])),
            ("learners", ints(vec![17])),
        ],
    )
    .await?;
    // (term, class, name, grade, week, learners, marks, attended)
    let weeks = [
        (2, "k1", "1 Red", "G1", "2026-05-11", 20, 100, 90),
        (2, "k1", "1 Red", "G1", "2026-05-18", 20, 100, 80),
        (2, "k2", "2 Blue", "G2", "2026-05-11", 3, 15, 15),
        (1, "k1", "1 Red", "G1", "2026-01-19", 20, 100, 50),
    ];
    write(
        lake,
        "gold/marts/attendance_weekly",
        vec![
            ("year", int32(vec![2026; 4])),
            ("term", int32(weeks.iter().map(|w| w.0).collect())),
            ("school_id", text(&["s-h001"; 4])),
            ("class_id", text(&weeks.map(|w| w.1))),
            ("grade", text(&weeks.map(|w| w.3))),
            ("class_name", text(&weeks.map(|w| w.2))),
            (
                "week",
                deltalake::arrow::compute::cast(
                    &StringArray::from(weeks.map(|w| w.4).to_vec()),
                    &deltalake::arrow::datatypes::DataType::Date32,
                )?,
            ),
            ("learners", ints(weeks.iter().map(|w| w.5).collect())),
            ("marks", ints(weeks.iter().map(|w| w.6).collect())),
            ("attended", ints(weeks.iter().map(|w| w.7).collect())),
            ("absent", ints(weeks.iter().map(|w| w.6 - w.7).collect())),
        ],
    )
    .await?;
    // (term, subject, sex, band, learners, marks total)
    let results = [
        (2, "MAT", "F", 3, 2, 70.0),
        (2, "MAT", "M", 5, 6, 330.0),
        (2, "MAT", "F", 8, 7, 595.0),
        (2, "ENG", "F", 6, 3, 195.0),
        (1, "MAT", "F", 1, 9, 90.0),
    ];
    write(
        lake,
        "gold/marts/results",
        vec![
            ("year", int32(vec![2026; 5])),
            ("term", int32(results.iter().map(|r| r.0).collect())),
            ("school_id", text(&["s-h001"; 5])),
            ("class_id", text(&["k1"; 5])),
            ("grade", text(&["G1"; 5])),
            ("class_name", text(&["1 Red"; 5])),
            ("subject_code", text(&results.map(|r| r.1))),
            ("sex", text(&results.map(|r| r.2))),
            ("band", ints(results.iter().map(|r| r.3).collect())),
            ("learners", ints(results.iter().map(|r| r.4).collect())),
            ("marks_total", Arc::new(Float64Array::from(results.map(|r| r.5).to_vec()))),
        ],
    )
    .await?;
    Ok(())
}

/// A school's overview: beside its district and the nation, enrolment by grade and sex,
/// attendance by class and week, marks by subject; officials see small groups suppressed, the
/// school's staff see them whole (and the link to the learners who need attention), the public
/// nothing.
#[tokio::test]
async fn a_schools_overview_shows_its_figures_to_its_area_and_its_staff() -> TestResult {
    let lake = lake().await?;
    let page = "/dash/school?province=Harare&district=Harare+Central&school=s-h001";
    let officer = app_for(&lake, Viewer::Official(Area::District("Harare Central".into())));
    // Before gold: the page says it has no figures yet.
    let (status, html) = get(&officer, page).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("<h1>Avondale Primary</h1>") && html.contains("No figures yet"),
        "{html}"
    );

    with_gold(&lake).await?;
    with_marts(&lake).await?;
    // PTR of 2026 hides Harare Central, and so Avondale, on the area pages (see the drill-down
    // test): an official sees no figure of Avondale's and none of its tables; its staff do.
    let (status, html) = get(&officer, page).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("too few learners, or to protect a smaller school"), "{html}");
    assert!(!html.contains("1 Red") && !html.contains(">G1<"), "{html}");
    let ptr = r#"<td class="n">–</td><td class="n">–</td><td class="n">9.2</td>"#;
    assert!(html.contains(ptr), "the school and its district hidden, the nation shown: {html}");
    let staff = app_for(&lake, Viewer::Staff(vec!["s-h001".into()]));
    let (_, html) = get(&staff, page).await?;
    assert!(html.contains("1 Red"), "{html}");
    // PTR of 2027 shows every school: the official sees Avondale's tables, small groups hidden.
    let rows: [GoldRow; 9] = [
        (2027, "school", "s-h001", 300.0, 20.0),
        (2027, "school", "s-h002", 100.0, 5.0),
        (2027, "school", "s-b001", 90.0, 3.0),
        (2027, "district", "Harare Central", 300.0, 20.0),
        (2027, "district", "Mbare", 100.0, 5.0),
        (2027, "district", "Bulawayo Central", 90.0, 3.0),
        (2027, "province", "Harare", 400.0, 25.0),
        (2027, "province", "Bulawayo", 90.0, 3.0),
        (2027, "national", "ZW", 490.0, 28.0),
    ];
    write_gold(&lake, "PTR", &rows).await?;
    let cells = |html: &str, row: &str| -> Vec<String> {
        let start = [format!(">{row}</th>"), format!(">{row}</a></th>")]
            .iter()
            .find_map(|p| html.find(p.as_str()))
            .unwrap_or_else(|| panic!("no row {row}: {html}"));
        let end = start + html[start..].find("</tr>").expect("the row's end");
        visible(&html[start..end])
            .split(r#"<td class="n">"#)
            .skip(1)
            .map(|c| c.split('<').next().unwrap_or("").to_owned())
            .map(|c| if c.is_empty() { "<5".to_owned() } else { c })
            .collect()
    };
    let (status, html) = get(&officer, page).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(cells(&html, "Pupil–teacher ratio"), ["15.0", "15.0", "17.5"]);
    assert_eq!(cells(&html, "G1"), ["12", "10", "22"]);
    assert_eq!(cells(&html, "G2"), ["<5", "–", "11"], "a small sex hides both");
    assert_eq!(cells(&html, "1 Red"), ["20", "85.0%", "90.0%", "80.0%"]);
    assert_eq!(cells(&html, "2 Blue"), ["<5", "–", "–", "–"]);
    assert_eq!(cells(&html, "Mathematics"), ["15", "66.3%", "<5", "–", "6", "0", "7"]);
    assert_eq!(cells(&html, "English"), ["<5", "–", "–", "–", "–", "–", "–"]);
    assert!(html.contains("Term 2, 2026") && !html.contains("/app/attention"), "{html}");

    let staff = app_for(&lake, Viewer::Staff(vec!["s-h001".into()]));
    let (status, html) = get(&staff, page).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(cells(&html, "G2"), ["3", "8", "11"]);
    assert_eq!(cells(&html, "2 Blue"), ["3", "100.0%", "100.0%", "–"]);
    assert_eq!(cells(&html, "Mathematics"), ["15", "66.3%", "2", "0", "6", "0", "7"]);
    assert!(html.contains(r#"href="/app/attention?school=s-h001""#), "{html}");
    // The year picker: 2026 shown, 2025 a link to the same place.
    let earlier =
        "school?province=Harare&#38;district=Harare+Central&#38;school=s-h001&#38;year=2025";
    assert!(
        html.contains(&format!(r#"<strong>2026</strong> · <a href="{earlier}">2025</a>"#)),
        "{html}"
    );
    let (_, html) = get(&staff, &format!("{page}&year=2025")).await?;
    assert_eq!(cells(&html, "G1"), ["17", "0", "17"]);

    for viewer in [Viewer::Public, Viewer::Staff(vec!["s-h002".into()])] {
        let (status, _) = get(&app_for(&lake, viewer), page).await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // The school's indicator page links to the overview.
    let (_, html) = get(
        &officer,
        "/dash/indicator?code=PTR&province=Harare&district=Harare+Central&school=s-h001",
    )
    .await?;
    assert!(
        html.contains(
            r#"<a href="school?province=Harare&#38;district=Harare+Central&#38;school=s-h001">"#
        ),
        "{html}"
    );
    Ok(())
}

/// The schools furthest from an area's figure: PQTR 2026 (learners ÷ trained teachers) at
/// Avondale 40 ÷ 4 = 10, Mbare Primary 60 ÷ 2 = 30, Lobengula 60 ÷ 1 = 60, and Zimbabwe
/// 160 ÷ 7 = 22.86: Lobengula +37.1, Avondale −12.9, Mbare Primary +7.1. The ministry sees all
/// three, largest difference first; Harare Central's officer sees Avondale only; the public none.
/// On PTR every school is hidden by a listing above it (see the drill-down test), so none is named.
#[tokio::test]
async fn the_schools_furthest_from_the_norm_respect_scope_and_suppression() -> TestResult {
    let lake = lake().await?;
    with_gold(&lake).await?;
    let rows: [GoldRow; 9] = [
        (2026, "school", "s-h001", 40.0, 4.0),
        (2026, "school", "s-h002", 60.0, 2.0),
        (2026, "school", "s-b001", 60.0, 1.0),
        (2026, "district", "Harare Central", 40.0, 4.0),
        (2026, "district", "Mbare", 60.0, 2.0),
        (2026, "district", "Bulawayo Central", 60.0, 1.0),
        (2026, "province", "Harare", 100.0, 6.0),
        (2026, "province", "Bulawayo", 60.0, 1.0),
        (2026, "national", "ZW", 160.0, 7.0),
    ];
    write_gold(&lake, "PQTR", &rows).await?;
    let listed = |html: &str| -> Vec<String> {
        let Some(start) = html.find("Schools furthest from this figure") else { return Vec::new() };
        let section =
            &html[start..html[start..].find("</table>").map_or(html.len(), |e| start + e)];
        section
            .split("<tr><th scope=\"row\">")
            .skip(1)
            .map(|row| {
                let name = row.split('>').nth(1).and_then(|s| s.split('<').next()).unwrap_or("");
                let last = row.rsplit(r#"<td class="n">"#).next().unwrap_or("");
                format!("{name} {}", last.split('<').next().unwrap_or(""))
            })
            .collect()
    };
    let (status, html) = get(&app(&lake), "/dash/indicator?code=PQTR").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(
        listed(&html),
        ["Lobengula Primary +37.1", "Avondale Primary -12.9", "Mbare Primary +7.1"],
        "{html}"
    );
    let officer = app_for(&lake, Viewer::Official(Area::District("Harare Central".into())));
    let (_, html) = get(&officer, "/dash/indicator?code=PQTR").await?;
    assert_eq!(listed(&html), ["Avondale Primary -12.9"]);
    let (_, html) = get(&app_for(&lake, Viewer::Public), "/dash/indicator?code=PQTR").await?;
    assert!(listed(&html).is_empty(), "{html}");
    let (_, html) = get(&app(&lake), "/dash/indicator?code=PTR").await?;
    assert!(!html.contains("Schools furthest"), "{html}");
    Ok(())
}

/// The term picker: the current term is shown, every other term that has started is a link that
/// keeps the page's place; a past term without marks says so; a half-given term is refused.
#[tokio::test]
async fn the_attendance_page_picks_its_term() -> TestResult {
    let lake = lake().await?;
    let app = app(&lake);
    let (status, html) = get(&app, "/dash/attendance?province=Harare").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<strong>Term 2, 2026</strong>"), "{html}");
    assert!(
        html.contains(
            r#"<a href="attendance?year=2026&#38;term=1&#38;province=Harare">Term 1, 2026</a>"#
        ),
        "{html}"
    );
    let (status, html) = get(&app, "/dash/attendance?province=Harare&year=2026&term=1").await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("<strong>Term 1, 2026</strong>") && html.contains("No attendance"),
        "{html}"
    );
    // The drill-down keeps the term.
    let (_, html) = get(&app, "/dash/attendance?year=2026&term=1").await?;
    assert!(
        html.contains("Term 1, 2026 ·") || html.contains("<strong>Term 1, 2026</strong>"),
        "{html}"
    );
    for bad in ["year=2026", "term=2", "year=2026&term=4", "year=26&term=1"] {
        let (status, _) = get(&app, &format!("/dash/attendance?{bad}")).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    Ok(())
}

/// Early-warning scores and projections, written as `oneclass predict score|project` would:
/// - Avondale Primary (s-h001): 8 learners scored, chances 0.5, 0.4, 0.35, 0.3, 0.1 × 4:
///   expected 1.95, 4 at 30 % or more (shown "<5": a count under five).
/// - Mbare Primary (s-h002): 3 learners (0.9, 0.2, 0.1): suppressed.
/// - Harare Central's projections: 2026 actual 100 primary + 50 secondary; 2027 projected 160
///   (150–170), 4 teachers at a ratio of 40.
async fn with_predictions(lake: &FixtureLake) -> TestResult {
    let floats = |v: Vec<f64>| Arc::new(Float64Array::from(v)) as ArrayRef;
    let ints = |v: Vec<i32>| Arc::new(Int32Array::from(v)) as ArrayRef;
    let day = today_in_harare();
    let scores = [0.5, 0.4, 0.35, 0.3, 0.1, 0.1, 0.1, 0.1, 0.9, 0.2, 0.1];
    let n = scores.len();
    let schools: Vec<String> =
        (0..n).map(|i| if i < 8 { "s-h001" } else { "s-h002" }.to_owned()).collect();
    write(
        lake,
        "gold/predict/scores",
        vec![
            ("academic_year", ints(vec![2026; n])),
            ("as_of", Arc::new(Date32Array::from(vec![day; n]))),
            ("learner_id", strings((0..n).map(|i| format!("l{i}")).collect())),
            ("school_id", strings(schools)),
            ("grade", text(&["G3"; 11])),
            ("score", floats(scores.to_vec())),
            ("rank_in_school", ints((0..n as i32).collect())),
            ("model_version", ints(vec![3; n])),
            ("reasons", text(&["[]"; 11])),
        ],
    )
    .await?;
    let rows = [
        ("G1", 2026, "actual", 100.0, 100.0, 100.0),
        ("F1", 2026, "actual", 50.0, 50.0, 50.0),
        ("G1", 2027, "projected", 160.0, 150.0, 170.0),
    ];
    let m = rows.len();
    write(
        lake,
        "gold/predict/projections",
        vec![
            ("scope_level", text(&["district"; 3])),
            ("scope_code", text(&["Harare Central"; 3])),
            ("year", ints(rows.iter().map(|r| r.1).collect())),
            ("grade", text(&rows.map(|r| r.0))),
            ("kind", text(&rows.map(|r| r.2))),
            ("learners", floats(rows.iter().map(|r| r.3).collect())),
            ("low", floats(rows.iter().map(|r| r.4).collect())),
            ("high", floats(rows.iter().map(|r| r.5).collect())),
            ("target_ptr", floats(vec![40.0; m])),
            ("teachers_needed", floats(rows.iter().map(|r| (r.3 / 40.0f64).ceil()).collect())),
        ],
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_outlook_shows_learners_at_risk_by_school_to_their_area_and_the_projection()
-> TestResult {
    let lake = lake().await?;
    let page = "/dash/outlook?province=Harare&district=Harare+Central";
    // Before anything is scored or projected, the page says so.
    let (status, html) = get(&app(&lake), page).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("No scores yet") && html.contains("No projection yet"), "{html}");

    with_predictions(&lake).await?;
    let officer = app_for(&lake, Viewer::Official(Area::District("Harare Central".into())));
    let (status, html) = get(&officer, page).await?;
    assert_eq!(status, StatusCode::OK, "{html}");
    let shown = visible(&html);
    assert!(shown.contains("Avondale Primary"), "{html}");
    // 8 learners, 1.95 expected, 4 at 30 % or more shown as "<5".
    assert!(
        shown.contains(r#"<td class="n">8</td><td class="n">1.95</td><td class="n"><5</td>"#)
            || shown.contains(r#"<td class="n">8</td><td class="n">2.0</td><td class="n"><5</td>"#),
        "{shown}"
    );
    // The projection: 2026 actual 150, 2027 projected 160 in 150–170, 4 teachers.
    assert!(shown.contains("<th scope=\"row\">2027</th><td>projected</td>"), "{shown}");
    assert!(shown.contains("150–170") && shown.contains(r#"<td class="n">4</td>"#), "{shown}");

    // Mbare's three learners are too few to show; the public sees no school at all.
    let mbare = "/dash/outlook?province=Harare&district=Mbare";
    let (_, html) = get(&app_for(&lake, Viewer::Official(Area::National)), mbare).await?;
    assert!(!html.contains(r#"<td class="n">3</td>"#), "{html}");
    let (_, html) = get(&app_for(&lake, Viewer::Public), page).await?;
    assert!(!html.contains("Avondale") && html.contains("shown to the officials"), "{html}");
    // The province page counts Harare's districts; the index links the page.
    let (_, html) = get(&app(&lake), "/dash/outlook?province=Harare").await?;
    assert!(visible(&html).contains("Harare Central"), "{html}");
    let (_, html) = get(&app(&lake), "/dash/").await?;
    assert!(html.contains(r#"href="outlook""#), "{html}");
    Ok(())
}
