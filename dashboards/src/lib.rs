//! Dashboards for officials, leaders and the public: server-rendered pages under `/dash` with
//! inline SVG charts, built only from the warehouse's named queries, with small cells suppressed.

mod area;
mod attendance;
pub mod chart;
mod error;
pub mod i18n;
mod indicators;
mod norm;
mod outlook;
mod results;
mod school;
mod viewer;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::get;
use oneclass_warehouse::Warehouse;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use area::MIN_LEARNERS;
pub use error::DashError;
pub use viewer::{Viewer, WhoIsLooking};

use crate::i18n::Text;

/// Pages carry their own CSS and no scripts; forbidding everything else keeps an injected tag
/// inert even if escaping were ever missed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The dashboards, under `/dash`; `who` names the viewer of each request (see [`Viewer`]).
pub fn router(warehouse: Arc<Warehouse>, who: WhoIsLooking) -> Router {
    Router::new()
        // Pages link relative to `/dash/`, so the bare prefix must not serve them itself.
        .route("/dash", get(|| async { Redirect::permanent("/dash/") }))
        .route("/dash/", get(index))
        .route("/dash/attendance", get(attendance::page))
        .route("/dash/indicator", get(indicators::page))
        .route("/dash/school", get(school::page))
        .route("/dash/outlook", get(outlook::page))
        // Innermost: pages and error pages are rendered inside the request's language.
        .layer(axum::middleware::from_fn(i18n::layer))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        // A page depends on who is signed in: no shared cache may keep one for another viewer.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ))
        .layer(CompressionLayer::new())
        .with_state(viewer::DashState { warehouse, who })
}

struct DashboardLink {
    href: &'static str,
    title: &'static str,
    summary: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    t: &'static Text,
    dashboards: Vec<DashboardLink>,
    /// (code, name) of each gold indicator, for links to its page.
    indicators: Vec<(&'static str, &'static str)>,
}

async fn index() -> IndexPage {
    let t = i18n::text();
    IndexPage {
        t,
        dashboards: vec![
            DashboardLink {
                href: "attendance",
                title: t.attendance,
                summary: t.attendance_summary,
            },
            DashboardLink { href: "outlook", title: t.outlook, summary: t.outlook_summary },
        ],
        indicators: t.indicator_texts.iter().map(|i| (i.code, i.name)).collect(),
    }
}
