//! Processes on loopback: free ports, the builds a driver measures, programs started with a clean
//! environment and killed when their handle drops, and the memory figures the kernel keeps for them.
//!
//! std's processes, polled from async code: tokio's own would need its `process` feature, and a feature added
//! for the tests' dependency graph rebuilds most of it.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Failure;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory the driver itself was built into (`<target>/<profile>/examples/<driver>`): cargo builds
/// the binaries it measures there too, whatever `CARGO_TARGET_DIR` says.
pub fn target_dir() -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| Failure::broken(format!("no target directory above {}", exe.display())))
}

/// The cargo profile of the binaries a driver measures: `release`, the figures BENCHMARKS.md reports; or `debug`
/// with `MEASURE_PROFILE=debug`, to check a driver itself quickly (its figures then mean nothing).
pub fn measured_profile() -> &'static str {
    match std::env::var("MEASURE_PROFILE").as_deref() {
        Ok("debug") => "debug",
        _ => "release",
    }
}

/// A measured binary, e.g. `profile-guard` or `examples/bare_server`, in the measured profile.
pub fn measured(target: &Path, binary: &str) -> PathBuf {
    target.join(measured_profile()).join(binary)
}

/// `cargo build --quiet ARGS` in the measured profile, in the repository (release: fat LTO, minutes on two
/// cores).
pub async fn build_measured(args: &[&str]) -> Result<(), Failure> {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let profile = (measured_profile() == "release").then_some("--release");
    command
        .current_dir(repo_root())
        .args(["build", "--quiet"])
        .args(profile)
        .args(args);
    let what = ["cargo", "build"]
        .into_iter()
        .chain(profile)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut build = Process::start(&what, command, None)?;
    match build.wait_exit(Duration::from_secs(3600)).await {
        Some(status) if status.success() => Ok(()),
        _ => Err(Failure::broken(format!("{what} failed"))),
    }
}

/// Runs `command` to its end within `bound`, capturing stdout and stderr.
pub async fn output(what: &str, mut command: Command, bound: Duration) -> Result<Output, Failure> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut process = Process::start(what, command, None)?;
    let stdout = process.child.stdout.take();
    let stderr = process.child.stderr.take();
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        tokio::task::spawn_blocking(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(stdout.map(|p| Box::new(p) as _));
    let stderr = read(stderr.map(|p| Box::new(p) as _));
    let status = process
        .wait_exit(bound)
        .await
        .ok_or_else(|| Failure::broken(format!("{what} did not finish within {bound:?}")))?;
    Ok(Output {
        status,
        stdout: stdout.await.unwrap_or_default(),
        stderr: stderr.await.unwrap_or_default(),
    })
}

/// Whether `command` runs and exits 0 within a minute.
pub async fn succeeds(what: &str, command: Command) -> bool {
    output(what, command, Duration::from_secs(60))
        .await
        .is_ok_and(|o| o.status.success())
}

/// `PATH` with the repository's `.venv/bin` first when it exists: `make venv` installs cargo-lambda there.
pub fn path_with_venv() -> std::ffi::OsString {
    let venv = repo_root().join(".venv/bin");
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs = venv
        .is_dir()
        .then_some(venv)
        .into_iter()
        .chain(std::env::split_paths(&rest));
    std::env::join_paths(dirs).unwrap_or(rest)
}

/// A TCP port nothing listens on at the moment, on 127.0.0.1.
pub fn free_port() -> Result<u16, Failure> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Whether an executable `name` is on `PATH`.
pub fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// How to start a server or stub: only `PATH` from the driver's environment, plus the variables given.
pub struct Launch<'a> {
    pub name: &'a str,
    pub program: &'a Path,
    pub env: Vec<(&'a str, String)>,
    /// `taskset -c CPU`: pinned to one CPU (taskset execs the program, so the pid stays the program's).
    pub cpu: Option<&'a str>,
    /// Where stderr goes (and stdout, with `stdout_in_log`); `None` discards both.
    pub log: Option<PathBuf>,
    pub stdout_in_log: bool,
}

pub fn spawn(launch: Launch<'_>) -> Result<Process, Failure> {
    let mut command = match launch.cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpu]).arg(launch.program);
            c
        }
        None => Command::new(launch.program),
    };
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(launch.env)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match launch.log {
        Some(log) if launch.stdout_in_log => Process::start_logged(launch.name, command, log),
        Some(log) => {
            command.stderr(std::fs::File::create(&log)?);
            Process::start(launch.name, command, Some(log))
        }
        None => Process::start(launch.name, command, None),
    }
}

/// A started program. Dropping the handle kills it; [`Process::stop`] ends it politely first.
pub struct Process {
    pub name: String,
    child: Child,
    log: Option<PathBuf>,
}

impl Process {
    /// Starts `command` (stdin closed).
    pub fn start(name: &str, mut command: Command, log: Option<PathBuf>) -> Result<Self, Failure> {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| Failure::missing(format!("{name} did not start: {e}")))?;
        Ok(Process {
            name: name.to_owned(),
            child,
            log,
        })
    }

    /// Starts `command` with stdout and stderr in `log`.
    pub fn start_logged(name: &str, mut command: Command, log: PathBuf) -> Result<Self, Failure> {
        let file = std::fs::File::create(&log)?;
        command.stdout(file.try_clone()?).stderr(file);
        Self::start(name, command, Some(log))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its stdout, when started with `Stdio::piped()`.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Its exit status once it exits, or `None` when `bound` passes first (it keeps running).
    pub async fn wait_exit(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + bound;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(_) => return None,
            }
        }
        None
    }

    /// Waits until 127.0.0.1:`port` accepts connections; fails when the program exits or `within` passes.
    pub async fn wait_port(&mut self, port: u16, within: Duration) -> Result<(), Failure> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline && !self.has_exited() {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Failure::broken(format!(
            "{} did not start on 127.0.0.1:{port}{}",
            self.name,
            self.log_tail(20)
        )))
    }

    /// The last `lines` lines of its log, for an error message.
    pub fn log_tail(&self, lines: usize) -> String {
        let Some(text) = self
            .log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
        else {
            return String::new();
        };
        let all: Vec<&str> = text.lines().collect();
        let tail = all[all.len().saturating_sub(lines)..].join("\n");
        format!("; its last output:\n{tail}")
    }

    /// SIGTERM (a server shuts down, a stub prints its counts), then SIGKILL after 5 s.
    pub async fn stop(mut self) {
        if self.has_exited() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        // Drop kills it if it is still there.
        let _ = self.wait_exit(Duration::from_secs(5)).await;
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`), while the process lives.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    status_number(pid, field)
}

/// The first number of a field of `/proc/PID/status`.
fn status_number(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

pub fn is_root() -> bool {
    status_number(std::process::id(), "Uid") == Some(0)
}

/// VmRSS of one process at a fixed interval, `(seconds since the start, KiB)`, until it exits or the sampler
/// is finished.
pub struct RssSampler {
    samples: Arc<Mutex<Vec<(f64, u64)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let sink = samples.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            while let Some(kib) = status_kib(pid, "VmRSS") {
                if let Ok(mut s) = sink.lock() {
                    s.push((started.elapsed().as_secs_f64(), kib));
                }
                tokio::time::sleep(every).await;
            }
        });
        RssSampler { samples, task }
    }

    pub fn finish(self) -> Vec<(f64, u64)> {
        self.task.abort();
        self.samples
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A directory for one run's files, removed when dropped.
pub struct WorkDir(PathBuf);

impl WorkDir {
    pub fn new(prefix: &str) -> Result<Self, Failure> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("{prefix}.{}.{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(WorkDir(dir))
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
