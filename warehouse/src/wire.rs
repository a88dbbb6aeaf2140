//! The Postgres-wire endpoint: `psql`, DBeaver, Metabase and psycopg connect to the lake as to a
//! PostgreSQL server and get what `POST /api/v1/sql` gives an analyst.
//!
//! The protocol, `pg_catalog` and the Arrow-to-wire encoding are datafusion-postgres's (over
//! pgwire). What is ours sits around it, per connection:
//! - sign-in by SCRAM-SHA-256 against the platform's accounts ([`Accounts`]);
//! - one DataFusion session per connection, built after sign-in with that account's [`Access`]
//!   (the same scoped, pseudonymised catalogs as the HTTP endpoint) and `pg_catalog` added;
//! - a guard before anything is planned ([`guard::check_wire_statement`]): queries, client
//!   `SET`s, `SHOW` and transaction brackets only;
//! - the warehouse's time limit over planning and streaming (the memory limit is the runtime's,
//!   shared with every other query).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::{
    PgCatalogSchemaProvider, PgCatalogStaticTables, setup_pg_catalog,
};
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::hooks::{HookClient, QueryHook};
use datafusion_postgres::pgwire;
use datafusion_postgres::{DfSessionService, Parser};
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::catalog::CatalogProviderList;
use deltalake::datafusion::common::ParamValues;
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::datasource::TableType;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::logical_expr::LogicalPlan;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use futures::{FutureExt, Sink, StreamExt};
use hmac::{Hmac, Mac};
use pgwire::api::auth::StartupHandler;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::ScramAuth;
use pgwire::api::auth::{AuthSource, DefaultServerParameterProvider, LoginInfo, Password};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type};
use pgwire::api::{ConnectionManager, PgWireConnectionState};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::cancel::CancelRequest;
use pgwire::tokio::tokio_rustls::TlsAcceptor;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OnceCell, Semaphore};
use tokio::time::Instant;

use crate::{Access, Warehouse, WarehouseError, guard};

/// The SCRAM iteration count every account's secret must have been made with: the protocol
/// announces one count for the whole server.
pub const SCRAM_ITERATIONS: u32 = 4096;

/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 64;

/// An account that may sign in over the wire.
pub struct WireAccount {
    /// `Hi(SASLprep(password), salt, SCRAM_ITERATIONS)`, as RFC 5802 defines it.
    pub salted_password: Vec<u8>,
    pub salt: Vec<u8>,
    /// What the account's queries may see.
    pub access: Access,
}

/// Why an account could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountError {
    /// Too many sign-ins from this address or to this account lately: the client must wait.
    TooManyAttempts,
    /// The accounts could not be read (logged; the client is told only that it failed).
    Unavailable(String),
}

/// Where the endpoint finds accounts: the platform's users, kept out of the warehouse.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// The account `username` signs in to from `peer`, or `None` when it does not exist, may not
    /// use SQL or is locked. Each call is a sign-in attempt, to be rate-limited.
    async fn wire_account(
        &self,
        username: &str,
        peer: IpAddr,
    ) -> Result<Option<WireAccount>, AccountError>;

    /// A sign-in to `username` (an account [`Accounts::wire_account`] returned) failed its proof:
    /// it counts towards the account's lockout, as a wrong password over HTTP does.
    async fn sign_in_failed(&self, username: &str);

    /// A sign-in to `username` succeeded: its failures are forgotten.
    async fn signed_in(&self, username: &str);

    /// Whether `username`, signed in with `access` and the SCRAM secret `salted_password`, may
    /// still query with them: asked as a sign-in succeeds (a lockout reached meanwhile by other
    /// connections' failures refuses it) and before every statement, so that a locked account,
    /// a changed password or a changed area ends what a connection opened earlier may do.
    async fn still_allowed(&self, username: &str, access: &Access, salted_password: &[u8]) -> bool;
}

/// The endpoint: a listener, the warehouse its sessions read, the accounts it signs in against.
pub struct WireServer {
    warehouse: Arc<Warehouse>,
    accounts: Arc<dyn Accounts>,
    tls: Option<TlsAcceptor>,
}

impl WireServer {
    pub fn new(warehouse: Arc<Warehouse>, accounts: Arc<dyn Accounts>) -> Self {
        Self { warehouse, accounts, tls: None }
    }

    /// Offers TLS (`sslmode=require` and above) with this certificate chain and private key
    /// (PEM); clients that do not ask for TLS are still served.
    pub fn with_tls(mut self, cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, WarehouseError> {
        use pgwire::tokio::tokio_rustls::rustls;
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let tls_error = |what: &str, e: &dyn std::fmt::Display| {
            WarehouseError::Config(format!("Postgres-wire TLS {what}: {e}"))
        };
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_error("certificate", &e))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| tls_error("key", &e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("protocol versions", &e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| tls_error("certificate and key", &e))?;
        self.tls = Some(TlsAcceptor::from(Arc::new(config)));
        Ok(self)
    }

    /// Serves connections on `listener` until `shutdown` completes; connections already open are
    /// dropped with the task.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut decoy_key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut decoy_key);
        let shared = Arc::new(Shared {
            warehouse: self.warehouse,
            accounts: self.accounts,
            decoy_key,
            connections: Arc::new(ConnectionManager::new()),
            running: Arc::new(Running::default()),
        });
        let mut connections = tokio::task::JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            let (socket, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "Postgres-wire accept failed");
                    continue;
                }
            };
            // At the connection cap a new client is turned away at once; waiting here would stop
            // the loop from seeing shutdown.
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "Postgres-wire connection refused: {MAX_CONNECTIONS} open");
                continue;
            };
            let handlers = Arc::new(Connection::new(shared.clone(), peer));
            let tls = self.tls.clone();
            connections.spawn(async move {
                let _permit = permit;
                if let Err(e) = pgwire::tokio::process_socket(socket, tls, handlers).await {
                    tracing::debug!(%peer, error = %e, "Postgres-wire connection ended");
                }
            });
        }
        connections.shutdown().await;
    }
}

struct Shared {
    warehouse: Arc<Warehouse>,
    accounts: Arc<dyn Accounts>,
    /// Keys the decoy salts of unknown accounts; random for each server run.
    decoy_key: [u8; 32],
    /// Signed-in connections by the key a client cancels with (psql's Ctrl-C): pgwire cancels a
    /// statement being planned through it.
    connections: Arc<ConnectionManager>,
    /// The statements whose rows are streaming, by the same key: this endpoint cancels those.
    running: Arc<Running>,
}

/// The cancel signal of each connection's current statement, by its cancel key.
#[derive(Default)]
struct Running {
    by_key: Mutex<HashMap<CancelKey, Arc<Notify>>>,
}

/// A connection's cancel key: its process id and secret, as BackendKeyData gave them.
type CancelKey = (i32, Vec<u8>);

/// Forgets a connection's cancel signal when the connection ends (kept in its session).
struct RunningGuard {
    key: CancelKey,
    running: Arc<Running>,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.running.by_key.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
    }
}

/// A cancel request (on a connection of its own, as PostgreSQL's): the statement it names
/// stops, whether it is still being planned (pgwire's handle) or streaming its rows (ours).
struct WireCancel {
    connections: Arc<ConnectionManager>,
    running: Arc<Running>,
}

#[async_trait]
impl CancelHandler for WireCancel {
    async fn on_cancel_request(&self, request: CancelRequest) {
        self.connections.cancel(request.pid, &request.secret_key).await;
        let key = (request.pid, request.secret_key.to_bytes().to_vec());
        let signal =
            self.running.by_key.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
        if let Some(signal) = signal {
            signal.notify_one();
        }
    }
}

/// One client connection's handlers: its sign-in, and after it, its session.
struct Connection {
    startup: Arc<SignIn>,
    queries: Arc<Queries>,
    cancel: Arc<WireCancel>,
}

impl Connection {
    fn new(shared: Arc<Shared>, peer: SocketAddr) -> Self {
        let access = Arc::new(OnceLock::new());
        let pending = Arc::new(Mutex::new(None));
        let source =
            Arc::new(AccountSource { shared: shared.clone(), pending: pending.clone(), peer });
        let mut scram = ScramAuth::new(source);
        scram.set_iterations(SCRAM_ITERATIONS as usize);
        let sasl = SASLAuthStartupHandler::new(Arc::new(DefaultServerParameterProvider::default()))
            .with_scram(scram)
            .with_connection_manager(shared.connections.clone());
        let signed = Arc::new(OnceLock::new());
        let startup = SignIn {
            sasl,
            pending,
            access: access.clone(),
            signed: signed.clone(),
            accounts: shared.accounts.clone(),
        };
        let session = Arc::new(OnceCell::new());
        let parser = Arc::new(LazyParser {
            shared: shared.clone(),
            access: access.clone(),
            session: session.clone(),
        });
        let cancel = Arc::new(WireCancel {
            connections: shared.connections.clone(),
            running: shared.running.clone(),
        });
        Self {
            startup: Arc::new(startup),
            queries: Arc::new(Queries { shared, access, signed, session, parser }),
            cancel,
        }
    }
}

/// The account a sign-in is for, before its proof is checked: username, access, SCRAM secret.
type Pending = (String, Access, Vec<u8>);

/// pgwire's SCRAM exchange, and the one place a connection gets its access: once the exchange
/// has succeeded. (pgwire leaves a connection whose proof failed in the query state; with no
/// access, its queries are refused.)
struct SignIn {
    sasl: SASLAuthStartupHandler<DefaultServerParameterProvider>,
    /// The account being signed in to (its username and access), before its proof is checked.
    pending: Arc<Mutex<Option<Pending>>>,
    access: Arc<OnceLock<Access>>,
    signed: Arc<OnceLock<(String, Vec<u8>)>>,
    accounts: Arc<dyn Accounts>,
}

#[async_trait]
impl StartupHandler for SignIn {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let outcome = self.sasl.on_startup(client, message).await;
        if let Err(PgWireError::InvalidPassword(_)) = &outcome {
            let failed = self.pending.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some((username, _, _)) = failed {
                self.accounts.sign_in_failed(&username).await;
            }
        }
        outcome?;
        if matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            let signed_in = self.pending.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some((username, access, secret)) = signed_in {
                // Proofs sent at once on many connections are each checked against the account
                // as it was looked up: one that lands after the others' failures locked it is
                // refused, so parallel guesses get no more than sequential ones.
                if !self.accounts.still_allowed(&username, &access, &secret).await {
                    return Err(refused());
                }
                self.accounts.signed_in(&username).await;
                let _ = self.access.set(access);
                let _ = self.signed.set((username, secret));
            }
        }
        Ok(())
    }
}

impl PgWireServerHandlers for Connection {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.queries.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.queries.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}

/// Looks the signing-in user up; remembers their access for the session built after sign-in.
#[derive(Debug)]
struct AccountSource {
    shared: Arc<Shared>,
    pending: Arc<Mutex<Option<Pending>>>,
    peer: SocketAddr,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("warehouse", &self.warehouse).finish_non_exhaustive()
    }
}

#[async_trait]
impl AuthSource for AccountSource {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let fatal = |code: &str, message: &str| {
            PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".to_owned(),
                code.to_owned(),
                message.to_owned(),
            )))
        };
        let account = match self.shared.accounts.wire_account(user, self.peer.ip()).await {
            Ok(account) => account,
            Err(AccountError::TooManyAttempts) => {
                tracing::warn!(peer = %self.peer, "Postgres-wire sign-in refused: too many attempts");
                return Err(fatal(
                    "28000",
                    "too many sign-in attempts: wait a minute and try again",
                ));
            }
            Err(AccountError::Unavailable(e)) => {
                tracing::error!(error = %e, "Postgres-wire account lookup failed");
                return Err(fatal("XX000", "account lookup failed"));
            }
        };
        match account {
            Some(account) => {
                *self.pending.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((user.to_owned(), account.access, account.salted_password.clone()));
                Ok(Password::new(Some(account.salt), account.salted_password))
            }
            // An unknown user goes through the same exchange and fails at its end, like a wrong
            // password. Its salt is keyed with this server's secret, the same at every attempt
            // and not computable outside, so the exchange does not tell which accounts exist.
            None => {
                tracing::info!(peer = %self.peer, "Postgres-wire sign-in for an unknown account");
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.shared.decoy_key)
                    .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
                mac.update(user.as_bytes());
                let salt = mac.finalize().into_bytes()[..16].to_vec();
                Ok(Password::new(Some(salt), rand_bytes()))
            }
        }
    }
}

/// The error of a connection whose account may no longer do what it signed in to do.
fn refused() -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_owned(),
        "28000".to_owned(),
        "this account may no longer query with what it signed in with (locked, its password \
         changed or its area moved): sign in again"
            .to_owned(),
    )))
}

fn rand_bytes() -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The statement type of datafusion-postgres's handlers: the SQL text and, once parsed, the
/// statement and its logical plan.
type DfStatement = (String, Option<(SqlStatement, LogicalPlan)>);

struct Queries {
    shared: Arc<Shared>,
    access: Arc<OnceLock<Access>>,
    /// The account signed in to and the secret it signed in with.
    signed: Arc<OnceLock<(String, Vec<u8>)>>,
    session: Arc<OnceCell<Arc<DfSessionService>>>,
    parser: Arc<LazyParser>,
}

/// The connection's session, built on first use after sign-in.
async fn session(
    shared: &Shared,
    access: &OnceLock<Access>,
    cell: &OnceCell<Arc<DfSessionService>>,
) -> PgWireResult<Arc<DfSessionService>> {
    let service = cell
        .get_or_try_init(|| async {
            let access = access.get().ok_or(PgWireError::NotReadyForQuery)?;
            let ctx = shared.warehouse.session(access).await.map_err(to_wire_error)?;
            install_pg_catalog(&ctx).map_err(to_wire_error)?;
            let guard = Guard { warehouse: shared.warehouse.clone(), access: access.clone() };
            let hooks: Vec<Arc<dyn QueryHook>> =
                vec![Arc::new(guard), Arc::new(SetShowHook), Arc::new(TransactionStatementHook)];
            Ok::<_, PgWireError>(Arc::new(DfSessionService::new_with_hooks(Arc::new(ctx), hooks)))
        })
        .await?;
    Ok(service.clone())
}

/// PostgreSQL's catalog tables for the session (psql's `\dt` and `\d`, BI tools' table
/// browsers), over [`WireCatalogs`]; and the functions those tools call.
fn install_pg_catalog(ctx: &SessionContext) -> Result<(), WarehouseError> {
    let df = |e: Box<DataFusionError>| WarehouseError::from(*e);
    setup_pg_catalog(ctx, oneclass_lake::SILVER, EmptyContextProvider).map_err(df)?;
    let catalogs = WireCatalogs { inner: ctx.state().catalog_list().clone() };
    let tables = Arc::new(PgCatalogStaticTables::try_new()?);
    let provider = PgCatalogSchemaProvider::try_new(catalogs, tables, EmptyContextProvider)?;
    let silver = ctx
        .catalog(oneclass_lake::SILVER)
        .ok_or_else(|| WarehouseError::Config("the session has no silver catalog".into()))?;
    silver.register_schema("pg_catalog", Arc::new(provider))?;
    Ok(())
}

/// The lake as PostgreSQL clients browse it: silver (the default catalog, so `sis.learners` is
/// `silver.sis.learners`) and gold, every table a table. Bronze, the change log, stays reachable
/// by name (`bronze.sis.learners`) but is not listed beside silver, where its schemas would
/// show every table twice.
#[derive(Clone)]
struct WireCatalogs {
    inner: Arc<dyn CatalogProviderList>,
}

impl std::fmt::Debug for WireCatalogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WireCatalogs")
    }
}

#[async_trait]
impl CatalogInfo for WireCatalogs {
    async fn catalog_names(&self) -> Result<Vec<String>, DataFusionError> {
        // A fixed order: the catalog tables number schemas and tables in it.
        Ok([oneclass_lake::SILVER, oneclass_lake::GOLD]
            .into_iter()
            .filter(|c| self.inner.catalog(c).is_some())
            .map(str::to_owned)
            .collect())
    }

    async fn schema_names(&self, catalog: &str) -> Result<Option<Vec<String>>, DataFusionError> {
        Ok(self.inner.catalog(catalog).map(|c| {
            let mut schemas = c.schema_names();
            schemas.sort();
            schemas
        }))
    }

    async fn table_names(
        &self,
        catalog: &str,
        schema: &str,
    ) -> Result<Option<Vec<String>>, DataFusionError> {
        CatalogInfo::table_names(&self.inner, catalog, schema).await.map(|names| {
            names.map(|mut names| {
                names.sort();
                names
            })
        })
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<SchemaRef>, DataFusionError> {
        CatalogInfo::table_schema(&self.inner, catalog, schema, table).await
    }

    /// An analyst's tables are filtered views of the lake's, but to a client they are the tables
    /// there are: listed by `\dt`, as a BI tool lists tables.
    async fn table_type(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<TableType>, DataFusionError> {
        let known = CatalogInfo::table_type(&self.inner, catalog, schema, table).await?;
        Ok(known.map(|kind| if schema == "pg_catalog" { kind } else { TableType::Base }))
    }
}

impl Queries {
    /// The connection's session, once its account is still allowed what it signed in with.
    async fn service(&self) -> PgWireResult<Arc<DfSessionService>> {
        let (Some((username, secret)), Some(access)) = (self.signed.get(), self.access.get())
        else {
            return Err(PgWireError::NotReadyForQuery);
        };
        if !self.shared.accounts.still_allowed(username, access, secret).await {
            return Err(refused());
        }
        session(&self.shared, &self.access, &self.session).await
    }

    fn time_limit(&self) -> Duration {
        self.shared.warehouse.limits().timeout
    }

    /// What ends the statement about to run: the time limit, or the client's cancel request
    /// (each statement takes over the connection's cancel key from the one before).
    async fn stop(&self, client: &impl ClientInfo) -> Stop {
        let limit = self.time_limit();
        let (pid, secret) = client.pid_and_secret_key();
        let key: CancelKey = (pid, secret.to_bytes().to_vec());
        let signal = Arc::new(Notify::new());
        let running = &self.shared.running;
        running
            .by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), signal.clone());
        client
            .session_extensions()
            .get_or_insert_with(|| RunningGuard { key, running: running.clone() });
        let cancelled: futures::future::BoxFuture<'static, ()> =
            Box::pin(async move { signal.notified().await });
        Stop { deadline: Instant::now() + limit, limit, cancelled: cancelled.shared() }
    }
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let service = self.service().await?;
        let stop = self.stop(client).await;
        let running = SimpleQueryHandler::do_query(service.as_ref(), client, query);
        let responses = stop.run(running).await?;
        Ok(responses.into_iter().map(|r| within(r, &stop)).collect())
    }
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = DfStatement;
    type QueryParser = LazyParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let service = self.service().await?;
        let stop = self.stop(client).await;
        let running = ExtendedQueryHandler::do_query(service.as_ref(), client, portal, max_rows);
        let response = stop.run(running).await?;
        Ok(within(response, &stop))
    }
}

/// datafusion-postgres's parser over the connection's session, which exists once the client has
/// signed in (before that, pgwire accepts no Parse message).
pub struct LazyParser {
    shared: Arc<Shared>,
    access: Arc<OnceLock<Access>>,
    session: Arc<OnceCell<Arc<DfSessionService>>>,
}

impl LazyParser {
    fn inner(&self) -> PgWireResult<Arc<Parser>> {
        self.session
            .get()
            .map(|service| ExtendedQueryHandler::query_parser(service.as_ref()))
            .ok_or(PgWireError::NotReadyForQuery)
    }
}

#[async_trait]
impl QueryParser for LazyParser {
    type Statement = DfStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let service = session(&self.shared, &self.access, &self.session).await?;
        let parser = ExtendedQueryHandler::query_parser(service.as_ref());
        parser.parse_sql(client, sql, types).await.map_err(map_error)
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.inner()?.get_parameter_types(stmt)
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        self.inner()?.get_result_schema(stmt, column_format)
    }
}

/// Refuses, before planning, every statement the endpoint does not serve; answers `EXPLAIN`
/// through the warehouse, which shows the files a plan reads below the lake's root only (as over
/// HTTP), never where the lake lives on the server.
struct Guard {
    warehouse: Arc<Warehouse>,
    access: Access,
}

impl Guard {
    fn check<T>(statement: &SqlStatement) -> Option<PgWireResult<T>> {
        guard::check_wire_statement(statement).err().map(|e| Err(to_wire_error(e)))
    }

    /// The redacted output of an `EXPLAIN`, as a table; None for any other statement.
    async fn explained(
        &self,
        statement: &SqlStatement,
        ctx: &SessionContext,
    ) -> Option<PgWireResult<DataFrame>> {
        if !matches!(statement, SqlStatement::Explain { .. }) {
            return None;
        }
        let out = match self.warehouse.query(&statement.to_string(), &self.access).await {
            Ok(out) => out,
            Err(e) => return Some(Err(to_wire_error(e))),
        };
        Some(ctx.read_batches(out.batches).map_err(|e| to_wire_error(WarehouseError::from(e))))
    }
}

#[async_trait]
impl QueryHook for Guard {
    async fn handle_simple_query(
        &self,
        statement: &SqlStatement,
        ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        if let Some(refused) = Self::check(statement) {
            return Some(refused);
        }
        let df = match self.explained(statement, ctx).await? {
            Ok(df) => df,
            Err(e) => return Some(Err(e)),
        };
        Some(encode_dataframe(df, &Format::UnifiedText, None).await.map(Response::Query))
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &SqlStatement,
        ctx: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        if let Some(refused) = Self::check(statement) {
            return Some(refused);
        }
        Some(self.explained(statement, ctx).await?.map(DataFrame::into_unoptimized_plan))
    }

    async fn handle_extended_query(
        &self,
        statement: &SqlStatement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        _ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        Self::check(statement)
    }
}

/// What ends a statement early: its deadline (the time limit) or the client's cancel request.
struct Stop {
    deadline: Instant,
    limit: Duration,
    cancelled: futures::future::Shared<futures::future::BoxFuture<'static, ()>>,
}

impl Stop {
    /// `running` until it answers, or the time-limit or cancel error.
    async fn run<T>(&self, running: impl Future<Output = PgWireResult<T>>) -> PgWireResult<T> {
        tokio::select! {
            answered = tokio::time::timeout_at(self.deadline, running) => {
                answered.map_err(|_| time_limit_error(self.limit))?.map_err(map_error)
            }
            () = self.cancelled.clone() => Err(cancelled_error()),
        }
    }
}

/// A query's rows stop at the deadline with the time-limit error, or at a cancel request with
/// PostgreSQL's; dropping the row stream cancels the plan's tasks.
fn within(response: Response, stop: &Stop) -> Response {
    let Response::Query(mut query) = response else { return response };
    let rows = std::mem::replace(&mut query.data_rows, Box::pin(futures::stream::empty()));
    type Rows =
        Pin<Box<dyn futures::Stream<Item = PgWireResult<pgwire::messages::data::DataRow>> + Send>>;
    let (deadline, limit, cancelled) = (stop.deadline, stop.limit, stop.cancelled.clone());
    let stream = futures::stream::unfold(Some(rows as Rows), move |rows| {
        let cancelled = cancelled.clone();
        async move {
            let mut rows = rows?;
            tokio::select! {
                next = tokio::time::timeout_at(deadline, rows.next()) => match next {
                    Ok(Some(row)) => Some((row.map_err(map_error), Some(rows))),
                    Ok(None) => None,
                    Err(_) => Some((Err(time_limit_error(limit)), None)),
                },
                () = cancelled => Some((Err(cancelled_error()), None)),
            }
        }
    });
    query.data_rows = Box::pin(stream);
    Response::Query(query)
}

/// PostgreSQL's answer to a statement its client cancelled.
fn cancelled_error() -> PgWireError {
    PgWireError::UserError(Box::new(error_info(
        "57014",
        "canceling statement due to user request".to_owned(),
    )))
}

fn error_info(code: &str, message: String) -> ErrorInfo {
    ErrorInfo::new("ERROR".to_owned(), code.to_owned(), message)
}

fn time_limit_error(limit: Duration) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(
        "57014",
        format!(
            "canceling statement: the query ran past the server's time limit of {} s",
            limit.as_secs_f64()
        ),
    )))
}

/// The warehouse's errors with PostgreSQL's codes, so clients show them as they would a server's.
fn to_wire_error(error: WarehouseError) -> PgWireError {
    let code = match &error {
        WarehouseError::Refused(_) => "42501",
        WarehouseError::Syntax(_) => "42601",
        WarehouseError::Invalid(_) => "42P01",
        WarehouseError::Execution(_) => "22000",
        WarehouseError::Timeout(_) => "57014",
        WarehouseError::ResourcesExhausted(_) => "53200",
        _ => {
            tracing::error!(error = %error, "Postgres-wire query failed inside the server");
            return PgWireError::UserError(Box::new(error_info(
                "XX000",
                "internal error: the query failed inside the server (logged)".into(),
            )));
        }
    };
    PgWireError::UserError(Box::new(error_info(code, error.to_string())))
}

/// datafusion-postgres reports engine errors as opaque API errors; the memory limit and plan
/// errors get their own codes and a message that says what happened.
fn map_error(error: PgWireError) -> PgWireError {
    match error {
        PgWireError::ApiError(inner) => match inner.downcast::<DataFusionError>() {
            Ok(engine) => to_wire_error(WarehouseError::from(*engine)),
            Err(other) => PgWireError::UserError(Box::new(error_info("42000", other.to_string()))),
        },
        other => other,
    }
}
