//! Where the CPU went during a load run: the machine, our process, the load generator's
//! threads and PostgreSQL's processes, from /proc (Linux; absent elsewhere).

use std::path::Path;

/// The load generator's threads (at most 15 characters: Linux's limit), named so that their CPU
/// can be told apart from the server's.
pub(crate) const LOAD_THREAD: &str = "oneclass-load";

/// Busy and total jiffies of the whole machine, from the `cpu` line of /proc/stat (idle and
/// iowait are idle; guest time is already inside user time).
pub fn machine_jiffies(proc_stat: &str) -> Option<(u64, u64)> {
    let line = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// The fields of /proc/PID/stat after the command name (which may hold spaces and
/// parentheses): the first is field 3, the state.
pub(crate) fn stat_fields(pid_stat: &str) -> Option<Vec<&str>> {
    Some(pid_stat[pid_stat.rfind(')')? + 1..].split_whitespace().collect())
}

pub(crate) fn field(fields: &[&str], number: usize) -> Option<u64> {
    fields.get(number.checked_sub(3)?)?.parse().ok()
}

/// User plus system jiffies of a process (all its threads), from /proc/PID/stat; with
/// `reaped_children`, also those of its children it has waited for.
pub fn process_jiffies(pid_stat: &str, reaped_children: bool) -> Option<u64> {
    let f = stat_fields(pid_stat)?;
    let own = field(&f, 14)? + field(&f, 15)?;
    let children = if reaped_children { field(&f, 16)? + field(&f, 17)? } else { 0 };
    Some(own + children)
}

/// The command name of /proc/PID/stat (a thread's name, for a task of /proc/self/task).
pub fn command_name(pid_stat: &str) -> Option<&str> {
    pid_stat.get(pid_stat.find('(')? + 1..pid_stat.rfind(')')?)
}

/// CPU jiffies of this process's threads named `name`.
pub(crate) fn threads_jiffies(name: &str) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat"))
            && command_name(&stat) == Some(name)
        {
            total += process_jiffies(&stat, false).unwrap_or(0);
        }
    }
    Some(total)
}

/// The parent pid, from /proc/PID/stat.
pub fn parent_pid(pid_stat: &str) -> Option<u32> {
    stat_fields(pid_stat)?.get(1)?.parse().ok()
}

/// PostgreSQL's CPU: the postmaster and its reaped children, plus its live children (the
/// backends, the checkpointer, the WAL writer …).
pub(crate) fn postgres_jiffies(postmaster: u32) -> Option<u64> {
    let mut total = process_jiffies(&read_stat(postmaster)?, true)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // A process may end between listing and reading: skip it.
        if let Some(stat) = read_stat(pid)
            && parent_pid(&stat) == Some(postmaster)
        {
            total += process_jiffies(&stat, false).unwrap_or(0);
        }
    }
    Some(total)
}

pub(crate) fn read_stat(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()
}

/// The postmaster's pid: the first line of postmaster.pid in the data folder.
pub(crate) fn postmaster_pid(pgdata: &Path) -> Option<u32> {
    std::fs::read_to_string(pgdata.join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
}

/// CPU use over a stretch of time: the machine's, this process's and PostgreSQL's.
pub(crate) struct CpuMeter {
    postmaster: Option<u32>,
    machine: Option<(u64, u64)>,
    ours: Option<u64>,
    load: Option<u64>,
    postgres: Option<u64>,
}

/// Shares of the machine's CPU time over the stretch (1.0 = every CPU all the time).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuUse {
    pub(crate) machine_busy: f64,
    /// This process (`oneclass-bench`): server and load generator.
    pub(crate) ours: f64,
    /// The load generator's threads, inside `ours`.
    pub(crate) load: Option<f64>,
    pub(crate) postgres: Option<f64>,
}

impl CpuUse {
    /// What is busy beyond us and PostgreSQL: other work on the machine.
    pub(crate) fn other(&self) -> Option<f64> {
        Some((self.machine_busy - self.ours - self.postgres?).max(0.0))
    }
}

impl CpuMeter {
    pub(crate) fn start(postmaster: Option<u32>) -> Self {
        Self {
            postmaster,
            machine: read_machine(),
            ours: read_ours(),
            load: threads_jiffies(LOAD_THREAD),
            postgres: postmaster.and_then(postgres_jiffies),
        }
    }

    pub(crate) fn stop(&self) -> Option<CpuUse> {
        let (busy0, total0) = self.machine?;
        let (busy1, total1) = read_machine()?;
        let total = total1.checked_sub(total0).filter(|t| *t > 0)? as f64;
        let ours = read_ours()?.checked_sub(self.ours?)? as f64;
        let postgres = self
            .postmaster
            .and_then(postgres_jiffies)
            .zip(self.postgres)
            .and_then(|(after, before)| after.checked_sub(before))
            .map(|j| j as f64 / total);
        let load = threads_jiffies(LOAD_THREAD)
            .zip(self.load)
            .and_then(|(after, before)| after.checked_sub(before))
            .map(|j| j as f64 / total);
        Some(CpuUse {
            load,
            machine_busy: busy1.saturating_sub(busy0) as f64 / total,
            ours: ours / total,
            postgres,
        })
    }
}

pub(crate) fn read_machine() -> Option<(u64, u64)> {
    machine_jiffies(&std::fs::read_to_string("/proc/stat").ok()?)
}

pub(crate) fn read_ours() -> Option<u64> {
    process_jiffies(&std::fs::read_to_string("/proc/self/stat").ok()?, false)
}

/// The load generator's runtime: its own worker threads, named [`LOAD_THREAD`], so that simulated
/// users' tasks do not queue on the server's workers and their CPU time is counted apart.
pub(crate) fn load_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
        .thread_name(LOAD_THREAD)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_figures_are_read_from_proc() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n";
        assert_eq!(machine_jiffies(stat), Some((150, 1000)));
        let pid = "1234 (one (odd) name) S 77 1234 1234 0 -1 4194304 500 0 0 0 70 30 5 6 20 0";
        assert_eq!(process_jiffies(pid, false), Some(100));
        assert_eq!(process_jiffies(pid, true), Some(111));
        assert_eq!(parent_pid(pid), Some(77));
        assert_eq!(command_name(pid), Some("one (odd) name"));
        assert_eq!(process_jiffies("no name", false), None);
        assert_eq!(machine_jiffies("intr 5"), None);
    }
}
