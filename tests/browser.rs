//! The dashboards in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) driven over WebDriver, drilling from the national page to one school in
//! four clicks, signed in as a ministry official. Each level's screenshot is checked to be a picture; with `ONECLASS_SCREENSHOTS=DIR`
//! they are also written there (`docs/screenshots` holds the ones in the guides).

mod support;

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use support::TestApp;

/// A chromedriver of our own on a free port, stopped with the test.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    /// Stops chromedriver and every Chromium it started (its process group), even when the test
    /// failed before closing its session.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    let port =
        TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver runs (Debian: `apt-get install -y chromium chromium-driver`; .ci/run \
             installs them)",
        );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver { child, url: format!("http://127.0.0.1:{port}") }
}

async fn browser(driver: &Driver) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--window-size=1000,1100"]}),
    );
    ClientBuilder::rustls()
        .expect("a TLS-capable WebDriver client")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// The page's breadcrumbs, top first.
async fn crumbs(client: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for item in client.find_all(Locator::Css("nav.crumbs li")).await.expect("crumbs") {
        out.push(item.text().await.expect("crumb text"));
    }
    out
}

/// Clicks the first group of the page's table and waits for the next level's page.
async fn drill(client: &Client, depth: usize) -> String {
    let link = client.find(Locator::Css("table tbody tr th a")).await.expect("a group link");
    let label = link.text().await.expect("link text");
    link.click().await.expect("click");
    let started = Instant::now();
    while crumbs(client).await.len() != depth {
        assert!(started.elapsed() < Duration::from_secs(20), "the level-{depth} page did not load");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    label
}

/// A screenshot of the page: a PNG, kept under `ONECLASS_SCREENSHOTS` when it is set.
async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2_000, "{name}: not a picture");
    if let Some(dir) = std::env::var_os("ONECLASS_SCREENSHOTS").map(PathBuf::from) {
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_official_drills_from_the_nation_to_one_school_in_four_clicks() {
    let app = TestApp::spawn().await;
    let token = app.token("analyst").await;
    app.wait_for_snapshot(&token, &["platform.schools", "sis.enrolments", "staff.staff"]).await;
    oneclass::app::warehouse(&app.settings).rebuild_gold(|_, _, _| {}).await.expect("gold");
    let driver = chromedriver();
    let client = browser(&driver).await;

    // Schools are shown to the officials of their area: sign in as the ministry first.
    client.goto(&format!("{}/app/login", app.base)).await.expect("the sign-in page");
    let form = client.form(Locator::Css("form")).await.expect("the sign-in form");
    form.set_by_name("username", &app.username("ministry")).await.expect("username");
    form.set_by_name("password", support::DEMO_PASSWORD).await.expect("password");
    form.submit().await.expect("sign in");
    let started = Instant::now();
    while client.current_url().await.expect("url").path() != "/app/" {
        assert!(started.elapsed() < Duration::from_secs(20), "sign-in did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.goto(&format!("{}/dash/", app.base)).await.expect("the dashboards");
    screenshot(&client, "dash-0-index").await;
    // 1: the indicator, nationally.
    client
        .find(Locator::Css("a[href='indicator?code=ATTENDANCE_RATE']"))
        .await
        .expect("the attendance rate on the index")
        .click()
        .await
        .expect("click");
    let started = Instant::now();
    while crumbs(&client).await.len() != 1 {
        assert!(started.elapsed() < Duration::from_secs(20), "the national page did not load");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&client, "dash-1-national").await;
    // 2, 3, 4: a province, one of its districts, one of its schools.
    let province = drill(&client, 2).await;
    screenshot(&client, "dash-2-province").await;
    let district = drill(&client, 3).await;
    screenshot(&client, "dash-3-district").await;
    let school = drill(&client, 4).await;
    screenshot(&client, "dash-4-school").await;

    assert_eq!(
        crumbs(&client).await,
        vec!["Zimbabwe".to_owned(), province, district, school.clone()]
    );
    let heading = client.find(Locator::Css("h1")).await.expect("h1").text().await.expect("text");
    assert!(heading.contains(&school), "the school's page: {heading}");
    let body = client.find(Locator::Css("table")).await.expect("table").text().await.expect("text");
    assert!(body.contains("Girls") && body.contains("Boys"), "the school by sex: {body}");
    // The school's figure is gold's.
    let (school_id, value): (String, f64) = {
        let url = client.current_url().await.expect("url");
        let id = url
            .query_pairs()
            .find(|(k, _)| k == "school")
            .map(|(_, v)| v.into_owned())
            .expect("the school's id in the address");
        let rows = app
            .sql(
                &token,
                &format!(
                    "SELECT value FROM gold.indicators.values WHERE indicator = 'ATTENDANCE_RATE' \
                     AND scope_level = 'school' AND scope_code = '{id}' AND sex = 'T' \
                     ORDER BY year DESC LIMIT 1"
                ),
            )
            .await;
        (id, rows[0]["value"].as_f64().expect("a rate"))
    };
    let total = client.find(Locator::Css("p.total strong")).await.expect("total");
    let shown = total.text().await.expect("text");
    assert!(shown.starts_with(&format!("{value:.1}")), "{school_id}: {shown} is not {value:.1}");
    client.close().await.expect("close the browser");
    app.stop().await;
}
