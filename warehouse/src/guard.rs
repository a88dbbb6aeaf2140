//! Admits exactly one read-only statement: the lake's table providers can write (Delta supports
//! `INSERT INTO`), and DataFusion can create tables over files and write files with `COPY`, so
//! everything but a query is refused before it is planned.

use deltalake::datafusion::sql::parser::{DFParserBuilder, Statement};
use deltalake::datafusion::sql::sqlparser::ast::{Query, Set, SetExpr, Statement as SqlStatement};
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

/// Client settings a PostgreSQL driver or BI tool sets on connecting, which change how answers are
/// formatted for that connection only. Nothing else may be `SET`: engine limits are the server's.
pub(crate) const CLIENT_SETTINGS: [&str; 7] = [
    "application_name",
    "bytea_output",
    "datestyle",
    "extra_float_digits",
    "intervalstyle",
    "search_path",
    "statement_timeout",
];

/// The Postgres-wire endpoint's rule for one statement: what [`read_only_statement`] admits,
/// and the session statements PostgreSQL clients send on their own (client `SET`s, `SHOW`,
/// transaction brackets, which change nothing in a read-only session).
pub(crate) fn check_wire_statement(statement: &SqlStatement) -> Result<(), WarehouseError> {
    match statement {
        SqlStatement::Set(Set::SetTimeZone { .. })
        | SqlStatement::ShowVariable { .. }
        | SqlStatement::StartTransaction { .. }
        | SqlStatement::Commit { .. }
        | SqlStatement::Rollback { .. } => Ok(()),
        SqlStatement::Set(Set::SingleAssignment { variable, .. }) => {
            let name = variable.to_string().to_ascii_lowercase();
            if CLIENT_SETTINGS.contains(&name.as_str()) {
                Ok(())
            } else {
                Err(WarehouseError::Refused(format!(
                    "SET {name} is not allowed: only client settings ({}) and the time zone may \
                     be changed; the engine's limits are the server's",
                    CLIENT_SETTINGS.join(", ")
                )))
            }
        }
        other => check_sql(other),
    }
}

fn check_sql(statement: &SqlStatement) -> Result<(), WarehouseError> {
    match statement {
        // `SELECT … INTO t` is a query that creates a table.
        SqlStatement::Query(query) if selects_into(query) => Err(refused("SELECT … INTO")),
        SqlStatement::Query(_)
        | SqlStatement::ShowTables { .. }
        | SqlStatement::ShowColumns { .. }
        | SqlStatement::ExplainTable { .. } => Ok(()),
        SqlStatement::Explain { statement, .. } => check_sql(statement),
        other => Err(refused(&statement_kind(other))),
    }
}

fn selects_into(query: &Query) -> bool {
    match query.body.as_ref() {
        SetExpr::Select(select) => select.into.is_some(),
        SetExpr::Query(inner) => selects_into(inner),
        _ => false,
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
    fn select_into_is_a_write() {
        assert!(refused_reason("SELECT 1 AS a INTO t").starts_with("SELECT … INTO"));
    }

    fn wire(sql: &str) -> Result<(), WarehouseError> {
        let statement = match read_only_statement(sql) {
            Ok(Statement::Statement(s)) => *s,
            Err(WarehouseError::Refused(_)) => {
                let mut parsed = DFParserBuilder::new(sql)
                    .with_dialect(&GenericDialect {})
                    .build()
                    .and_then(|mut p| p.parse_statements())
                    .expect("parses");
                match parsed.pop_front() {
                    Some(Statement::Statement(s)) => *s,
                    other => panic!("{sql}: {other:?}"),
                }
            }
            other => panic!("{sql}: {other:?}"),
        };
        check_wire_statement(&statement)
    }

    #[test]
    fn wire_admits_client_settings_and_transactions_only() {
        for sql in [
            "SET extra_float_digits = 3",
            "SET application_name = 'DBeaver'",
            "SET DateStyle = 'ISO'",
            "SET TIME ZONE 'Africa/Harare'",
            "SHOW server_version",
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SELECT 1",
        ] {
            assert!(wire(sql).is_ok(), "{sql}");
        }
        for sql in [
            "SET datafusion.execution.memory_limit = '100G'",
            "SET datafusion.runtime.memory_limit = '100G'",
            "SET work_mem = '1GB'",
            "INSERT INTO silver.sis.learners VALUES (1)",
            "SELECT 1 AS a INTO t",
        ] {
            let err = wire(sql).expect_err(sql);
            assert!(matches!(err, WarehouseError::Refused(_)), "{sql}: {err:?}");
        }
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
