//! A migrated database that outlives the command, for tools that need a live schema (the SQL
//! check in `tools/sqlx-prepare`):
//!
//! ```text
//! scratch-db start DIR   # prints the owner URL of database `oneclass` on a cluster in DIR
//! scratch-db stop DIR    # stops that cluster
//! ```

use std::path::PathBuf;

use anyhow::{Context, bail};
use oneclass_core::cluster::{ClusterOptions, PgCluster};

const PASSWORD: &str = "scratch";

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, dir] = args.as_slice() else {
        bail!("usage: scratch-db start|stop DIR");
    };
    let pgdata = PathBuf::from(dir);
    let opts = ClusterOptions { unsafe_fast: true };
    match command.as_str() {
        "start" => {
            let cluster = PgCluster::start(&pgdata, PASSWORD, &opts).context("start PostgreSQL")?;
            cluster.ensure_database("oneclass").await?;
            let url = cluster.url("oneclass");
            oneclass_core::db::migrate(&url, &oneclass_testkit::passwords()).await?;
            cluster.leave_running();
            println!("{url}");
        }
        "stop" => PgCluster::start(&pgdata, PASSWORD, &opts)?.stop()?,
        other => bail!("unknown command {other:?}: usage: scratch-db start|stop DIR"),
    }
    Ok(())
}
