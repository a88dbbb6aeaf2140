//! Who is looking at a dashboard, which decides whether schools are shown. Everyone sees the
//! nation, the provinces and the districts (with small groups suppressed); a school's figures,
//! in a district's listing or on its own page, only officials whose area holds the school and
//! the school's own staff (ARCHITECTURE.md, "Who sees what"). The application tells the
//! dashboards who is signed in (see [`WhoIsLooking`]); the dashboards never read a token.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use oneclass_warehouse::{Area, Warehouse};

/// The person behind a request, as far as dashboards care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// Not signed in, or signed in with a role that has no area (parents, analysts): no school.
    Public,
    /// A ministry, province or district official: every school of their area.
    Official(Area),
    /// A school's staff: their own schools (by id).
    Staff(Vec<String>),
}

impl Viewer {
    /// Whether this viewer may see the figures of `school`, which lies in `district` of
    /// `province` (the page's place, already checked against the school register).
    pub fn sees_school(&self, province: Option<&str>, district: &str, school: &str) -> bool {
        match self {
            Viewer::Public => false,
            Viewer::Official(Area::National) => true,
            Viewer::Official(Area::Province(p)) => province == Some(p.as_str()),
            Viewer::Official(Area::District(d)) => d == district,
            Viewer::Staff(schools) => schools.iter().any(|s| s == school),
        }
    }
}

/// How the application names the viewer of a request (from its session cookie or bearer
/// token); a request it cannot place is [`Viewer::Public`].
/// Asynchronous, since whether a session is still live is asked of the database.
pub type WhoIsLooking = Arc<
    dyn Fn(HeaderMap) -> std::pin::Pin<Box<dyn std::future::Future<Output = Viewer> + Send>>
        + Send
        + Sync,
>;

/// What the dashboards' handlers share.
#[derive(Clone)]
pub(crate) struct DashState {
    pub warehouse: Arc<Warehouse>,
    pub who: WhoIsLooking,
}

impl FromRef<DashState> for Arc<Warehouse> {
    fn from_ref(state: &DashState) -> Self {
        state.warehouse.clone()
    }
}

impl FromRequestParts<DashState> for Viewer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &DashState) -> Result<Self, Infallible> {
        Ok((state.who)(parts.headers.clone()).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schools_are_seen_by_their_area_and_their_staff_only() {
        let seen = |viewer: &Viewer| {
            [
                viewer.sees_school(Some("Harare"), "Harare Central", "s-a"),
                viewer.sees_school(Some("Harare"), "Harare South", "s-b"),
                viewer.sees_school(Some("Bulawayo"), "Bulawayo Central", "s-c"),
            ]
        };
        assert_eq!(seen(&Viewer::Public), [false, false, false]);
        assert_eq!(seen(&Viewer::Official(Area::National)), [true, true, true]);
        assert_eq!(seen(&Viewer::Official(Area::Province("Harare".into()))), [true, true, false]);
        let district = Viewer::Official(Area::District("Harare Central".into()));
        assert_eq!(seen(&district), [true, false, false]);
        assert_eq!(seen(&Viewer::Staff(vec!["s-b".into()])), [false, true, false]);
    }
}
