//! Admits exactly one read-only statement: the lake's table providers can write (Delta supports
//! `INSERT INTO`), and DataFusion can create tables over files and write files with `COPY`, so
//! everything but a query is refused before it is planned.

use deltalake::datafusion::sql::parser::{DFParserBuilder, Statement};
use deltalake::datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use deltalake::datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::error::WarehouseError;

/// DataFusion's own default; deep enough for generated BI queries, shallow enough for the stack.
const RECURSION_LIMIT: usize = 50;

/// Parses `sql` and returns its one statement if it only reads.
pub(crate) fn read_only_statement(sql: &str) -> Result<Statement, WarehouseError> {
    let mut statements = DFParserBuilder::new(sql)
        .with_dialect(&GenericDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .build()
        .and_then(|mut parser| parser.parse_statements())
        .map_err(WarehouseError::from)?;
    let statement = match (statements.pop_front(), statements.is_empty()) {
        (None, _) => return Err(WarehouseError::Refused("no statement given".into())),
        (Some(statement), true) => statement,
        (Some(_), false) => {
            return Err(WarehouseError::Refused("only one statement may be run at a time".into()));
        }
    };
    check(&statement)?;
    Ok(statement)
}

fn check(statement: &Statement) -> Result<(), WarehouseError> {
    match statement {
        Statement::Statement(statement) => check_sql(statement),
        // EXPLAIN ANALYZE runs its statement, so what it explains must be read-only too.
        Statement::Explain(explain) => check(&explain.statement),
        Statement::CreateExternalTable(_) => Err(refused("CREATE EXTERNAL TABLE")),
        Statement::CopyTo(_) => Err(refused("COPY")),
        Statement::Reset(_) => Err(refused("RESET")),
    }
}

fn check_sql(statement: &SqlStatement) -> Result<(), WarehouseError> {
    match statement {
        SqlStatement::Query(_)
        | SqlStatement::ShowTables { .. }
        | SqlStatement::ShowColumns { .. }
        | SqlStatement::ExplainTable { .. } => Ok(()),
        SqlStatement::Explain { statement, .. } => check_sql(statement),
        other => Err(refused(&statement_kind(other))),
    }
}

fn refused(kind: &str) -> WarehouseError {
    WarehouseError::Refused(format!(
        "{kind} is not allowed: only read-only queries (SELECT, WITH, EXPLAIN) may be run"
    ))
}

/// The statement's leading keywords (`INSERT`, `CREATE TABLE`, `SET`), to name it without
/// echoing the user's whole statement back.
fn statement_kind(statement: &SqlStatement) -> String {
    let text = statement.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("this statement").to_ascii_uppercase();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => match words.next() {
            Some(second) => format!("{first} {}", second.to_ascii_uppercase()),
            None => first,
        },
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_reason(sql: &str) -> String {
        match read_only_statement(sql) {
            Err(WarehouseError::Refused(reason)) => reason,
            other => panic!("{sql}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn queries_pass() {
        for sql in [
            "SELECT 1",
            "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
            "EXPLAIN SELECT count(*) FROM silver.sis.learners",
            "EXPLAIN ANALYZE SELECT 1",
            "SHOW TABLES",
            "select 1;",
        ] {
            assert!(read_only_statement(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn writes_and_settings_are_refused_by_name() {
        assert!(refused_reason("INSERT INTO silver.sis.learners VALUES (1)").starts_with("INSERT"));
        assert!(refused_reason("CREATE TABLE t (a int)").starts_with("CREATE TABLE"));
        assert!(
            refused_reason("CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'")
                .starts_with("CREATE EXTERNAL TABLE")
        );
        assert!(refused_reason("COPY (SELECT 1) TO '/tmp/x.csv'").starts_with("COPY"));
        assert!(refused_reason("SET datafusion.execution.batch_size = 1").starts_with("SET"));
        assert!(refused_reason("DROP TABLE silver.sis.learners").starts_with("DROP TABLE"));
        assert!(refused_reason("DELETE FROM silver.sis.learners").starts_with("DELETE"));
        assert!(refused_reason("UPDATE silver.sis.learners SET sex = 'F'").starts_with("UPDATE"));
        assert!(refused_reason("EXPLAIN ANALYZE INSERT INTO t VALUES (1)").starts_with("INSERT"));
    }

    #[test]
    fn one_statement_at_a_time() {
        assert!(refused_reason("SELECT 1; DROP TABLE x").contains("one statement"));
        assert!(refused_reason("  ").contains("no statement"));
    }

    #[test]
    fn syntax_errors_are_the_users() {
        assert!(matches!(read_only_statement("SELEC 1"), Err(WarehouseError::Syntax(_))));
    }
}
