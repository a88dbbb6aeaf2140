//! Python tools the tests drive as outside clients (moto's S3 server, psycopg, DuckDB, the
//! `deltalake` package), each in its own venv under `target/test-tools/<name>`, installed with
//! pip from PyPI on first use (needs python3 with venv: `apt-get install -y python3 python3-venv`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, bail, ensure};

/// The venv `name` holding `packages` (pinned `name==version` specs), made on first use.
pub fn venv(name: &str, packages: &[&str]) -> anyhow::Result<PathBuf> {
    // Tests of one binary run on several threads: one installs while the others wait, and the
    // staging folder (named by process) is never shared by two installs.
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let tools = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("test-tools");
    let venv = tools.join(name);
    if venv.join("bin/python").is_file() {
        return Ok(venv);
    }
    install(&tools, &venv, packages).with_context(|| {
        format!("installing {} for the tests with python3 -m venv and pip", packages.join(" "))
    })?;
    Ok(venv)
}

/// Installs into a private folder, then renames it into place: several test binaries may race
/// to install, and a half-made venv is never used.
fn install(tools: &Path, venv: &Path, packages: &[&str]) -> anyhow::Result<()> {
    std::fs::create_dir_all(tools)?;
    let name = venv.file_name().context("a venv name")?.to_string_lossy();
    let staging = tools.join(format!(".{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
        .context("python3 not found")?;
    let status = Command::new(python).args(["-m", "venv"]).arg(&staging).status()?;
    ensure!(status.success(), "{python} -m venv failed");
    let status = Command::new(staging.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(packages)
        .status()?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        bail!("pip install {} failed", packages.join(" "));
    }
    // A venv's scripts name its folder: rewrite them for the final place before the rename.
    for entry in std::fs::read_dir(staging.join("bin"))? {
        let path = entry?.path();
        if let Ok(text) = std::fs::read_to_string(&path) {
            let moved = text.replace(&*staging.to_string_lossy(), &venv.to_string_lossy());
            if moved != text {
                std::fs::write(&path, moved)?;
            }
        }
    }
    if std::fs::rename(&staging, venv).is_err() {
        // Another process got there first.
        let _ = std::fs::remove_dir_all(&staging);
        ensure!(venv.join("bin/python").exists(), "{name} install raced and failed");
    }
    Ok(())
}

/// The Python clients of the lake and of the Postgres-wire endpoint, in one venv.
pub fn clients() -> anyhow::Result<PathBuf> {
    let venv = venv(
        "clients-1",
        &["psycopg[binary]==3.3.9", "duckdb==2.0.1", "deltalake==1.6.6", "pyarrow==26.0.1"],
    )?;
    Ok(venv.join("bin/python"))
}
