//! A real browser for tests and benchmarks: Debian's Chromium driven over WebDriver by our own
//! chromedriver, with Chromium's network emulation (a 3G profile), and what a page cost: the
//! bytes on the wire, the requests it made and to which hosts, and when its largest content
//! painted.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde::Deserialize;
use serde_json::json;

/// A chromedriver of our own on a free port, stopped (with every Chromium it started) on drop.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub fn start() -> anyhow::Result<Driver> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context(
                "starting chromedriver (Debian: `apt-get install -y chromium chromium-driver`; \
                 .ci/run installs them)",
            )?;
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                bail!("chromedriver did not start");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Driver { child, url: format!("http://127.0.0.1:{port}") })
    }

    /// A new headless Chromium session with a `window` of (width, height), making no request
    /// beyond what the pages ask for.
    pub async fn browser(&self, window: (u32, u32)) -> anyhow::Result<Client> {
        self.browser_in(window, "en-US,en").await
    }

    /// [`browser`](Self::browser), whose user reads `accept_language` (Chromium's
    /// `Accept-Language`).
    pub async fn browser_in(
        &self,
        window: (u32, u32),
        accept_language: &str,
    ) -> anyhow::Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync", "--no-first-run",
                            format!("--window-size={},{}", window.0, window.1)],
                   "prefs": {"intl.accept_languages": accept_language}}),
        );
        Ok(ClientBuilder::rustls()?.capabilities(caps).connect(&self.url).await?)
    }
}

/// A network to emulate: Chromium's network conditions (ChromeDriver's extension command).
#[derive(Debug, Clone, Copy)]
pub struct Network {
    pub latency_ms: u32,
    pub down_bits_per_second: u32,
    pub up_bits_per_second: u32,
}

impl Network {
    /// The 3G profile of the acceptance checks: 1.6 Mbit/s down, 750 kbit/s up, 150 ms round
    /// trip (Lighthouse's "slow 4G"/"regular 3G" figures).
    pub const THREE_G: Network =
        Network { latency_ms: 150, down_bits_per_second: 1_600_000, up_bits_per_second: 750_000 };
}

#[derive(Debug)]
struct SetNetwork(Network);

impl WebDriverCompatibleCommand for SetNetwork {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/chromium/network_conditions", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let n = self.0;
        let body = json!({"network_conditions": {
            "offline": false,
            "latency": n.latency_ms,
            "download_throughput": n.down_bits_per_second / 8,
            "upload_throughput": n.up_bits_per_second / 8,
        }});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Emulates `network` in the browser from now on.
pub async fn emulate(client: &Client, network: Network) -> anyhow::Result<()> {
    client.issue_cmd(SetNetwork(network)).await.context("setting the network conditions")?;
    Ok(())
}

/// What one page cost.
#[derive(Debug, Clone, Deserialize)]
pub struct PageCost {
    /// The page's own response as sent (compressed), headers excluded.
    pub body_bytes: u64,
    /// The same, uncompressed.
    pub html_bytes: u64,
    /// Every request the page made after the document itself (style sheets, scripts, images).
    pub requests: Vec<String>,
    /// Those to another host than the page's.
    pub foreign: Vec<String>,
    /// When the largest content painted, from the start of navigation (ms).
    pub lcp_ms: Option<f64>,
    /// The page's `<html lang>`.
    #[serde(default)]
    pub lang: String,
    /// The words on the page, as a reader sees them.
    #[serde(default)]
    pub text: String,
}

const MEASURE: &str = r#"
const done = arguments[arguments.length - 1];
const nav = performance.getEntriesByType('navigation')[0];
const resources = performance.getEntriesByType('resource').map(r => r.name);
const here = location.host;
const foreign = resources.filter(n => { try { return new URL(n).host !== here; } catch (e) { return true; } });
const finish = (lcp) => done({
  body_bytes: nav ? nav.encodedBodySize : 0, html_bytes: nav ? nav.decodedBodySize : 0,
  requests: resources, foreign: foreign, lcp_ms: lcp,
  lang: document.documentElement.lang || '', text: document.body ? document.body.innerText : '' });
let seen = null;
try {
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    if (entries.length) { seen = entries[entries.length - 1].startTime; }
  }).observe({type: 'largest-contentful-paint', buffered: true});
} catch (e) {}
setTimeout(() => finish(seen), 300);
"#;

/// Opens `url` (after the browser is signed in as needed) and measures it.
pub async fn measure(client: &Client, url: &str) -> anyhow::Result<PageCost> {
    client.goto(url).await.with_context(|| format!("opening {url}"))?;
    let value = client.execute_async(MEASURE, vec![]).await.context("reading the page's costs")?;
    Ok(serde_json::from_value(value)?)
}

/// Signs in on a page's form (`/app/login` or `/portal/login`) and waits to land elsewhere.
pub async fn sign_in(
    client: &Client,
    base: &str,
    form_path: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<()> {
    client.delete_all_cookies().await.ok();
    client.goto(&format!("{base}{form_path}")).await?;
    let form = client.form(Locator::Css("form[action$='login']")).await?;
    let field = if form_path.starts_with("/portal") { "phone" } else { "username" };
    form.set_by_name(field, username).await?;
    form.set_by_name("password", password).await?;
    form.submit().await?;
    let started = Instant::now();
    while client.current_url().await?.path() == form_path {
        if started.elapsed() > Duration::from_secs(20) {
            bail!("signing in as {username} did not finish");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The `href` of the first element matching `css` on the current page, if any.
pub async fn first_link(client: &Client, css: &str) -> Option<String> {
    let found = client.find(Locator::Css(css)).await.ok()?;
    found.attr("href").await.ok().flatten()
}

/// A dashboard page's own link (relative to `/dash/`) as a path.
fn dash(href: &str) -> String {
    format!("/dash/{}", href.replace("&amp;", "&"))
}

/// An account to sign in with.
pub struct Login {
    pub role: String,
    pub username: String,
    pub password: String,
}

impl Login {
    /// Of the demo accounts, as (role, username, password), those whose pages the walk visits.
    pub fn for_pages<'a>(all: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Vec<Login> {
        const ROLES: [&str; 7] =
            ["teacher", "registrar", "bursar", "school_head", "analyst", "parent", "ministry"];
        all.into_iter()
            .filter(|(role, _, _)| ROLES.contains(role))
            .map(|(role, username, password)| Login {
                role: role.to_owned(),
                username: username.to_owned(),
                password: password.to_owned(),
            })
            .collect()
    }
}

/// A page visited, as whom, and what it cost.
pub struct Visited {
    pub role: String,
    pub page: &'static str,
    pub path: String,
    pub cost: PageCost,
}

/// Visits every staff page and every parent page the demo accounts reach (the sign-in forms,
/// each role's landing page, a register, a mark sheet, finding a learner, a learner's page, a
/// report card, messages with guardians, admitting a learner, announcements, the attention list, the catalog, and the
/// parent's home, child and password pages, and an official's dashboards down to a school's
/// overview), measuring each. Pages are found by their links, as
/// a user finds them.
pub async fn visit_every_page(
    client: &Client,
    base: &str,
    logins: &[Login],
) -> anyhow::Result<Vec<Visited>> {
    let mut out = Vec::new();
    let mut visit = async |role: &str, page: &'static str, path: &str| -> anyhow::Result<()> {
        let cost = measure(client, &format!("{base}{path}")).await?;
        out.push(Visited { role: role.to_owned(), page, path: path.to_owned(), cost });
        Ok(())
    };
    client.delete_all_cookies().await.ok();
    visit("anyone", "staff sign-in", "/app/login").await?;
    visit("anyone", "parent sign-in", "/portal/login").await?;
    for login in logins {
        let role = login.role.as_str();
        if role == "parent" {
            sign_in(client, base, "/portal/login", &login.username, &login.password).await?;
            visit(role, "parent home", "/portal/").await?;
            if let Some(child) = first_link(client, "a[href^='/portal/children/']").await {
                visit(role, "a child", &child).await?;
                if let Some(messages) = first_link(client, "a[href$='/messages']").await {
                    visit(role, "messages with the school", &messages).await?;
                }
            }
            visit(role, "set a password", "/portal/password").await?;
            continue;
        }
        sign_in(client, base, "/app/login", &login.username, &login.password).await?;
        visit(role, "landing page", "/app/").await?;
        match role {
            "teacher" => {
                let register = first_link(client, "a[href$='/register']").await;
                let marks = first_link(client, "a[href$='/marks']").await;
                if let Some(register) = register {
                    visit(role, "register", &register).await?;
                    let name = client.find(Locator::Css("tbody td")).await?.text().await?;
                    let surname = name.split(',').next().unwrap_or("a").trim().to_owned();
                    visit(role, "find a learner", &format!("/app/learners?q={surname}")).await?;
                    if let Some(learner) = first_link(client, "table tbody a").await {
                        visit(role, "a learner", &learner).await?;
                        let card = first_link(client, "a[href*='report-card']").await;
                        let messages = first_link(client, "a[href$='/messages']").await;
                        if let Some(card) = card {
                            visit(role, "report card", &card.replace("&amp;", "&")).await?;
                        }
                        if let Some(messages) = messages {
                            visit(role, "messages with guardians", &messages).await?;
                        }
                    }
                }
                if let Some(marks) = marks {
                    visit(role, "marks", &marks).await?;
                    if let Some(sheet) = first_link(client, "a[href^='/app/assessments/']").await {
                        visit(role, "mark sheet", &sheet).await?;
                    }
                }
            }
            "registrar" => visit(role, "admit a learner", "/app/learners/new").await?,
            "bursar" => {
                visit(role, "find a learner", "/app/learners?q=a").await?;
                if let Some(learner) = first_link(client, "table tbody a").await {
                    visit(role, "a learner, with fees", &learner).await?;
                }
            }
            "school_head" => {
                visit(role, "announcements", "/app/announcements").await?;
                visit(role, "attention", "/app/attention").await?;
            }
            "analyst" => visit(role, "catalog", "/app/catalog").await?,
            "ministry" => {
                visit(role, "dashboards", "/dash/").await?;
                visit(role, "attendance dashboard", "/dash/attendance").await?;
                visit(role, "an indicator, nationally", "/dash/indicator?code=PTR").await?;
                // The school furthest from the national figure, then its overview.
                if let Some(school) = first_link(client, "table a[href*='school=']").await {
                    visit(role, "an indicator, at a school", &dash(&school)).await?;
                    if let Some(overview) = first_link(client, "a[href^='school?']").await {
                        visit(role, "a school's overview", &dash(&overview)).await?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
