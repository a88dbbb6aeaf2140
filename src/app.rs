//! The whole system in one process: API and dashboards on one port, ingest as a supervised
//! background task. `Application::build` is what `serve`, `demo` and the tests all call.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use oneclass_core::db;
use oneclass_ingest::{IngestConfig, SourceConfig};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    ingest: Option<IngestConfig>,
    /// The warehouse gold is rebuilt with, and how often.
    gold: Option<(Arc<oneclass_warehouse::Warehouse>, Duration)>,
    /// The Postgres-wire SQL endpoint, bound, when configured.
    sql_wire: Option<(TcpListener, oneclass_warehouse::wire::WireServer)>,
    /// The outbox's sender: the owner's pool and the gateway.
    outbox: Option<(sqlx::PgPool, Arc<dyn crate::outbox::Gateway>)>,
    /// Polling Paynow for payments whose status update never came: the owner's pool, the client.
    paynow_poll: Option<(sqlx::PgPool, oneclass_paynow::Client)>,
    /// Live updates of new messages, and the pool its listener connects with.
    live: (oneclass_api::live::Live, sqlx::PgPool),
    port: u16,
    sql_port: Option<u16>,
}

/// The CDC role's connection, derived from the owner URL.
pub fn ingest_config(settings: &Settings) -> anyhow::Result<IngestConfig> {
    let owner = db::connect_options(settings.database_url.expose_secret())?;
    let source = SourceConfig {
        host: owner.get_host().to_string(),
        port: owner.get_port(),
        user: db::CDC_ROLE.to_string(),
        password: settings.passwords.cdc.clone(),
        database: owner.get_database().unwrap_or(owner.get_username()).to_string(),
    };
    // Slots are cluster-wide: one per database (ADR 0004), so several databases can share a
    // cluster.
    let mut cfg = IngestConfig::new(source, settings.lake.clone());
    settings.ingest.apply(&mut cfg);
    Ok(cfg)
}

pub fn warehouse(settings: &Settings) -> Arc<oneclass_warehouse::Warehouse> {
    Arc::new(
        oneclass_warehouse::Warehouse::new(
            settings.lake.clone(),
            settings.pseudonym_key.expose_secret().as_bytes().to_vec(),
        )
        .with_limits(settings.sql.limits())
        .with_gold_settings(settings.gold),
    )
}

/// Who looks at a dashboard: the signed-in user's (see [`viewer_of`]), or the public for any
/// request without a valid token.
fn dashboard_viewer(
    pool: sqlx::PgPool,
    keys: oneclass_api::JwtKeys,
) -> oneclass_dashboards::WhoIsLooking {
    Arc::new(move |headers| {
        let (pool, keys) = (pool.clone(), keys.clone());
        Box::pin(async move {
            oneclass_api::auth::signed_in(&pool, &keys, &headers)
                .await
                .map_or(oneclass_dashboards::Viewer::Public, viewer_of)
        })
    })
}

/// What a signed-in user sees of the dashboards: officials their area, a school's staff their
/// schools, everyone else what the public sees.
fn viewer_of(user: oneclass_api::AuthUser) -> oneclass_dashboards::Viewer {
    use oneclass_core::types::Role;
    use oneclass_dashboards::Viewer;
    use oneclass_warehouse::Area;
    match user.role {
        Role::PlatformAdmin | Role::Ministry => Viewer::Official(Area::National),
        // An official's area is the one their role names; an account without it sees what the
        // public sees (a district officer without a district is not a province officer).
        Role::ProvinceOfficer => {
            user.province.map_or(Viewer::Public, |p| Viewer::Official(Area::Province(p)))
        }
        Role::DistrictOfficer => {
            user.district.map_or(Viewer::Public, |d| Viewer::Official(Area::District(d)))
        }
        Role::SchoolHead | Role::Deputy | Role::Teacher | Role::Bursar | Role::Registrar => {
            Viewer::Staff(user.schools.iter().map(ToString::to_string).collect())
        }
        Role::Parent | Role::Analyst => Viewer::Public,
    }
}

impl Application {
    /// Binds the port (0 for any free one), connects as the app role, builds the routes.
    pub async fn build(settings: &Settings, with_ingest: bool) -> anyhow::Result<Self> {
        let app = db::role_options(
            settings.database_url.expose_secret(),
            db::APP_ROLE,
            &settings.passwords.app,
        )?;
        let pool = db::pool_with(app, 20).await.context("connecting as the app role")?;
        let warehouse = warehouse(settings);
        let gold_warehouse = warehouse.clone();
        let jwt = oneclass_api::JwtKeys::new(
            settings.jwt_secret.expose_secret().as_bytes(),
            Duration::from_secs(3600),
        );
        let sql_wire = match &settings.sql_wire {
            Some(wire) => Some(sql_wire(settings, wire, warehouse.clone(), pool.clone()).await?),
            None => None,
        };
        let sql_port = match &sql_wire {
            Some((listener, _)) => Some(listener.local_addr()?.port()),
            None => None,
        };
        let viewer = dashboard_viewer(pool.clone(), jwt.clone());
        let paynow = settings.paynow.as_ref().map(|p| oneclass_api::state::PaynowGateway {
            client: oneclass_paynow::Client::new(
                p.url.clone(),
                p.integration_id.clone(),
                p.integration_key.clone(),
            ),
            public_url: p.public_url.clone(),
        });
        // New messages reach open pages through one listener on PostgreSQL's notifications.
        let live = (oneclass_api::live::Live::new(), pool.clone());
        let router = oneclass_api::router(
            pool,
            jwt,
            warehouse.clone(),
            paynow,
            live.0.clone(),
            settings.sms_report_token.clone(),
        )
        .merge(oneclass_dashboards::router(warehouse, viewer));
        let router = oneclass_api::with_middleware(router);
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let ingest = if with_ingest { Some(ingest_config(settings)?) } else { None };
        // The outbox is sent, and open Paynow payments polled, from the process that runs the
        // background work.
        let background = if with_ingest {
            Some(oneclass_core::db::pool(settings.database_url.expose_secret(), 2).await?)
        } else {
            None
        };
        let outbox = background
            .clone()
            .map(|owner| (owner, crate::outbox::gateway(settings.sms_gateway.as_ref())));
        let paynow_poll = background.zip(settings.paynow.as_ref()).map(|(owner, p)| {
            let client = oneclass_paynow::Client::new(
                p.url.clone(),
                p.integration_id.clone(),
                p.integration_key.clone(),
            );
            (owner, client)
        });
        // Gold follows the lake: rebuilt on a schedule where this process also runs ingest.
        let gold =
            settings.gold_interval.filter(|_| with_ingest).map(|every| (gold_warehouse, every));
        Ok(Self {
            listener,
            router,
            ingest,
            gold,
            sql_wire,
            outbox,
            paynow_poll,
            live,
            port,
            sql_port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The Postgres-wire SQL endpoint's port, when it is served.
    pub fn sql_port(&self) -> Option<u16> {
        self.sql_port
    }

    /// Serves until `shutdown` is cancelled, then drains requests and stops ingest cleanly.
    pub async fn run_until(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let ingest_task =
            self.ingest.map(|cfg| tokio::spawn(supervise_ingest(cfg, shutdown.clone())));
        let gold_task = self.gold.map(|(warehouse, every)| {
            tokio::spawn(rebuild_gold_every(warehouse, every, shutdown.clone()))
        });
        let outbox_task = self.outbox.map(|(pool, gateway)| {
            tokio::spawn(crate::outbox::run(pool, gateway, shutdown.clone()))
        });
        let poll_task = self.paynow_poll.map(|(pool, client)| {
            tokio::spawn(crate::paynow_poll::run(pool, client, shutdown.clone()))
        });
        let wire_task = self.sql_wire.map(|(listener, server)| {
            let stop = shutdown.clone();
            tokio::spawn(server.serve(listener, async move { stop.cancelled().await }))
        });
        let (live, live_pool) = self.live;
        let live_task = tokio::spawn(live.clone().listen(live_pool));
        let stop_live = shutdown.clone();
        // Open event streams end first, or the graceful shutdown would wait for their readers.
        tokio::spawn(async move {
            stop_live.cancelled().await;
            live.stop();
        });
        let stop = shutdown.clone();
        let service = self.router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .context("serving HTTP")?;
        if let Some(task) = ingest_task {
            let _ = task.await;
        }
        if let Some(task) = gold_task {
            let _ = task.await;
        }
        if let Some(task) = wire_task {
            let _ = task.await;
        }
        if let Some(task) = outbox_task {
            let _ = task.await;
        }
        if let Some(task) = poll_task {
            let _ = task.await;
        }
        let _ = live_task.await;
        Ok(())
    }
}

/// Binds the Postgres-wire endpoint beside the HTTP server and loads its TLS files.
async fn sql_wire(
    settings: &Settings,
    wire: &crate::config::WireSettings,
    warehouse: Arc<oneclass_warehouse::Warehouse>,
    pool: sqlx::PgPool,
) -> anyhow::Result<(TcpListener, oneclass_warehouse::wire::WireServer)> {
    let accounts = Arc::new(crate::wire::PlatformAccounts::new(pool, wire.sign_ins_per_minute));
    let mut server = oneclass_warehouse::wire::WireServer::new(warehouse, accounts);
    if let Some((cert, key)) = &wire.tls {
        let read = |path: &std::path::Path| {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        };
        server = server.with_tls(&read(cert)?, &read(key)?)?;
    }
    let addr = std::net::SocketAddr::new(settings.bind.ip(), wire.port);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the Postgres-wire SQL endpoint on {addr}"))?;
    Ok((listener, server))
}

/// Waits until every published table is in silver (the initial snapshot has landed), so that
/// nothing is announced as ready while its dashboards would still be empty.
pub async fn wait_for_lake(settings: &Settings, timeout: Duration) -> anyhow::Result<()> {
    let owner = db::pool(settings.database_url.expose_secret(), 1).await?;
    let mut conn = owner.acquire().await?;
    let tables = oneclass_lake::published_tables(&mut conn, db::PUBLICATION).await?;
    drop(conn);
    owner.close().await;
    let cfg = ingest_config(settings)?;
    let deadline = tokio::time::Instant::now() + timeout;
    for oneclass_lake::PublishedTable { schema, table, .. } in tables {
        // Copied: the snapshot's last commit of the table records its version (the table
        // exists from its first chunk on, before the copy is whole).
        while oneclass_ingest::silver_lsn(&cfg.lake, &cfg.storage_options, &schema, &table)
            .await
            .ok()
            .flatten()
            .is_none()
        {
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("silver.{schema}.{table} did not reach the lake within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

/// `oneclass reconcile`: PostgreSQL (read as the CDC role) against silver, table by table.
/// Run it while ingest is caught up or stopped: changes in flight show up as differences.
pub async fn reconcile(settings: &Settings) -> anyhow::Result<Vec<oneclass_ingest::TableReport>> {
    let cfg = ingest_config(settings)?;
    oneclass_ingest::reconcile(&cfg.source, &cfg.lake, &cfg.storage_options, &cfg.publication)
        .await
        .context("reconciling PostgreSQL with silver")
}

/// The reconcile report as printed, and an error naming how many tables differ, if any do.
pub fn reconcile_outcome(reports: &[oneclass_ingest::TableReport]) -> (String, anyhow::Result<()>) {
    let text = oneclass_ingest::format_reports(reports);
    let differ = reports.iter().filter(|r| !r.is_clean()).count();
    let result = match differ {
        0 => Ok(()),
        1 => Err(anyhow::anyhow!("1 table differs")),
        n => Err(anyhow::anyhow!("{n} tables differ")),
    };
    (text, result)
}

/// Rebuilds gold every `every` until `shutdown`; a failed rebuild is logged and tried again at
/// the next turn (the previous gold stays readable meanwhile).
pub async fn rebuild_gold_every(
    warehouse: Arc<oneclass_warehouse::Warehouse>,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let started = std::time::Instant::now();
        let rebuilt = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = warehouse.rebuild_gold(|_, _, _| {}) => r,
        };
        match rebuilt {
            Ok(report) if report.up_to_date => continue,
            Ok(report) => tracing::info!(
                rows = report.rows(),
                version = report.version,
                skipped = report.skipped.len(),
                seconds = started.elapsed().as_secs_f64(),
                "gold rebuilt"
            ),
            Err(e) => {
                tracing::error!(error = %e, "rebuilding gold failed");
                continue;
            }
        }
        // The early-warning scores follow the lake they are computed from: after each rebuild
        // that found changes.
        let scored = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = crate::early_warning::after_gold(&warehouse) => r,
        };
        match scored {
            Ok(Some(s)) => tracing::info!(
                learners = s.learners,
                version = s.version,
                "early-warning scores written"
            ),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "early-warning scoring failed"),
        }
    }
}

/// Runs ingest, restarting it after a failure: it resumes exactly once from what the lake has.
pub async fn supervise_ingest(cfg: IngestConfig, shutdown: CancellationToken) {
    let mut backoff = Duration::from_millis(500);
    loop {
        match oneclass_ingest::run(cfg.clone(), shutdown.clone()).await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "ingest stopped; restarting");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod viewer_tests {
    use super::*;
    use oneclass_core::types::Role;
    use oneclass_dashboards::Viewer;
    use oneclass_warehouse::Area;

    fn user(role: Role, province: Option<&str>, district: Option<&str>) -> oneclass_api::AuthUser {
        oneclass_api::AuthUser {
            id: uuid::Uuid::nil().into(),
            session: uuid::Uuid::nil().into(),
            role,
            schools: vec![uuid::Uuid::nil().into()],
            province: province.map(str::to_owned),
            district: district.map(str::to_owned),
        }
    }

    #[test]
    fn each_role_sees_its_own_area_and_no_more() {
        let harare = Some("Harare");
        let central = Some("Harare Central");
        assert_eq!(viewer_of(user(Role::Ministry, None, None)), Viewer::Official(Area::National));
        assert_eq!(
            viewer_of(user(Role::ProvinceOfficer, harare, None)),
            Viewer::Official(Area::Province("Harare".into()))
        );
        assert_eq!(
            viewer_of(user(Role::DistrictOfficer, harare, central)),
            Viewer::Official(Area::District("Harare Central".into()))
        );
        // A district officer whose account lacks the district does not get the province.
        assert_eq!(viewer_of(user(Role::DistrictOfficer, harare, None)), Viewer::Public);
        assert_eq!(viewer_of(user(Role::ProvinceOfficer, None, None)), Viewer::Public);
        assert_eq!(
            viewer_of(user(Role::SchoolHead, None, None)),
            Viewer::Staff(vec![uuid::Uuid::nil().to_string()])
        );
        for role in [Role::Analyst, Role::Parent] {
            assert_eq!(viewer_of(user(role, harare, central)), Viewer::Public);
        }
    }
}
