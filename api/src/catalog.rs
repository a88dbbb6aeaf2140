//! `GET /api/v1/sql/catalog` and `/app/catalog`: every table and column an analyst may read,
//! with what it means. Generated, never written by hand: the tables and columns are the
//! warehouse's as this analyst's queries see them, the meanings PostgreSQL's comments on the
//! source tables (`COMMENT ON`, kept with the migrations) and the warehouse's own for what the
//! lake adds.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use oneclass_core::types::Role;
use oneclass_warehouse::{Access, meanings};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::sql::area_of;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sql_catalog))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Catalog {
    pub tables: Vec<CatalogTable>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogTable {
    /// `layer.schema.table`, as SQL names it.
    pub name: String,
    pub meaning: Option<String>,
    pub columns: Vec<CatalogColumn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogColumn {
    pub name: String,
    /// The column's SQL type.
    #[serde(rename = "type")]
    pub kind: String,
    pub meaning: Option<String>,
}

/// The catalog `user` (an analyst) reads.
pub(crate) async fn catalog_of(state: &AppState, user: &AuthUser) -> ApiResult<Catalog> {
    user.require(&[Role::Analyst])?;
    let tables = state.warehouse.tables(&Access::Analyst { area: area_of(user) }).await?;
    let table_notes: HashMap<(String, String), String> = sqlx::query!(
        r#"SELECT n.nspname AS "schema!", c.relname AS "table!",
                  obj_description(c.oid, 'pg_class') AS "meaning!"
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND obj_description(c.oid, 'pg_class') IS NOT NULL"#
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|r| ((r.schema, r.table), r.meaning))
    .collect();
    let column_notes: HashMap<(String, String, String), String> = sqlx::query!(
        r#"SELECT n.nspname AS "schema!", c.relname AS "table!", a.attname AS "column!",
                  col_description(c.oid, a.attnum) AS "meaning!"
           FROM pg_catalog.pg_attribute a
           JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE a.attnum > 0 AND NOT a.attisdropped
             AND col_description(c.oid, a.attnum) IS NOT NULL"#
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|r| ((r.schema, r.table, r.column), r.meaning))
    .collect();

    let tables = tables
        .into_iter()
        .map(|t| {
            let key = (t.schema.clone(), t.name.clone());
            let source = table_notes.get(&key).cloned();
            let meaning = meanings::lake_table(t.layer, &t.schema, &t.name)
                .map(str::to_owned)
                .or_else(|| match t.layer {
                    oneclass_warehouse::BRONZE => {
                        source.map(|m| format!("Every change, as it happened, to: {m}"))
                    }
                    _ => source,
                });
            let columns = t
                .columns
                .into_iter()
                .map(|(name, kind)| {
                    let meaning = meanings::lake_column(t.layer, &t.schema, &t.name, &name)
                        .map(str::to_owned)
                        .or_else(|| {
                            column_notes
                                .get(&(t.schema.clone(), t.name.clone(), name.clone()))
                                .cloned()
                        });
                    CatalogColumn { name, kind, meaning }
                })
                .collect();
            CatalogTable { name: format!("{}.{}.{}", t.layer, t.schema, t.name), meaning, columns }
        })
        .collect();
    Ok(Catalog { tables })
}

/// Every table and column you may read, with its meaning (analysts): silver (the current
/// state), bronze (every change) and gold (the indicators), without the columns analysts do not
/// see.
#[utoipa::path(get, path = "/sql/catalog", tag = "analytics",
    responses((status = 200, body = Catalog), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn sql_catalog(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Catalog>> {
    Ok(Json(catalog_of(&state, &user).await?))
}
