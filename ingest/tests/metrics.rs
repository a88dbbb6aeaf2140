//! Operability metrics: after ingest applies some rows, the gauges and counters are set in the
//! same Prometheus recorder the application installs (rendered as `/metrics` would render them).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use metrics_exporter_prometheus::PrometheusBuilder;
use oneclass_ingest::{
    METRIC_CHANGES, METRIC_LAG_BYTES, METRIC_LAG_SECONDS, METRIC_LAST_APPLIED_LSN,
    METRIC_SLOT_RETAINED_WAL_BYTES, METRIC_STOPPED_TABLES,
};
use oneclass_testkit::ingest::{Fixture, LakeKind};
use tokio_util::sync::CancellationToken;

/// `name{labels} value` lines of the Prometheus text format, keyed by everything before the value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gauges_and_counters_are_exported() -> anyhow::Result<()> {
    // The recorder the binary installs (api::ops::metrics_handle), global for this test binary.
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).context("installing the recorder")?;

    let fx = Fixture::start("ingest-metrics", LakeKind::Folder).await?;
    let pool = fx.pool.clone();
    fx.publish(&[("ref.metrics_probe", "id int PRIMARY KEY, v text")]).await?;
    let mut cfg = fx.config();
    cfg.slot_poll_interval = Duration::from_millis(200);
    let token = CancellationToken::new();
    let ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));

    // Rows in several transactions, once the (empty) table's snapshot is in silver.
    let deadline = Instant::now() + Duration::from_secs(90);
    while oneclass_ingest::recorded_lsn(
        &fx.lake,
        &fx.options,
        oneclass_ingest::SILVER,
        "ref",
        "metrics_probe",
    )
    .await?
    .is_none()
    {
        ensure!(!ingest.is_finished(), "ingest stopped during the snapshot");
        ensure!(Instant::now() < deadline, "no snapshot within 90 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for chunk in 0..5 {
        sqlx::query(
            "INSERT INTO ref.metrics_probe SELECT g, 'v' || g FROM generate_series($1::int, $1::int + 99) g",
        )
        .bind(chunk * 100 + 1)
        .execute(&pool)
        .await?;
    }
    let current: i64 =
        sqlx::query_scalar("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8")
            .fetch_one(&pool)
            .await?;

    let changes_key = format!("{METRIC_CHANGES}{{table=\"ref.metrics_probe\"}}");
    let deadline = Instant::now() + Duration::from_secs(90);
    let seen = loop {
        ensure!(!ingest.is_finished(), "ingest stopped: {:?}", ingest.await);
        let s = samples(&handle.render());
        let applied = s.get(&changes_key).copied().unwrap_or(0.0);
        let lsn = s.get(METRIC_LAST_APPLIED_LSN).copied().unwrap_or(0.0);
        if applied >= 500.0
            && lsn > 0.0
            && s.contains_key(METRIC_LAG_BYTES)
            && s.contains_key(METRIC_LAG_SECONDS)
            && s.contains_key(METRIC_SLOT_RETAINED_WAL_BYTES)
            && s.contains_key(METRIC_STOPPED_TABLES)
        {
            break s;
        }
        ensure!(Instant::now() < deadline, "metrics not set within 90 s:\n{}", handle.render());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Caught up and idle: the lag in bytes comes down to what the server wrote past our
    // position (a few records), far below the WAL of the inserts.
    let deadline = Instant::now() + Duration::from_secs(30);
    let caught_up = loop {
        let lag = samples(&handle.render()).get(METRIC_LAG_BYTES).copied().unwrap_or(f64::MAX);
        if lag < 16.0 * 1024.0 || Instant::now() > deadline {
            break lag;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    token.cancel();
    ingest.await??;

    assert_eq!(
        seen[&changes_key], 500.0,
        "500 rows streamed (the snapshot of the empty table adds none)"
    );
    let last_applied = seen[METRIC_LAST_APPLIED_LSN];
    assert!(
        last_applied > 0.0 && last_applied <= current as f64,
        "last applied LSN {last_applied} within the WAL written ({current})"
    );
    assert!(seen[METRIC_LAG_BYTES] >= 0.0);
    assert!(seen[METRIC_LAG_SECONDS] >= 0.0);
    assert!(
        seen[METRIC_SLOT_RETAINED_WAL_BYTES] > 0.0,
        "the slot retains the WAL since its restart point"
    );
    assert_eq!(seen[METRIC_STOPPED_TABLES], 0.0, "no table stopped");
    assert!(caught_up < 16.0 * 1024.0, "lag in bytes once caught up: {caught_up}");
    pool.close().await;
    Ok(())
}
