//! The generator against a real database: the same parameters give byte-identical tables,
//! staff and population included, and the staff and population figures are plausible.

use chrono::NaiveDate;
use oneclass_core::db;
use oneclass_synth::SeedParams;
use sqlx::postgres::PgPool;

use oneclass_synth::SEEDED_TABLES as TABLES;

fn params() -> SeedParams {
    SeedParams {
        seed: 11,
        // Three a province: primary and secondary schools, urban and rural, and more than one
        // COPY chunk of marks.
        schools: 30,
        class_size: (18, 40),
        streams: (1, 2),
        academic_year: 2026,
        years: 1,
        // After the November examinations: every table has rows.
        as_of: NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
        attendance_days: Some(20),
        demo_password: "pw".into(),
    }
}

async fn seeded() -> PgPool {
    let url = oneclass_testkit::fresh_database().await;
    let pool = db::pool(&url, 2).await.expect("pool");
    oneclass_synth::seed(&pool, &params()).await.expect("seed");
    pool
}

async fn hashes(pool: &PgPool) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t");
        out.push(sqlx::query_scalar(&sql).fetch_one(pool).await.expect("hash"));
    }
    out
}

async fn scalar_f64(pool: &PgPool, sql: &str) -> f64 {
    sqlx::query_scalar::<_, f64>(sql).fetch_one(pool).await.expect(sql)
}

async fn scalar_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_staff_and_population_is_deterministic_and_plausible() {
    let first = seeded().await;
    let second = seeded().await;
    let (a, b) = (hashes(&first).await, hashes(&second).await);
    assert!(a.iter().all(Option::is_some), "every table has rows: {a:?}");
    assert_eq!(a, b, "same parameters, same bytes");
    check_staff(&first).await;
    check_population(&first).await;
    first.close().await;
    second.close().await;
}

async fn check_staff(pool: &PgPool) {
    let ratio = |level: &str| {
        format!(
            "SELECT (SELECT count(*) FROM sis.enrolments e JOIN platform.schools s
                       ON s.id = e.school_id WHERE s.level = '{level}')::float8
                  / (SELECT count(*) FROM staff.staff t JOIN platform.schools s
                       ON s.id = t.school_id WHERE s.level = '{level}' AND t.post = 'teacher'
                       AND t.end_date IS NULL)::float8"
        )
    };
    let primary = scalar_f64(pool, &ratio("primary")).await;
    let secondary = scalar_f64(pool, &ratio("secondary")).await;
    eprintln!("pupil-teacher ratio: primary {primary:.1}, secondary {secondary:.1}");
    assert!((34.0..=50.0).contains(&primary), "primary pupil-teacher ratio {primary}");
    assert!((24.0..=38.0).contains(&secondary), "secondary pupil-teacher ratio {secondary}");
    let trained = scalar_f64(
        pool,
        "SELECT avg((qualification = 'trained')::int)::float8 FROM staff.staff
         WHERE post = 'teacher'",
    )
    .await;
    eprintln!("trained teachers: {trained:.2}");
    assert!((0.75..=0.95).contains(&trained), "trained share {trained}");
    let misstaffed = scalar_i64(
        pool,
        "SELECT count(*) FROM platform.schools s
         WHERE (SELECT count(*) FROM staff.staff t WHERE t.school_id = s.id AND t.post = 'head') <> 1
            OR NOT EXISTS (SELECT 1 FROM staff.staff t WHERE t.school_id = s.id AND t.post = 'teacher')",
    )
    .await;
    assert_eq!(misstaffed, 0, "every school has one head and a teacher");
}

async fn check_population(pool: &PgPool) {
    let incomplete = scalar_i64(
        pool,
        "SELECT count(*) FROM (SELECT DISTINCT district FROM platform.schools) d
         WHERE (SELECT count(*) FROM ref.population p
                WHERE p.year = 2026 AND p.district = d.district AND p.age BETWEEN 3 AND 19) <> 34",
    )
    .await;
    assert_eq!(incomplete, 0, "every district of a school has every age and sex");
    let empty = scalar_i64(
        pool,
        "SELECT count(*) FROM ref.population WHERE age BETWEEN 6 AND 12 AND population = 0",
    )
    .await;
    assert_eq!(empty, 0, "no district is without children of primary age");
    let ger = |grades: &str, ages: &str| {
        format!(
            "SELECT (SELECT count(*) FROM sis.enrolments WHERE academic_year = 2026
                       AND grade IN ({grades}))::float8
                  / (SELECT sum(population) FROM ref.population WHERE year = 2026
                       AND age BETWEEN {ages})::float8"
        )
    };
    let primary = scalar_f64(pool, &ger("'G1','G2','G3','G4','G5','G6','G7'", "6 AND 12")).await;
    let lower_secondary = scalar_f64(pool, &ger("'F1','F2','F3','F4'", "13 AND 16")).await;
    eprintln!("gross enrolment ratio: primary {primary:.2}, lower secondary {lower_secondary:.2}");
    assert!((0.88..=1.02).contains(&primary), "primary gross enrolment ratio {primary}");
    assert!((0.48..=0.72).contains(&lower_secondary), "lower secondary GER {lower_secondary}");
}
