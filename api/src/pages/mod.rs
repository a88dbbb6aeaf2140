//! Staff pages under `/app`: plain HTML forms rendered on the server (askama), no scripts, a few
//! KB a page for phones on 2G/3G. The pages call the same functions as the JSON API, so rules,
//! scoping and the audit are the API's; a form's errors come back on the form, field by field.

mod announce;
mod home;
mod kit;
mod learners;
mod marks;
mod messages;
mod portal;
mod register;
mod session;

use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/lang/{code}", axum::routing::get(kit::choose_language))
        .merge(session::router())
        .merge(home::router())
        .merge(register::router())
        .merge(marks::router())
        .merge(learners::router())
        .merge(announce::router())
        .merge(portal::router())
        .merge(messages::router())
}
