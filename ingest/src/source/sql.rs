//! The SQL side: what the publication lists, the slot's state, each table's columns and key from
//! the catalog, the values older rows read in added columns, and the initial copy of a table as
//! COPY text (`COPY (SELECT …) TO STDOUT`, text format, for `crate::copy_text` to parse with the
//! same value code as the stream).

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};

use crate::config::SourceConfig;
use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::table::{ColumnDef, TableDef, TableName, quote_ident};

/// One entry of `pg_publication_tables`.
#[derive(Debug, Clone)]
pub struct PublishedTable {
    pub table: TableName,
    /// The publication's column list (PostgreSQL 15+), when it has one.
    pub columns: Option<Vec<String>>,
    /// The publication's row filter (PostgreSQL 15+): the snapshot must copy what the stream
    /// would send, no more.
    pub row_filter: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SlotState {
    pub plugin: Option<String>,
    pub database: Option<String>,
    pub confirmed_flush: Option<Lsn>,
}

/// A plain SQL connection as the CDC role, with the text output settings the value parser
/// expects (the same ones the replication connection pins).
pub fn connect(cfg: &SourceConfig) -> BoxFuture<'_, Result<PgConnection, IngestError>> {
    // Boxed (here and below): rustc cannot prove sqlx's executor futures Send across the
    // pipeline's generic lifetimes otherwise, which would make `run` unspawnable.
    let opts = PgConnectOptions::new()
        .host(&cfg.host)
        .port(cfg.port)
        .username(&cfg.user)
        .password(cfg.password.expose_secret())
        .database(&cfg.database)
        .application_name("oneclass-ingest-snapshot")
        .options([("TimeZone", "UTC"), ("DateStyle", "ISO"), ("extra_float_digits", "3")]);
    Box::pin(async move { Ok(PgConnection::connect_with(&opts).await?) })
}

pub fn published_tables<'a>(
    conn: &'a mut PgConnection,
    publication: &'a str,
) -> BoxFuture<'a, Result<Vec<PublishedTable>, IngestError>> {
    Box::pin(async move {
        let listed = oneclass_lake::published_tables(conn, publication).await?;
        Ok(listed
            .into_iter()
            .map(|p| PublishedTable {
                table: TableName::new(p.schema, p.table),
                columns: p.columns,
                row_filter: p.row_filter,
            })
            .collect())
    })
}

pub fn slot_state<'a>(
    conn: &'a mut PgConnection,
    slot: &'a str,
) -> BoxFuture<'a, Result<Option<SlotState>, IngestError>> {
    Box::pin(async move {
        let row = sqlx::query!(
            r#"SELECT plugin::text AS "plugin?", database::text AS "database?",
                      confirmed_flush_lsn::text AS "confirmed_flush?"
                 FROM pg_replication_slots WHERE slot_name = $1"#,
            slot,
        )
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SlotState {
            plugin: row.plugin,
            database: row.database,
            confirmed_flush: row
                .confirmed_flush
                .map(|s| s.parse())
                .transpose()
                .map_err(IngestError::Protocol)?,
        }))
    })
}

/// Runs one or more statements without results (transaction control, SET).
pub fn execute<'a>(
    conn: &'a mut PgConnection,
    sql: &'a str,
) -> BoxFuture<'a, Result<(), IngestError>> {
    Box::pin(async move {
        // A &str without arguments goes over the simple-query protocol, which transaction
        // control and SET TRANSACTION SNAPSHOT need.
        conn.execute(sql).await?;
        Ok(())
    })
}

/// What the rows that existed before a column was added read in it, as PostgreSQL knows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissingValue {
    /// A constant ("fast") default: stored once in `pg_attribute.attmissingval` and read by
    /// every row written before the column existed; nothing about those rows is in the WAL.
    Constant(String),
    /// No default: those rows read null.
    Null,
    /// A default, but no stored value: the table was rewritten (a volatile default such as
    /// `gen_random_uuid()`, or a later rewrite such as VACUUM FULL), which logical replication
    /// does not carry; the values are in the table only.
    Unknown,
}

/// The [`MissingValue`] of each of `columns` of `table` (columns no longer there are left out),
/// read from the catalog as the CDC role (`attmissingval` is readable by every role). The
/// element's text form comes from the connection's output settings, the same as COPY's.
pub fn missing_values<'a>(
    conn: &'a mut PgConnection,
    table: &'a TableName,
    columns: &'a [String],
) -> BoxFuture<'a, Result<Vec<(String, MissingValue)>, IngestError>> {
    Box::pin(async move {
        // attmissingval is an anyarray of one element: through text[] its element comes back
        // in the type's own text form, unquoted.
        let rows = sqlx::query!(
            r#"SELECT a.attname::text AS "name!", a.atthasmissing AS has_missing,
                      (a.attmissingval::text::text[])[1] AS "missing?",
                      d.adbin IS NOT NULL AS "has_default!"
                 FROM pg_attribute a
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attrelid = to_regclass($1) AND a.attname = ANY($2::text[]::name[])
                  AND a.attnum > 0 AND NOT a.attisdropped"#,
            table.quoted(),
            columns,
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let value = match (row.has_missing, row.missing) {
                (true, Some(text)) => MissingValue::Constant(text),
                _ if row.has_default => MissingValue::Unknown,
                _ => MissingValue::Null,
            };
            out.push((row.name, value));
        }
        Ok(out)
    })
}

/// The current transaction's start time in Unix microseconds: the snapshot rows' `_commit_ts`.
pub fn transaction_start_micros(
    conn: &mut PgConnection,
) -> BoxFuture<'_, Result<i64, IngestError>> {
    Box::pin(async move {
        Ok(sqlx::query_scalar!(
            r#"SELECT (extract(epoch FROM now()) * 1000000)::int8 AS "micros!""#
        )
        .fetch_one(conn)
        .await?)
    })
}

/// Columns in attribute order, as pgoutput sends them: generated columns are not published,
/// and the key is the replica identity (primary key, chosen index, or every column for FULL).
pub fn table_def<'a>(
    conn: &'a mut PgConnection,
    published: &'a PublishedTable,
) -> BoxFuture<'a, Result<TableDef, IngestError>> {
    Box::pin(async move {
        let rows = sqlx::query!(
            r#"SELECT a.attname::text AS "name!", a.atttypid::int8 AS "type_oid!", a.atttypmod,
                      (c.relreplident = 'f' OR coalesce(a.attnum = ANY (i.indkey::int2[]), false))
                        AS "key!"
                 FROM pg_attribute a
                 JOIN pg_class c ON c.oid = a.attrelid
                 LEFT JOIN pg_index i ON i.indrelid = c.oid
                      AND ((c.relreplident = 'd' AND i.indisprimary)
                           OR (c.relreplident = 'i' AND i.indisreplident))
                WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.attgenerated = ''
                ORDER BY a.attnum"#,
            published.table.quoted(),
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut columns = Vec::with_capacity(rows.len());
        for r in rows {
            if published.columns.as_ref().is_some_and(|list| !list.contains(&r.name)) {
                continue;
            }
            columns.push(ColumnDef {
                name: r.name,
                type_oid: u32::try_from(r.type_oid).unwrap_or(0),
                typmod: r.atttypmod,
                key: r.key,
            });
        }
        if columns.is_empty() {
            return Err(IngestError::Snapshot {
                table: published.table.to_string(),
                message: "no columns".into(),
            });
        }
        Ok(TableDef { table: published.table.clone(), columns })
    })
}

/// Starts copying the table's published rows inside whatever transaction `conn` is in: the
/// raw COPY text stream, for a [`crate::copy_text::CopyTextParser`] to read.
pub fn copy_out<'a>(
    conn: &'a mut PgConnection,
    published: &'a PublishedTable,
    def: &'a TableDef,
) -> BoxFuture<'a, Result<BoxStream<'a, Result<Bytes, sqlx::Error>>, IngestError>> {
    Box::pin(async move {
        let columns: Vec<String> = def.columns.iter().map(|c| quote_ident(&c.name)).collect();
        let filter =
            published.row_filter.as_ref().map(|f| format!(" WHERE {f}")).unwrap_or_default();
        let sql = format!(
            "COPY (SELECT {} FROM {}{filter}) TO STDOUT",
            columns.join(", "),
            published.table.quoted()
        );
        Ok(conn.copy_out_raw(&sql).await?)
    })
}

/// Exports the current transaction's snapshot (`pg_export_snapshot()`), for other connections
/// to copy under it while this transaction stays open.
pub fn export_snapshot(conn: &mut PgConnection) -> BoxFuture<'_, Result<String, IngestError>> {
    Box::pin(async move {
        Ok(sqlx::query_scalar!(r#"SELECT pg_export_snapshot() AS "name!""#).fetch_one(conn).await?)
    })
}

/// Each table's estimated rows (the planner's and the statistics' estimate, the larger; 0 when
/// unknown), for copying the largest first. Takes no lock: a table locked by someone else does
/// not hold up the others.
pub fn table_sizes<'a>(
    conn: &'a mut PgConnection,
    tables: &'a [PublishedTable],
) -> BoxFuture<'a, Result<Vec<i64>, IngestError>> {
    Box::pin(async move {
        let names: Vec<String> = tables.iter().map(|p| p.table.quoted()).collect();
        Ok(sqlx::query_scalar!(
            r#"SELECT coalesce(greatest(c.reltuples::int8, s.n_live_tup), 0)::int8 AS "rows!"
                 FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
                 LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
                 LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
                ORDER BY t.i"#,
            &names,
        )
        .fetch_all(conn)
        .await?)
    })
}

/// A connection in a REPEATABLE READ, read-only transaction under the exported snapshot `name`.
pub fn connect_under(
    cfg: &SourceConfig,
    name: String,
) -> BoxFuture<'_, Result<PgConnection, IngestError>> {
    Box::pin(async move {
        let mut conn = connect(cfg).await?;
        execute(&mut conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
        let stmt = format!("SET TRANSACTION SNAPSHOT '{}'", name.replace('\'', "''"));
        execute(&mut conn, &stmt).await?;
        execute(&mut conn, "SET LOCAL idle_in_transaction_session_timeout = 0").await?;
        Ok(conn)
    })
}
