//! The names of ingest's metrics (the `metrics` facade: whoever installs a recorder exports
//! them). The names are a contract with dashboards and alerts.

pub const METRIC_LAST_APPLIED_LSN: &str = "oneclass_ingest_last_applied_lsn";
pub const METRIC_LAG_SECONDS: &str = "oneclass_ingest_lag_seconds";
pub const METRIC_LAG_BYTES: &str = "oneclass_ingest_lag_bytes";
pub const METRIC_SLOT_RETAINED_WAL_BYTES: &str = "oneclass_ingest_slot_retained_wal_bytes";
pub const METRIC_CHANGES: &str = "oneclass_ingest_changes_total";
pub const METRIC_VALUE_ERRORS: &str = "oneclass_ingest_value_errors_total";
pub const METRIC_SPILLED: &str = "oneclass_ingest_spilled_changes_total";
pub const METRIC_COMPACTED_FILES: &str = "oneclass_ingest_compacted_files_total";
pub const METRIC_VACUUMED_FILES: &str = "oneclass_ingest_vacuumed_files_total";
pub const METRIC_MAINTENANCE_SECONDS: &str = "oneclass_ingest_maintenance_seconds";
pub const METRIC_STOPPED_TABLES: &str = "oneclass_ingest_stopped_tables";
pub const METRIC_FOLDED_ROWS: &str = "oneclass_ingest_folded_rows_total";
pub const METRIC_FOLD_SECONDS: &str = "oneclass_ingest_fold_seconds";
