//! The named queries of `queries/`, embedded at compile time by `build.rs`: dashboards and gold
//! models run these by name and never assemble SQL themselves.

include!(concat!(env!("OUT_DIR"), "/named_queries.rs"));

/// The SQL text of the named query, if there is one.
pub(crate) fn sql(name: &str) -> Option<&'static str> {
    NAMED_QUERIES.iter().find(|(n, _)| *n == name).map(|(_, sql)| *sql)
}

/// The names of all embedded queries, sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    NAMED_QUERIES.iter().map(|(name, _)| *name)
}
