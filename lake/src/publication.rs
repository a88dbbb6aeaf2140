//! The tables the lake mirrors: what the PostgreSQL publication lists (ADR 0001). Ingest copies
//! and streams them, the demo waits for them, the benchmarks count them: all ask here.

use sqlx::PgConnection;

use crate::error::LakeResult;

/// One entry of `pg_publication_tables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTable {
    pub schema: String,
    pub table: String,
    /// The publication's column list (PostgreSQL 15+), when it has one.
    pub columns: Option<Vec<String>>,
    /// The publication's row filter (PostgreSQL 15+): a copy must take what the stream would
    /// send, no more.
    pub row_filter: Option<String>,
}

/// The tables `publication` lists, by schema and name.
pub async fn published_tables(
    conn: &mut PgConnection,
    publication: &str,
) -> LakeResult<Vec<PublishedTable>> {
    let version =
        sqlx::query_scalar!(r#"SELECT current_setting('server_version_num')::int4 AS "version!""#)
            .fetch_one(&mut *conn)
            .await?;
    // Column lists and row filters exist from PostgreSQL 15 on.
    let tables = if version >= 150_000 {
        sqlx::query_as!(
            PublishedTable,
            r#"SELECT schemaname::text AS "schema!", tablename::text AS "table!",
                      attnames::text[] AS columns, rowfilter::text AS row_filter
                 FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2"#,
            publication,
        )
        .fetch_all(&mut *conn)
        .await?
    } else {
        sqlx::query_as!(
            PublishedTable,
            r#"SELECT schemaname::text AS "schema!", tablename::text AS "table!",
                      NULL::text[] AS columns, NULL::text AS row_filter
                 FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2"#,
            publication,
        )
        .fetch_all(&mut *conn)
        .await?
    };
    Ok(tables)
}
