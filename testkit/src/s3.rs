//! A local S3-compatible server for the tests: moto's standalone server (`moto_server`), which
//! speaks S3's REST protocol including conditional writes (`If-None-Match: *` answered with 412
//! over an existing key). Found as `ONECLASS_MOTO_SERVER`, then `moto_server` on the PATH, then
//! in `target/test-tools/moto-<version>`, where it is installed (python3 venv + pip) on first use.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use oneclass_lake::StorageOptions;

pub const MOTO_VERSION: &str = "5.2.5";

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> anyhow::Result<Self> {
        let server = moto_server()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let me = std::process::id();
        // A shell that ends the server when this test process is gone, however it ends.
        let script = format!(
            "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; \
             while kill -0 {me} 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; kill $pid 2>/dev/null"
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&server)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
        let moto = Self { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            ensure!(Instant::now() < deadline, "moto_server did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }

    /// Creates a bucket (moto accepts any credentials).
    pub async fn create_bucket(&self, bucket: &str) -> anyhow::Result<()> {
        let response =
            reqwest::Client::new().put(format!("{}/{bucket}", self.endpoint)).send().await?;
        ensure!(response.status().is_success(), "creating bucket {bucket}: {}", response.status());
        Ok(())
    }

    /// object_store's options for this server.
    pub fn options(&self) -> StorageOptions {
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "oneclass-test"),
            ("aws_secret_access_key", "oneclass-test-secret"),
            ("aws_region", "us-east-1"),
            ("aws_virtual_hosted_style_request", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // The shell's loop notices its server is gone, or this process, within a second.
        let _ = Command::new("pkill").args(["-P", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn moto_server() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("ONECLASS_MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    if let Some(on_path) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|p| p.join("moto_server")).find(|p| p.is_file())
    }) {
        return Ok(on_path);
    }
    let venv = crate::python::venv(
        &format!("moto-{MOTO_VERSION}"),
        &[&format!("moto[server]=={MOTO_VERSION}")],
    )
    .context("the S3 tests run moto's S3 server")?;
    Ok(venv.join("bin/moto_server"))
}
