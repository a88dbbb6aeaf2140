//! One private cluster per test binary and a fresh database per test. Replication slots and
//! publications are per database (ADR 0004), so tests that stream changes share the cluster too.

use std::sync::OnceLock;

use oneclass_core::cluster::{ClusterOptions, PgCluster};
use oneclass_core::db::{self, RolePasswords};
use uuid::Uuid;

/// The application role's password in test databases.
pub const APP_PASSWORD: &str = "app-test-password";
/// The CDC role's password in test databases.
pub const CDC_PASSWORD: &str = "cdc-test-password";
const OWNER_PASSWORD: &str = "owner-test-password";

struct Shared {
    cluster: PgCluster,
    _dir: tempfile::TempDir,
}

/// The binary's cluster, started on first use with durability traded for speed. It is held in
/// a static, never dropped: a watchdog stops it and removes its folder when the process exits,
/// however it exits.
pub fn shared_cluster() -> &'static PgCluster {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    &SHARED
        .get_or_init(|| {
            let dir = scratch_dir("oneclass-pg");
            let cluster = PgCluster::start(
                &dir.path().join("pg"),
                OWNER_PASSWORD,
                &ClusterOptions { unsafe_fast: true },
            )
            .expect("start PostgreSQL");
            cluster
                .stop_and_remove_when_process_exits(std::process::id(), dir.path())
                .expect("watchdog");
            Shared { cluster, _dir: dir }
        })
        .cluster
}

/// A temporary folder the server (running as `postgres` when the tests run as root) can enter.
pub fn scratch_dir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in("/tmp").expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("open the scratch folder to the server");
    dir
}

/// A fresh, migrated database on the shared cluster; returns its owner URL.
pub async fn fresh_database() -> String {
    fresh_named_database().await.1
}

/// [`fresh_database`], with the database's name: (name, owner URL).
pub async fn fresh_named_database() -> (String, String) {
    let cluster = shared_cluster();
    let name = format!("t_{}", Uuid::new_v4().simple());
    cluster.ensure_database(&name).await.expect("create database");
    let url = cluster.url(&name);
    db::migrate(&url, &passwords()).await.expect("migrate");
    (name, url)
}

/// The role passwords every test database is migrated with.
pub fn passwords() -> RolePasswords {
    RolePasswords { app: APP_PASSWORD.into(), cdc: CDC_PASSWORD.into() }
}
