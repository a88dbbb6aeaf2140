//! The warehouse against real Delta tables in a temporary folder: catalog discovery, freshness,
//! refusals, the analysts' privacy rules and area filter, limits, encodings and named queries.

use std::sync::Arc;
use std::time::Duration;

use deltalake::arrow::array::{
    ArrayRef, AsArray, BooleanArray, Date32Array, Int32Array, Int64Array, RecordBatch,
};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Float64Type, Int64Type};
use deltalake::arrow::ipc::reader::StreamReader;
use deltalake::datafusion::scalar::ScalarValue;
use oneclass_testkit::lake::{self, FixtureLake, opt_text, text, today_in_harare};
use oneclass_warehouse::{
    Access, Area, Format, Limits, Warehouse, WarehouseError, encode, pseudonym,
};
use url::Url;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KEY: &[u8] = b"test-pseudonym-key";

// Schools: two in Harare province (two districts), one in Bulawayo.
const HARARE_A: &str = "01900000-0000-7000-8000-00000000000a";
const HARARE_B: &str = "01900000-0000-7000-8000-00000000000b";
const BULAWAYO: &str = "01900000-0000-7000-8000-00000000000c";

fn learner_id(n: usize) -> String {
    format!("01900000-0000-7000-8000-1000000000{n:02}")
}

/// The CDC columns every silver table carries.
fn with_cdc(columns: Vec<(&'static str, ArrayRef)>, rows: usize) -> RecordBatch {
    lake::with_cdc(columns, rows).expect("fixture columns line up")
}

struct Lake {
    dir: FixtureLake,
}

impl Lake {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        Ok(Self { dir: FixtureLake::new()? })
    }

    fn url(&self) -> Url {
        self.dir.url()
    }

    fn warehouse(&self) -> Warehouse {
        Warehouse::new(self.url(), KEY.to_vec())
    }

    async fn write(&self, path: &str, batch: RecordBatch) -> TestResult {
        Ok(self.dir.write_batch(path, batch, &[]).await?)
    }

    async fn write_partitioned(
        &self,
        path: &str,
        batch: RecordBatch,
        partitions: &[&str],
    ) -> TestResult {
        Ok(self.dir.write_batch(path, batch, partitions).await?)
    }

    fn schools() -> RecordBatch {
        with_cdc(
            vec![
                ("id", text(&[HARARE_A, HARARE_B, BULAWAYO])),
                ("emis_code", text(&["H001", "H002", "B001"])),
                ("name", text(&["Avondale Primary", "Mbare Primary", "Lobengula Primary"])),
                ("province", text(&["Harare", "Harare", "Bulawayo"])),
                ("district", text(&["Harare Central", "Mbare", "Bulawayo Central"])),
                ("level", text(&["primary", "primary", "primary"])),
            ],
            3,
        )
    }

    /// Learners 0–2 at HARARE_A, 3 at HARARE_B, 4 at BULAWAYO.
    fn learners() -> RecordBatch {
        let ids: Vec<String> = (0..5).map(learner_id).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        with_cdc(
            vec![
                ("id", text(&ids)),
                ("school_id", text(&[HARARE_A, HARARE_A, HARARE_A, HARARE_B, BULAWAYO])),
                ("learner_number", text(&["L1", "L2", "L3", "L4", "L5"])),
                ("first_name", text(&["Tariro", "Tendai", "Nyasha", "Rudo", "Sipho"])),
                ("last_name", text(&["Moyo", "Ncube", "Dube", "Sibanda", "Ndlovu"])),
                ("sex", text(&["F", "M", "F", "F", "M"])),
                ("date_of_birth", Arc::new(Date32Array::from(vec![14_000; 5]))),
                (
                    "national_id",
                    opt_text(&[Some("63-123456A78"), None, None, None, Some("08-765432B21")]),
                ),
                ("is_ovc", Arc::new(BooleanArray::from(vec![false, true, false, false, false]))),
                ("status", text(&["active"; 5])),
            ],
            5,
        )
    }

    /// One mark per learner per day for the given (learner, school, day offset, status).
    fn marks(rows: &[(usize, &str, i32, &str)]) -> RecordBatch {
        let n = rows.len();
        let ids: Vec<String> =
            (0..n).map(|i| format!("01900000-0000-7000-8000-2000000{i:05}")).collect();
        let learners: Vec<String> = rows.iter().map(|r| learner_id(r.0)).collect();
        with_cdc(
            vec![
                ("id", text(&ids.iter().map(String::as_str).collect::<Vec<_>>())),
                ("school_id", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>())),
                ("learner_id", text(&learners.iter().map(String::as_str).collect::<Vec<_>>())),
                ("class_id", opt_text(&vec![None; n])),
                (
                    "date",
                    Arc::new(Date32Array::from(
                        rows.iter().map(|r| today_in_harare() + r.2).collect::<Vec<_>>(),
                    )),
                ),
                ("status", text(&rows.iter().map(|r| r.3).collect::<Vec<_>>())),
            ],
            n,
        )
    }

    /// The current term runs from 20 days ago to 40 days ahead; the previous one ended 30 days ago.
    fn terms() -> RecordBatch {
        let t = today_in_harare();
        with_cdc(
            vec![
                ("academic_year", Arc::new(Int32Array::from(vec![2026, 2026]))),
                ("term", Arc::new(Int32Array::from(vec![1, 2]))),
                ("start_date", Arc::new(Date32Array::from(vec![t - 120, t - 20]))),
                ("end_date", Arc::new(Date32Array::from(vec![t - 30, t + 40]))),
            ],
            2,
        )
    }

    /// A small lake: schools, learners, terms and marks in silver; nothing in bronze or gold.
    async fn seeded() -> Result<Self, Box<dyn std::error::Error>> {
        let lake = Self::new()?;
        lake.write("silver/platform/schools", Self::schools()).await?;
        lake.write("silver/sis/learners", Self::learners()).await?;
        lake.write("silver/ref/terms", Self::terms()).await?;
        lake.write(
            "silver/attendance/daily_marks",
            Self::marks(&[
                // HARARE_A, this term: 3 learners, 6 marks, 4 present or late.
                (0, HARARE_A, -2, "present"),
                (0, HARARE_A, -1, "late"),
                (1, HARARE_A, -2, "absent"),
                (1, HARARE_A, -1, "present"),
                (2, HARARE_A, -2, "excused"),
                (2, HARARE_A, -1, "present"),
                // HARARE_B, this term: 1 learner, 2 marks, 1 present.
                (3, HARARE_B, -2, "present"),
                (3, HARARE_B, -1, "absent"),
                // BULAWAYO, this term: 1 learner, 1 mark, present; last term: absent (ignored).
                (4, BULAWAYO, -1, "present"),
                (4, BULAWAYO, -60, "absent"),
            ]),
        )
        .await?;
        // A schema folder that has no table yet (ingest creates folders before first commits).
        std::fs::create_dir_all(lake.dir.path().join("silver/finance/invoices"))?;
        Ok(lake)
    }
}

fn column_strings(out: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    let mut values = Vec::new();
    for batch in out {
        let column = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
        let column = cast(column, &DataType::Utf8).expect("castable to text");
        values.extend(column.as_string::<i32>().iter().map(|v| v.map(str::to_owned)));
    }
    values
}

fn column_i64(out: &[RecordBatch], name: &str) -> Vec<i64> {
    let mut values = Vec::new();
    for batch in out {
        let column = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
        let column = cast(column, &DataType::Int64).expect("castable to int64");
        values.extend(column.as_primitive::<Int64Type>().iter().map(|v| v.unwrap_or(-1)));
    }
    values
}

fn column_f64(out: &[RecordBatch], name: &str) -> Vec<f64> {
    let mut values = Vec::new();
    for batch in out {
        let column = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
        let column = cast(column, &DataType::Float64).expect("castable to float64");
        values.extend(column.as_primitive::<Float64Type>().iter().map(|v| v.unwrap_or(f64::NAN)));
    }
    values
}

async fn count(warehouse: &Warehouse, sql: &str, access: &Access) -> Result<i64, WarehouseError> {
    let out = warehouse.query(sql, access).await?;
    Ok(column_i64(&out.batches, "n")[0])
}

fn analyst(area: Area) -> Access {
    Access::Analyst { area }
}

#[tokio::test]
async fn catalogs_list_the_lake() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();

    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM silver.sis.learners", &Access::Full).await?,
        5
    );
    // Unqualified schema.table means silver.
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM sis.learners", &Access::Full).await?,
        5
    );

    let out = warehouse
        .query(
            "SELECT table_catalog || '.' || table_schema || '.' || table_name AS t \
             FROM information_schema.tables WHERE table_schema <> 'information_schema' ORDER BY t",
            &Access::Full,
        )
        .await?;
    let tables: Vec<String> = column_strings(&out.batches, "t").into_iter().flatten().collect();
    assert_eq!(
        tables,
        [
            "silver.attendance.daily_marks",
            "silver.platform.schools",
            "silver.ref.terms",
            "silver.sis.learners"
        ]
    );

    // A layer or table that does not exist yet is an ordinary "not found" for the user.
    for missing in ["SELECT * FROM gold.indicators.values", "SELECT * FROM silver.finance.invoices"]
    {
        let err = warehouse.query(missing, &Access::Full).await.expect_err(missing);
        assert!(matches!(err, WarehouseError::Invalid(_)), "{missing}: {err:?}");
        assert!(err.is_user_error());
    }
    // Quoted names cannot walk out of the lake.
    let err =
        warehouse.query("SELECT * FROM silver.\"..\".\"..\"", &Access::Full).await.expect_err("..");
    assert!(err.is_user_error(), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn a_missing_lake_is_empty_not_broken() -> TestResult {
    let dir = tempfile::tempdir()?;
    let url = Url::from_directory_path(dir.path().join("not-yet")).map_err(|()| "bad path")?;
    let warehouse = Warehouse::new(url, KEY.to_vec());
    let out = warehouse.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema <> 'information_schema'", &Access::Full).await?;
    assert_eq!(column_i64(&out.batches, "n"), [0]);
    Ok(())
}

#[tokio::test]
async fn every_query_sees_the_latest_commit() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();
    let sql = "SELECT count(*) AS n FROM silver.attendance.daily_marks";
    assert_eq!(count(&warehouse, sql, &Access::Full).await?, 10);

    lake.write("silver/attendance/daily_marks", Lake::marks(&[(0, HARARE_A, 0, "present")]))
        .await?;
    assert_eq!(count(&warehouse, sql, &Access::Full).await?, 11);

    // A table created after the warehouse started is queryable at once.
    lake.write(
        "gold/indicators/values",
        RecordBatch::try_from_iter(vec![
            ("indicator", text(&["ATTENDANCE_RATE"])),
            ("scope_level", text(&["national"])),
            ("scope_code", text(&["ZW"])),
            ("value", Arc::new(Int64Array::from(vec![90_i64])) as ArrayRef),
        ])?,
    )
    .await?;
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM gold.indicators.values", &Access::Full)
            .await?,
        1
    );
    Ok(())
}

#[tokio::test]
async fn only_read_only_queries_run() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();
    let outside = lake.dir.path().join("copied.csv");
    let statements = [
        ("INSERT INTO silver.sis.learners (learner_number) VALUES ('X')", "INSERT"),
        ("CREATE TABLE t AS SELECT 1", "CREATE TABLE"),
        ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
        ("DROP TABLE silver.sis.learners", "DROP TABLE"),
        ("DELETE FROM silver.sis.learners", "DELETE"),
        (&format!("COPY (SELECT * FROM silver.sis.learners) TO '{}'", outside.display()), "COPY"),
        ("CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'", "CREATE EXTERNAL TABLE"),
        ("SET datafusion.execution.batch_size = 1", "SET"),
        ("EXPLAIN ANALYZE INSERT INTO silver.sis.learners (learner_number) VALUES ('X')", "INSERT"),
        ("SELECT 1; SELECT 2", "one statement"),
    ];
    for (sql, named) in statements {
        match warehouse.query(sql, &Access::Full).await {
            Err(WarehouseError::Refused(why)) => assert!(why.contains(named), "{sql}: {why}"),
            other => panic!("{sql}: expected a refusal, got {other:?}"),
        }
    }
    // SELECT … INTO passes the parser's gate but not the plan check.
    let into = warehouse.query("SELECT 1 AS a INTO t2", &Access::Full).await;
    assert!(matches!(into, Err(WarehouseError::Refused(_))), "{into:?}");

    assert!(!outside.exists());
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM silver.sis.learners", &Access::Full).await?,
        5
    );

    // Files are not tables: no URL tables, no file-reading table functions.
    for sql in ["SELECT * FROM '/etc/passwd'", "SELECT * FROM read_csv('/etc/passwd')"] {
        let err = warehouse.query(sql, &Access::Full).await.expect_err(sql);
        assert!(err.is_user_error(), "{sql}: {err:?}");
    }
    // EXPLAIN is a query.
    let explained =
        warehouse.query("EXPLAIN SELECT count(*) FROM silver.sis.learners", &Access::Full).await?;
    assert!(explained.num_rows() > 0);
    Ok(())
}

/// A plan names the files it reads relative to the lake; where the lake lives on the server
/// stays there, for every kind of EXPLAIN and every caller.
#[tokio::test]
async fn explain_shows_no_server_path() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();
    let root = lake.dir.path().to_string_lossy().trim_start_matches('/').to_owned();
    for sql in [
        "EXPLAIN SELECT * FROM silver.sis.learners",
        "EXPLAIN VERBOSE SELECT count(*) FROM silver.attendance.daily_marks",
        "EXPLAIN ANALYZE SELECT count(*) FROM silver.sis.learners WHERE sex = 'F'",
    ] {
        for access in [Access::Full, analyst(Area::National)] {
            let out = warehouse.query(sql, &access).await?;
            let (_, text) = encode(&out, Format::Csv)?;
            let text = String::from_utf8(text)?;
            assert!(text.contains("sis/learners") || text.contains("daily_marks"), "{sql}: {text}");
            assert!(!text.contains(&root), "{sql} shows the lake's path {root}: {text}");
        }
    }
    Ok(())
}

/// A birthday with sex and school makes most children unique: analysts see the month of birth,
/// and only where at least five learners of the school share sex and month.
///
/// School Q: six girls born in March 2015 (their month is shown), two girls born in April 2015
/// and four boys born in March 2015 (groups under five: no month). In bronze, whose rows are
/// changes, no birth date or month at all.
#[tokio::test]
async fn analysts_see_a_birth_month_only_where_five_share_it() -> TestResult {
    let lake = Lake::new()?;
    let n = 12;
    let ids: Vec<String> = (0..n).map(|i| format!("q-{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut born = vec!["2015-03-07"; 6];
    born.extend(["2015-04-11", "2015-04-30"]);
    born.extend(["2015-03-01", "2015-03-02", "2015-03-20", "2015-03-31"]);
    let sexes: Vec<&str> = (0..n).map(|i| if i < 8 { "F" } else { "M" }).collect();
    let learners = |ops: Option<&str>| {
        let mut columns = vec![
            ("id", text(&ids)),
            ("school_id", text(&[HARARE_A; 12])),
            ("first_name", text(&["Chipo"; 12])),
            ("sex", text(&sexes)),
            ("date_of_birth", cast(&text(&born), &DataType::Date32).expect("dates")),
        ];
        if let Some(op) = ops {
            columns.push(("_op", text(&[op; 12])));
        }
        with_cdc(columns, n)
    };
    lake.write("silver/platform/schools", Lake::schools()).await?;
    lake.write("silver/sis/learners", learners(None)).await?;
    lake.write("bronze/sis/learners", learners(Some("c"))).await?;
    let warehouse = lake.warehouse();

    for access in [analyst(Area::National), analyst(Area::District("Harare Central".into()))] {
        let out = warehouse
            .query(
                "SELECT sex, CAST(birth_month AS VARCHAR) AS month, count(*) AS n \
                 FROM silver.sis.learners GROUP BY sex, birth_month ORDER BY sex, month",
                &access,
            )
            .await?;
        let rows: Vec<String> = {
            let (_, csv) = encode(&out, Format::Csv)?;
            String::from_utf8(csv)?.lines().skip(1).map(str::to_owned).collect()
        };
        assert_eq!(rows, ["F,2015-03-01,6", "F,,2", "M,,4"], "{access:?}");
        // No combination an analyst can see describes fewer than five learners.
        let small = warehouse
            .query(
                "SELECT school_id, sex, birth_month FROM silver.sis.learners \
                 WHERE birth_month IS NOT NULL GROUP BY school_id, sex, birth_month \
                 HAVING count(*) < 5",
                &access,
            )
            .await?;
        assert_eq!(small.num_rows(), 0);
        for sql in [
            "SELECT date_of_birth FROM silver.sis.learners",
            "SELECT date_of_birth FROM bronze.sis.learners",
            "SELECT birth_month FROM bronze.sis.learners",
        ] {
            let err = warehouse.query(sql, &access).await.expect_err(sql);
            assert!(matches!(err, WarehouseError::Invalid(_)), "{sql}: {err:?}");
        }
    }
    // Internal callers keep the date.
    let out = warehouse
        .query("SELECT count(DISTINCT date_of_birth) AS n FROM silver.sis.learners", &Access::Full)
        .await?;
    assert_eq!(column_i64(&out.batches, "n"), vec![7]);
    Ok(())
}

#[tokio::test]
async fn analysts_see_pseudonyms_not_identities() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();
    let national = analyst(Area::National);

    let out = warehouse.query("SELECT * FROM silver.sis.learners", &national).await?;
    let schema = out.batches[0].schema();
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    for hidden in ["first_name", "last_name", "national_id", "learner_number", "date_of_birth"] {
        assert!(!columns.contains(&hidden), "{hidden} visible in {columns:?}");
    }
    for kept in ["id", "school_id", "sex", "birth_month", "is_ovc", "status"] {
        assert!(columns.contains(&kept), "{kept} missing from {columns:?}");
    }
    let mut ids: Vec<String> = column_strings(&out.batches, "id").into_iter().flatten().collect();
    let mut expected: Vec<String> = (0..5).map(|n| pseudonym(KEY, &learner_id(n))).collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);

    for sql in [
        "SELECT first_name FROM silver.sis.learners",
        "SELECT count(*) FROM silver.sis.learners WHERE national_id IS NOT NULL",
    ] {
        let err = warehouse.query(sql, &national).await.expect_err(sql);
        assert!(matches!(err, WarehouseError::Invalid(_)), "{sql}: {err:?}");
    }
    // The raw id cannot be recovered by calling the pseudonym function by name.
    assert!(warehouse.query("SELECT pseudonym('x')", &national).await.is_err());

    // The same pseudonym in every table: joins still match.
    let sql = "SELECT count(*) AS n FROM silver.sis.learners l \
               JOIN silver.attendance.daily_marks m ON m.learner_id = l.id";
    assert_eq!(count(&warehouse, sql, &national).await?, 10);
    let marks = warehouse
        .query("SELECT DISTINCT learner_id FROM silver.attendance.daily_marks", &national)
        .await?;
    for id in column_strings(&marks.batches, "learner_id").into_iter().flatten() {
        assert!(expected.contains(&id), "{id} is not a pseudonym");
    }

    // Introspection shows the analyst's columns, not the table's.
    let cols = warehouse
        .query(
            "SELECT column_name FROM information_schema.columns \
             WHERE table_schema = 'sis' AND table_name = 'learners'",
            &national,
        )
        .await?;
    let cols: Vec<String> =
        column_strings(&cols.batches, "column_name").into_iter().flatten().collect();
    assert!(
        cols.contains(&"sex".to_owned()) && !cols.contains(&"first_name".to_owned()),
        "{cols:?}"
    );

    // Bronze keeps every past version of a row, so the same rules apply there, partitioned or not.
    let mut columns: Vec<(&str, ArrayRef)> = Vec::new();
    let learners = Lake::learners();
    let learners_schema = learners.schema();
    for (field, column) in learners_schema.fields().iter().zip(learners.columns()) {
        columns.push((field.name().as_str(), column.clone()));
    }
    columns.push(("_op", text(&["r"; 5])));
    columns.push(("_seq", Arc::new(Int64Array::from(vec![0_i64; 5]))));
    columns.push(("_commit_date", Arc::new(Date32Array::from(vec![today_in_harare(); 5]))));
    lake.write_partitioned(
        "bronze/sis/learners",
        RecordBatch::try_from_iter(columns)?,
        &["_commit_date"],
    )
    .await?;
    let out = warehouse.query("SELECT * FROM bronze.sis.learners", &national).await?;
    let schema = out.batches[0].schema();
    assert!(
        schema.field_with_name("first_name").is_err()
            && schema.field_with_name("_commit_date").is_ok()
    );
    let mut bronze_ids: Vec<String> =
        column_strings(&out.batches, "id").into_iter().flatten().collect();
    bronze_ids.sort();
    assert_eq!(bronze_ids, expected);
    let harare = analyst(Area::Province("Harare".into()));
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM bronze.sis.learners", &harare).await?,
        4
    );

    // Full access still sees everything.
    let full = warehouse.query("SELECT first_name FROM silver.sis.learners", &Access::Full).await?;
    assert_eq!(full.num_rows(), 5);
    Ok(())
}

/// The physical plan of `sql` as the analyst's EXPLAIN shows it.
async fn physical_plan(warehouse: &Warehouse, sql: &str, access: &Access) -> String {
    let out = warehouse.query(&format!("EXPLAIN {sql}"), access).await.expect(sql);
    let (_, text) = encode(&out, Format::Csv).expect("CSV");
    String::from_utf8(text).expect("UTF-8")
}

/// Analysts' joins, groups and distinct counts by learner are done on the ids beneath their
/// views, so the pseudonym is computed only for what an answer shows (one per group here, none
/// for a count); the answers are the ones the pseudonymised views give.
#[tokio::test]
async fn analysts_join_and_group_learners_without_hashing_every_row() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();
    let national = analyst(Area::National);
    let hidden = |n: usize| pseudonym(KEY, &learner_id(n));

    // Counts over a join by learner, and distinct learners: no pseudonym computed at all.
    for (sql, want) in [
        (
            "SELECT count(*) AS n FROM silver.sis.learners l \
             JOIN silver.attendance.daily_marks m ON m.learner_id = l.id",
            10,
        ),
        ("SELECT count(DISTINCT learner_id) AS n FROM silver.attendance.daily_marks", 5),
        // A query that names its own columns as the rewrite names the raw ids still answers.
        (
            "SELECT count(*) AS n FROM (SELECT learner_id, 0 AS __raw_learner_id_0, \
             1 AS __raw_learner_id_1, 2 AS __raw_learner_id_2, 3 AS __raw_learner_id_3 \
             FROM silver.attendance.daily_marks) m \
             JOIN silver.sis.learners l ON m.learner_id = l.id",
            10,
        ),
        (
            "SELECT count(DISTINCT m.learner_id) AS n FROM silver.attendance.daily_marks m \
             JOIN silver.sis.learners l ON l.id = m.learner_id WHERE l.sex = 'F'",
            3,
        ),
    ] {
        assert_eq!(count(&warehouse, sql, &national).await?, want, "{sql}");
        let plan = physical_plan(&warehouse, sql, &national).await;
        assert!(!plan.contains("pseudonym("), "{sql} hashes ids it does not show:\n{plan}");
    }

    // Grouped by learner, with learners that have no absence kept by the outer join: each
    // group's key is hashed once, after the aggregate, and is the learner's pseudonym.
    let sql = "SELECT l.id, count(m.id) AS n FROM silver.sis.learners l \
               LEFT JOIN (SELECT * FROM silver.attendance.daily_marks WHERE status = 'absent') m \
               ON m.learner_id = l.id GROUP BY l.id ORDER BY n, l.id";
    let out = warehouse.query(sql, &national).await?;
    let mut got: Vec<(String, i64)> = column_strings(&out.batches, "id")
        .into_iter()
        .map(|id| id.expect("an id"))
        .zip(column_i64(&out.batches, "n"))
        .collect();
    got.sort();
    let mut want: Vec<(String, i64)> =
        [(0, 0), (1, 1), (2, 0), (3, 1), (4, 1)].map(|(n, absent)| (hidden(n), absent)).into();
    want.sort();
    assert_eq!(got, want);
    let plan = physical_plan(&warehouse, sql, &national).await;
    assert!(plan.contains("__raw_learner_id"), "{plan}");
    let physical = plan.split("physical_plan").nth(1).expect("a physical plan");
    assert_eq!(physical.matches("pseudonym(").count(), 1, "{plan}");

    // Plans show no raw id either: not the values a join's dynamic filter carries from its
    // build side into the other side's scan, nor a scan's statistics.
    let one = hidden(1);
    let join = "SELECT count(*) FROM silver.attendance.daily_marks m \
                JOIN silver.sis.learners l ON m.learner_id = l.id";
    for sql in [
        format!("EXPLAIN ANALYZE {join} WHERE l.id = '{one}'"),
        format!("EXPLAIN VERBOSE {join} WHERE l.id = '{one}'"),
        format!("EXPLAIN ANALYZE {join}"),
        format!("EXPLAIN ANALYZE {join} WHERE l.sex = 'F'"),
    ] {
        let out = warehouse.query(&sql, &national).await?;
        let (_, text) = encode(&out, Format::Csv)?;
        let text = String::from_utf8(text)?;
        assert!(text.contains("daily_marks"), "{sql}: {text}");
        for n in 0..5 {
            assert!(!text.contains(&learner_id(n)), "{sql} shows a raw id:\n{text}");
        }
    }

    // Whatever the query, a learner id an analyst reads is a pseudonym and never the raw id,
    // and the internal columns never reach an answer.
    let expected: Vec<String> = (0..5).map(hidden).collect();
    for sql in [
        "SELECT m.learner_id, l.sex FROM silver.attendance.daily_marks m \
         JOIN silver.sis.learners l ON l.id = m.learner_id",
        "SELECT * FROM silver.attendance.daily_marks m \
         JOIN silver.sis.learners l ON l.id = m.learner_id",
        "WITH per AS (SELECT learner_id, school_id, count(*) AS marks \
         FROM silver.attendance.daily_marks GROUP BY learner_id, school_id) \
         SELECT school_id, learner_id, \
         rank() OVER (PARTITION BY school_id ORDER BY marks DESC, learner_id) AS r FROM per",
        "SELECT DISTINCT learner_id FROM silver.attendance.daily_marks \
         WHERE learner_id IN (SELECT id FROM silver.sis.learners)",
    ] {
        let out = warehouse.query(sql, &national).await?;
        assert!(out.num_rows() > 0, "{sql}");
        let schema = out.batches[0].schema();
        assert!(schema.fields().iter().all(|f| !f.name().starts_with("__raw")), "{sql}");
        for name in ["learner_id", "id"] {
            if schema.field_with_name(name).is_err() {
                continue;
            }
            for id in column_strings(&out.batches, name).into_iter().flatten() {
                // A mark's own `id` is not a learner's; a learner id is always hidden.
                assert!(
                    expected.contains(&id) || name == "id",
                    "{sql}: {name} {id} is not a pseudonym"
                );
                assert!((0..5).all(|n| id != learner_id(n)), "{sql}: {name} shows a raw id {id}");
            }
        }
    }
    Ok(())
}

/// A join holds its smaller side in memory, even above another join: the planner estimates a
/// join's output from the lake scans' row counts (without that, an analyst's question joining 11
/// million marks to enrolments and learners held the marks and ran out of memory).
#[tokio::test]
async fn joins_hold_the_smaller_side_in_memory() -> TestResult {
    // Three schools, five learners and 5,000 marks.
    let lake = Lake::new()?;
    lake.write("silver/platform/schools", Lake::schools()).await?;
    lake.write("silver/sis/learners", Lake::learners()).await?;
    let marks: Vec<(usize, &str, i32, &str)> =
        (0..5_000).map(|i| (i % 5, HARARE_A, -1 - (i as i32 % 50), "present")).collect();
    lake.write("silver/attendance/daily_marks", Lake::marks(&marks)).await?;
    let warehouse = lake.warehouse();
    // The marks joined to their schools, then to their learners: the second join must hold the
    // five learners, not the 5,000 rows of the first join (whose size only the statistics
    // registry estimates).
    let sql = "SELECT count(*) AS n FROM silver.attendance.daily_marks m \
               JOIN silver.platform.schools s ON s.id = m.school_id \
               JOIN silver.sis.learners l ON l.id = m.learner_id";
    for access in [Access::Full, analyst(Area::National)] {
        assert_eq!(count(&warehouse, sql, &access).await?, 5_000);
        let plan = physical_plan(&warehouse, sql, &access).await;
        let physical = plan.split("physical_plan").nth(1).expect("a physical plan");
        // The outer hash join is printed first, and its first input is the side it holds.
        let join = physical.find("HashJoinExec").expect("a hash join");
        let held = physical[join..].find("DataSourceExec").map(|at| &physical[join + at..]);
        let held = held.expect("a scan under the join");
        assert!(
            held.starts_with("DataSourceExec: file_groups={1 group: [[silver/sis/learners"),
            "{plan}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn analysts_see_only_their_area() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();

    let harare = analyst(Area::Province("Harare".into()));
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM silver.sis.learners", &harare).await?,
        4
    );
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM silver.attendance.daily_marks", &harare)
            .await?,
        8
    );
    let schools = warehouse
        .query("SELECT emis_code FROM silver.platform.schools ORDER BY 1", &harare)
        .await?;
    assert_eq!(
        column_strings(&schools.batches, "emis_code"),
        [Some("H001".into()), Some("H002".into())]
    );
    // Reference data is the same for every area.
    assert_eq!(count(&warehouse, "SELECT count(*) AS n FROM silver.ref.terms", &harare).await?, 2);

    let mbare = analyst(Area::District("Mbare".into()));
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM silver.sis.learners", &mbare).await?,
        1
    );
    let schools = warehouse.query("SELECT emis_code FROM silver.platform.schools", &mbare).await?;
    assert_eq!(column_strings(&schools.batches, "emis_code"), [Some("H002".into())]);

    // A filter on a hidden school cannot widen the area.
    let sql =
        format!("SELECT count(*) AS n FROM silver.sis.learners WHERE school_id = '{BULAWAYO}'");
    assert_eq!(count(&warehouse, &sql, &mbare).await?, 0);

    let nowhere = analyst(Area::Province("Atlantis".into()));
    assert_eq!(
        count(&warehouse, "SELECT count(*) AS n FROM silver.sis.learners", &nowhere).await?,
        0
    );

    // Gold indicators: the national row and the area's own rows only.
    lake.write(
        "gold/indicators/values",
        RecordBatch::try_from_iter(vec![
            (
                "scope_level",
                text(&["national", "province", "province", "district", "school", "school"]),
            ),
            ("scope_code", text(&["ZW", "Harare", "Bulawayo", "Mbare", "H001", "B001"])),
            ("value", Arc::new(Int64Array::from(vec![1_i64, 2, 3, 4, 5, 6])) as ArrayRef),
        ])?,
    )
    .await?;
    let out =
        warehouse.query("SELECT value FROM gold.indicators.values ORDER BY value", &harare).await?;
    assert_eq!(column_i64(&out.batches, "value"), [1, 2, 4, 5]);
    Ok(())
}

#[tokio::test]
async fn rows_time_and_memory_are_limited() -> TestResult {
    let lake = Lake::seeded().await?;
    let limits = Limits { max_rows: 3, ..Limits::default() };
    let warehouse = lake.warehouse().with_limits(limits);

    let out = warehouse.query("SELECT * FROM silver.attendance.daily_marks", &Access::Full).await?;
    assert_eq!((out.num_rows(), out.truncated), (3, true));
    let out = warehouse.query("SELECT * FROM silver.sis.learners LIMIT 3", &Access::Full).await?;
    assert_eq!((out.num_rows(), out.truncated), (3, false));
    let out =
        warehouse.query("SELECT * FROM silver.sis.learners WHERE false", &Access::Full).await?;
    assert_eq!((out.num_rows(), out.truncated, out.batches.len()), (0, false, 1));

    let slow = lake
        .warehouse()
        .with_limits(Limits { timeout: Duration::from_millis(300), ..Limits::default() });
    let err = slow
        .query(
            "SELECT count(*) FROM generate_series(1, 10000000000) WHERE value % 7 = 3",
            &Access::Full,
        )
        .await
        .expect_err("runs far longer than 300 ms");
    assert!(matches!(err, WarehouseError::Timeout(_)), "{err:?}");

    let small = lake.warehouse().with_limits(Limits { memory_bytes: 1 << 20, ..Limits::default() });
    let err = small
        .query("SELECT array_agg(value) FROM generate_series(1, 5000000)", &Access::Full)
        .await
        .expect_err("needs far more than 1 MB");
    assert!(matches!(err, WarehouseError::ResourcesExhausted(_)), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn json_answers_carry_every_column_and_its_type() -> TestResult {
    let lake = Lake::seeded().await?;
    let out = lake
        .warehouse()
        .query(
            "SELECT 1 AS a, NULL AS b, CAST(NULL AS VARCHAR) AS c, DATE '2026-01-13' AS d, \
             2.5 AS e, true AS f",
            &Access::Full,
        )
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&out, Format::Json)?.1)?;
    // A null is a column with the value null, not a missing key.
    assert_eq!(
        answer["rows"],
        serde_json::json!([{"a": 1, "b": null, "c": null, "d": "2026-01-13", "e": 2.5, "f": true}])
    );
    let types: Vec<(&str, &str)> = answer["columns"]
        .as_array()
        .ok_or("columns")?
        .iter()
        .map(|c| (c["name"].as_str().unwrap_or(""), c["type"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        types,
        [
            ("a", "bigint"),
            ("b", "unknown"),
            ("c", "text"),
            ("d", "date"),
            ("e", "double precision"),
            ("f", "boolean")
        ]
    );
    Ok(())
}

#[tokio::test]
async fn results_encode_as_json_csv_and_arrow() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();
    let out = warehouse
        .query(
            "SELECT emis_code, province FROM silver.platform.schools ORDER BY emis_code",
            &Access::Full,
        )
        .await?;

    let (content_type, json) = encode(&out, Format::Json)?;
    assert_eq!(content_type, "application/json");
    let answer: serde_json::Value = serde_json::from_slice(&json)?;
    assert_eq!(
        answer["columns"],
        serde_json::json!([{"name": "emis_code", "type": "text"}, {"name": "province", "type": "text"}])
    );
    let rows = &answer["rows"];
    assert_eq!(rows[0]["emis_code"], "B001");
    assert_eq!(rows[2]["province"], "Harare");
    assert_eq!(rows.as_array().map(Vec::len), Some(3));
    assert_eq!(answer["truncated"], false);

    let (content_type, csv) = encode(&out, Format::Csv)?;
    assert!(content_type.starts_with("text/csv"));
    assert_eq!(
        String::from_utf8(csv)?,
        "emis_code,province\nB001,Bulawayo\nH001,Harare\nH002,Harare\n"
    );

    let (content_type, ipc) = encode(&out, Format::Arrow)?;
    assert_eq!(content_type, "application/vnd.apache.arrow.stream");
    let decoded: Vec<RecordBatch> =
        StreamReader::try_new(ipc.as_slice(), None)?.collect::<Result<_, _>>()?;
    assert_eq!(column_strings(&decoded, "emis_code"), column_strings(&out.batches, "emis_code"));

    // An empty result keeps its header and is still valid JSON and IPC.
    let empty = warehouse
        .query("SELECT emis_code FROM silver.platform.schools WHERE false", &Access::Full)
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&empty, Format::Json)?.1)?;
    assert_eq!(
        answer,
        serde_json::json!({"columns": [{"name": "emis_code", "type": "text"}], "rows": [], "truncated": false})
    );
    assert_eq!(encode(&empty, Format::Csv)?.1, b"emis_code\n");
    let ipc = encode(&empty, Format::Arrow)?.1;
    let decoded = StreamReader::try_new(ipc.as_slice(), None)?;
    assert_eq!(decoded.schema().field(0).name(), "emis_code");
    Ok(())
}

#[tokio::test]
async fn dash_attendance_groups_by_the_level_asked() -> TestResult {
    let lake = Lake::seeded().await?;
    let warehouse = lake.warehouse();
    let null = || ScalarValue::Utf8(None);
    let text = |s: &str| ScalarValue::Utf8(Some(s.to_owned()));

    let (none, int) = (|| ScalarValue::Int32(None), |n: i32| ScalarValue::Int32(Some(n)));
    let term = warehouse.named("current_term", vec![none(), none()]).await?;
    assert_eq!(column_i64(&term, "term"), [2]);

    // By province. Harare: 8 marks, 5 present or late, 4 learners. Bulawayo's mark of last term
    // does not count.
    let out = warehouse.named("dash_attendance", vec![null(), null(), none(), none()]).await?;
    assert_eq!(
        column_strings(&out, "group_code"),
        [Some("Bulawayo".into()), Some("Harare".into())]
    );
    assert_eq!(column_i64(&out, "learners"), [1, 4]);
    assert_eq!(column_i64(&out, "marks"), [1, 8]);
    assert_eq!(column_i64(&out, "present_or_late"), [1, 5]);
    assert_eq!(column_f64(&out, "rate"), [100.0, 62.5]);

    // By district of Harare.
    let out =
        warehouse.named("dash_attendance", vec![text("Harare"), null(), none(), none()]).await?;
    assert_eq!(
        column_strings(&out, "group_label"),
        [Some("Harare Central".into()), Some("Mbare".into())]
    );
    let rates = column_f64(&out, "rate");
    assert!((rates[0] - 400.0 / 6.0).abs() < 1e-9 && rates[1] == 50.0, "{rates:?}");

    // By school of a district.
    let out = warehouse
        .named("dash_attendance", vec![text("Harare"), text("Mbare"), none(), none()])
        .await?;
    assert_eq!(column_strings(&out, "group_code"), [Some(HARARE_B.into())]);
    assert_eq!(column_strings(&out, "group_label"), [Some("Mbare Primary".into())]);

    // A term asked for by name: only Bulawayo's mark is in term 1.
    let year = column_i64(&term, "academic_year")[0] as i32;
    let out = warehouse.named("dash_attendance", vec![null(), null(), int(year), int(1)]).await?;
    assert_eq!(column_strings(&out, "group_code"), [Some("Bulawayo".into())]);
    let first = warehouse.named("current_term", vec![int(year), int(1)]).await?;
    assert_eq!(column_i64(&first, "term"), [1]);
    let terms = warehouse.named("dash_terms", vec![]).await?;
    assert_eq!(column_i64(&terms, "term"), [2, 1]);

    let err = warehouse.named("no_such_query", vec![]).await.expect_err("unknown");
    assert!(matches!(err, WarehouseError::UnknownNamedQuery(_)) && !err.is_user_error());
    Ok(())
}

#[test]
fn pseudonym_is_stable_hex() {
    let p = pseudonym(KEY, &learner_id(0));
    assert_eq!(p.len(), 32);
    assert_eq!(p, pseudonym(KEY, &learner_id(0)));
    assert_ne!(p, pseudonym(b"other key", &learner_id(0)));
}

/// The SQL surface as sqllogictest files (`tests/sql/*.slt`): what the warehouse answers and
/// what it refuses, for internal callers and for an analyst of one province.
mod slt {
    use super::*;
    use deltalake::arrow::util::display::array_value_to_string;
    use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

    #[derive(Debug)]
    struct SqlError(String);

    impl std::fmt::Display for SqlError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for SqlError {}

    struct Session {
        warehouse: Arc<Warehouse>,
        access: Access,
    }

    #[async_trait::async_trait]
    impl AsyncDB for Session {
        type Error = SqlError;
        type ColumnType = DefaultColumnType;

        async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SqlError> {
            let out = self
                .warehouse
                .query(sql, &self.access)
                .await
                .map_err(|e| SqlError(e.to_string()))?;
            let schema = out.batches.first().map(RecordBatch::schema);
            let types = schema
                .iter()
                .flat_map(|s| s.fields().iter())
                .map(|f| match f.data_type() {
                    t if t.is_integer() => DefaultColumnType::Integer,
                    t if t.is_floating() || matches!(t, DataType::Decimal128(..)) => {
                        DefaultColumnType::FloatingPoint
                    }
                    _ => DefaultColumnType::Text,
                })
                .collect();
            let mut rows = Vec::new();
            for batch in &out.batches {
                for row in 0..batch.num_rows() {
                    let cells = batch
                        .columns()
                        .iter()
                        .map(|c| {
                            if c.is_null(row) {
                                Ok("NULL".to_string())
                            } else {
                                array_value_to_string(c, row).map_err(|e| SqlError(e.to_string()))
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    rows.push(cells);
                }
            }
            Ok(DBOutput::Rows { types, rows })
        }

        async fn shutdown(&mut self) {}

        fn engine_name(&self) -> &str {
            "oneclass-warehouse"
        }

        async fn sleep(dur: Duration) {
            tokio::time::sleep(dur).await;
        }
    }

    async fn run_file(lake: &Lake, file: &str, access: Access) -> TestResult {
        let warehouse = Arc::new(lake.warehouse());
        let mut runner = sqllogictest::Runner::new(move || {
            let (warehouse, access) = (warehouse.clone(), access.clone());
            async move { Ok::<_, SqlError>(Session { warehouse, access }) }
        });
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql").join(file);
        runner.run_file_async(&path).await.map_err(|e| format!("{file}: {e}"))?;
        Ok(())
    }

    #[tokio::test]
    async fn sql_surface_as_the_slt_files_say() -> TestResult {
        let lake = Lake::seeded().await?;
        run_file(&lake, "full.slt", Access::Full).await?;
        let harare = Access::Analyst { area: Area::Province("Harare".into()) };
        run_file(&lake, "analyst_harare.slt", harare).await
    }
}
