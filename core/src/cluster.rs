//! A private PostgreSQL cluster for the demo and the tests: `initdb` with logical replication
//! on, started on a free loopback port, data under the caller's folder. As root the server runs
//! as the `postgres` user (initdb refuses root). A cluster left running by a killed process is
//! adopted, not started twice.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::CoreError;

/// The bootstrap superuser of a private cluster; it owns the OneClass database.
pub const OWNER_ROLE: &str = "oneclass";

#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Trade durability for speed (`fsync=off` and friends): for throwaway test clusters only.
    pub unsafe_fast: bool,
}

/// A running private cluster. `stop` (or drop) shuts it down with a fast shutdown.
#[derive(Debug)]
pub struct PgCluster {
    pgdata: PathBuf,
    bindir: PathBuf,
    port: u16,
    run_as_postgres: bool,
    password: String,
    stopped: bool,
}

impl PgCluster {
    /// Initialises `pgdata` if it is empty, then starts the server (or adopts one already running
    /// on that folder). `password` is the owner's password, set at initdb and used thereafter.
    pub fn start(pgdata: &Path, password: &str, opts: &ClusterOptions) -> Result<Self, CoreError> {
        let bindir = find_bindir()?;
        let run_as_postgres = is_root();
        std::fs::create_dir_all(pgdata).map_err(CoreError::io(pgdata))?;
        let pgdata = pgdata.canonicalize().map_err(CoreError::io(pgdata))?;
        let mut cluster = Self {
            pgdata,
            bindir,
            port: 0,
            run_as_postgres,
            password: password.into(),
            stopped: false,
        };
        if run_as_postgres {
            cluster.check_reachable()?;
            cluster.run("chown", &["-R", "postgres:postgres", &cluster.pgdata_str()], false)?;
            cluster.run("chmod", &["700", &cluster.pgdata_str()], false)?;
        }
        if !cluster.pgdata.join("PG_VERSION").exists() {
            cluster.initdb(opts)?;
        }
        if let Some(port) = cluster.running_port() {
            tracing::info!(port, "adopting the PostgreSQL server already running on this folder");
            cluster.port = port;
        } else {
            cluster.port = free_port()?;
            let log = cluster.pgdata.join("server.log");
            let pg_ctl = cluster.bin("pg_ctl");
            let port_opt = format!("-p {}", cluster.port);
            cluster.run(
                &pg_ctl,
                &[
                    "-D",
                    &cluster.pgdata_str(),
                    "-l",
                    &log.to_string_lossy(),
                    "-w",
                    "-t",
                    "120",
                    "-o",
                    &port_opt,
                    "start",
                ],
                true,
            )?;
        }
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// `postgres://oneclass:…@127.0.0.1:PORT/DB`: the owner connection.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{OWNER_ROLE}:{}@127.0.0.1:{}/{database}", self.password, self.port)
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> Result<(), CoreError> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres")).await?;
        // The queries of this crate are not compile-checked: it builds the scratch database the
        // check of all the others runs against (tools/sqlx-prepare).
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(database)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            let ident = database.replace('"', "\"\"");
            sqlx::raw_sql(&format!("CREATE DATABASE \"{ident}\"")).execute(&mut conn).await?;
        }
        conn.close().await?;
        Ok(())
    }

    /// Fast shutdown; idempotent.
    pub fn stop(&mut self) -> Result<(), CoreError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let pg_ctl = self.bin("pg_ctl");
        self.run(&pg_ctl, &["-D", &self.pgdata_str(), "-m", "fast", "-w", "stop"], true)?;
        Ok(())
    }

    /// Lets go of the server without stopping it: a later `start` on the same folder adopts it,
    /// and `stop` there shuts it down (the SQL check's scratch database lives across commands).
    pub fn leave_running(mut self) {
        self.stopped = true;
    }

    /// Kills the postmaster without a clean shutdown (crash tests). The next `start` recovers.
    pub fn kill(&mut self) -> Result<(), CoreError> {
        let pg_ctl = self.bin("pg_ctl");
        self.run(&pg_ctl, &["-D", &self.pgdata_str(), "-m", "immediate", "-w", "stop"], true)?;
        Ok(())
    }

    /// Arranges for the server to be stopped once process `pid` has exited, however it exits:
    /// test binaries share one cluster in a static, which is never dropped.
    pub fn stop_when_process_exits(&self, pid: u32) -> Result<(), CoreError> {
        self.watchdog(pid, None)
    }

    /// [`stop_when_process_exits`](Self::stop_when_process_exits), then removes `folder` (the
    /// cluster's scratch folder, when the process cannot remove it itself: a cluster held in a
    /// static is never dropped).
    pub fn stop_and_remove_when_process_exits(
        &self,
        pid: u32,
        folder: &Path,
    ) -> Result<(), CoreError> {
        self.watchdog(pid, Some(folder))
    }

    fn watchdog(&self, pid: u32, remove: Option<&Path>) -> Result<(), CoreError> {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        let pg_ctl = self.bin("pg_ctl");
        let stop = if self.run_as_postgres {
            format!(
                "runuser -u postgres -- {pg_ctl} -D {} -m immediate stop",
                quote(&self.pgdata_str())
            )
        } else {
            format!("{pg_ctl} -D {} -m immediate stop", quote(&self.pgdata_str()))
        };
        let remove = remove
            .map(|f| format!("; rm -rf -- {}", quote(&f.to_string_lossy())))
            .unwrap_or_default();
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1{remove}"
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| CoreError::Command { command: "sh".into(), detail: e.to_string() })?;
        Ok(())
    }

    fn initdb(&self, opts: &ClusterOptions) -> Result<(), CoreError> {
        let pwfile = self.pgdata.with_extension("pwfile");
        std::fs::write(&pwfile, format!("{}\n", self.password)).map_err(CoreError::io(&pwfile))?;
        if self.run_as_postgres {
            self.run("chown", &["postgres:postgres", &pwfile.to_string_lossy()], false)?;
        }
        let initdb = self.bin("initdb");
        let result = self.run(
            &initdb,
            &[
                "-D",
                &self.pgdata_str(),
                "-U",
                OWNER_ROLE,
                "--pwfile",
                &pwfile.to_string_lossy(),
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            true,
        );
        let _ = std::fs::remove_file(&pwfile);
        result?;
        let mut conf = String::from(
            "\n# OneClass private cluster\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = ''\nwal_level = logical\nmax_replication_slots = 20\n\
             max_wal_senders = 20\nmax_connections = 200\nshared_buffers = 256MB\n\
             max_wal_size = 4GB\n\
             wal_sender_timeout = 60s\ntimezone = 'UTC'\nlog_timezone = 'UTC'\n",
        );
        if opts.unsafe_fast {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
            // A test binary's cluster holds a database, and a replication slot, per test: more
            // than a demo's 20 (the later lines of the file win).
            conf.push_str("max_replication_slots = 100\nmax_wal_senders = 100\n");
        }
        let path = self.pgdata.join("postgresql.conf");
        let mut existing = std::fs::read_to_string(&path).map_err(CoreError::io(&path))?;
        existing.push_str(&conf);
        std::fs::write(&path, existing).map_err(CoreError::io(&path))?;
        Ok(())
    }

    /// The port of a server already running on this folder, if any (from postmaster.pid).
    fn running_port(&self) -> Option<u16> {
        let pg_ctl = self.bin("pg_ctl");
        self.run(&pg_ctl, &["-D", &self.pgdata_str(), "status"], true).ok()?;
        let pid = std::fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        pid.lines().nth(3)?.trim().parse().ok()
    }

    fn check_reachable(&self) -> Result<(), CoreError> {
        let parent = self.pgdata.parent().unwrap_or(Path::new("/"));
        let ok = Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-x", &parent.to_string_lossy()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok { Ok(()) } else { Err(CoreError::DataDirNotReachable(parent.to_path_buf())) }
    }

    fn bin(&self, name: &str) -> String {
        self.bindir.join(name).to_string_lossy().into_owned()
    }

    fn pgdata_str(&self) -> String {
        self.pgdata.to_string_lossy().into_owned()
    }

    /// Runs a command, as the postgres user when `as_postgres` and we are root.
    fn run(&self, program: &str, args: &[&str], as_postgres: bool) -> Result<String, CoreError> {
        let mut cmd = if as_postgres && self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args).current_dir("/");
        let out = cmd.output().map_err(|e| CoreError::Command {
            command: program.to_string(),
            detail: e.to_string(),
        })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(CoreError::Command {
                command: format!("{program} {}", args.join(" ")),
                detail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stderr),
                    String::from_utf8_lossy(&out.stdout)
                ),
            })
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "stopping PostgreSQL failed");
        }
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

fn free_port() -> Result<u16, CoreError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(CoreError::io("127.0.0.1:0"))?;
    let port = listener.local_addr().map_err(CoreError::io("127.0.0.1:0"))?.port();
    Ok(port)
}

/// Finds the server binaries: `PG_BINDIR`, then `initdb` on PATH, then the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout, which does not put them on PATH).
pub fn find_bindir() -> Result<PathBuf, CoreError> {
    if let Ok(dir) = std::env::var("PG_BINDIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("initdb");
            if candidate.exists() {
                let real = candidate.canonicalize().unwrap_or(candidate);
                if let Some(parent) = real.parent()
                    && parent.join("pg_ctl").exists()
                    && parent.join("postgres").exists()
                {
                    return Ok(parent.to_path_buf());
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
                    let bin = e.path().join("bin");
                    bin.join("initdb").exists().then_some((v, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().map(|(_, p)| p).ok_or(CoreError::PostgresNotInstalled)
}
