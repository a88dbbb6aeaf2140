//! Dashboard failures as small pages with the right status: a bad address is the visitor's 400
//! with a reason; anything else is logged with its cause and shown as a generic 500 (or 503 when
//! the warehouse is only overloaded), never with internals.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use oneclass_warehouse::WarehouseError;

use crate::i18n::{self, Text};

#[derive(Debug, thiserror::Error)]
pub enum DashError {
    /// A query parameter the visitor sent cannot be used; the text is shown to them.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The page is one the viewer may not see (a school outside their area); the text says
    /// who may.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("warehouse: {0}")]
    Warehouse(#[from] WarehouseError),
    /// A named query's result lacks a column this page reads: the SQL and the page disagree.
    #[error("named query {query} has no usable column {column}")]
    Shape { query: &'static str, column: &'static str },
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: &'static Text,
    title: &'a str,
    detail: &'a str,
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        let t = i18n::text();
        let (status, title, detail) = match &self {
            DashError::BadRequest(reason) => {
                (StatusCode::BAD_REQUEST, t.bad_request, reason.as_str())
            }
            DashError::Forbidden(reason) => (StatusCode::FORBIDDEN, t.forbidden, reason.as_str()),
            DashError::Warehouse(
                WarehouseError::Timeout(_) | WarehouseError::ResourcesExhausted(_),
            ) => {
                tracing::warn!(error = %self, "dashboard query over its limits");
                (StatusCode::SERVICE_UNAVAILABLE, t.server_error, t.server_error_detail)
            }
            _ => {
                tracing::error!(error = %self, "dashboard failed");
                (StatusCode::INTERNAL_SERVER_ERROR, t.server_error, t.server_error_detail)
            }
        };
        html_page(status, &ErrorPage { t, title, detail })
    }
}

/// Renders a page with a status; a template that fails to render is logged and answered plainly.
pub(crate) fn html_page(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "dashboard template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    }
}
