//! wrk, the load generator: the Lua script that gives every request its own requestId, one bounded run, and the
//! figures its `done` hook prints.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::driver::Failure;
use crate::driver::process;

/// POSTs WRK_BODY (compact JSON without requestId) with a fresh requestId in every request.
pub const POST_LUA: &str = r#"
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
local rest = f:read("*a"):sub(2)
f:close()
local run = os.getenv("WRK_RUN") or "run"
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function request()
  counter = counter + 1
  local body = '{"requestId":"wrk-' .. run .. '-' .. tostring(tid) .. '-' .. counter .. '",' .. rest
  return wrk.format("POST", "/pre-update-profile", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"#;

/// What the Lua `done` hook printed for one wrk run.
#[derive(Debug, Default, Clone, Copy)]
pub struct WrkResult {
    pub requests: u64,
    pub duration_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub errors: u64,
}

impl WrkResult {
    pub fn parse(output: &str) -> Option<Self> {
        let line = output.lines().find(|l| l.starts_with("WRKRESULT "))?;
        let field = |name: &str| -> Option<u64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
                .parse()
                .ok()
        };
        let errors = ["connect", "read", "write", "status", "timeout"]
            .iter()
            .map(|k| field(k))
            .sum::<Option<u64>>()?;
        Some(WrkResult {
            requests: field("requests")?,
            duration_us: field("duration_us")?.max(1),
            p50_us: field("p50_us")?,
            p99_us: field("p99_us")?,
            max_us: field("max_us")?,
            errors,
        })
    }

    pub fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }
}

/// wrk from the distribution's packages when it is missing.
pub async fn ensure_installed() -> Result<(), Failure> {
    if process::on_path("wrk") {
        return Ok(());
    }
    println!("wrk not found: installing it (apt-get install -y wrk)");
    let apt = |args: &'static [&'static str]| async move {
        let mut command = if process::is_root() {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        command.args(args);
        process::output("apt-get", command, Duration::from_secs(600))
            .await
            .is_ok_and(|o| o.status.success())
    };
    let installed = apt(&["install", "-y", "wrk"]).await
        || (apt(&["update"]).await && apt(&["install", "-y", "wrk"]).await);
    if installed && process::on_path("wrk") {
        Ok(())
    } else {
        Err(Failure::missing("wrk is not installed"))
    }
}

/// A wrk duration: `10s`, `2m`, or plain seconds.
pub fn duration(text: &str) -> Option<Duration> {
    match text.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text).ok(),
    }
}

/// How wrk runs: threads, connections, the CPU it is pinned to, the Lua script.
pub struct Wrk {
    pub threads: u32,
    pub connections: u32,
    pub cpu: Option<&'static str>,
    pub script: PathBuf,
}

impl Wrk {
    /// One run of `duration` (a wrk duration such as `10s`) against 127.0.0.1:`port`; its output. `run` makes the
    /// request ids of this run unique.
    pub async fn run(
        &self,
        port: u16,
        body_file: &Path,
        run: &str,
        duration: &str,
        latency: bool,
    ) -> Result<String, Failure> {
        let mut command = match self.cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpu, "wrk"]);
                c
            }
            None => Command::new("wrk"),
        };
        command
            .args([
                format!("-t{}", self.threads),
                format!("-c{}", self.connections),
                format!("-d{duration}"),
            ])
            .args(latency.then_some("--latency"))
            .arg("-s")
            .arg(&self.script)
            .arg(format!("http://127.0.0.1:{port}/pre-update-profile"))
            .env("WRK_BODY", body_file)
            .env("WRK_RUN", run);
        let bound = self::duration(duration).unwrap_or_default() + Duration::from_secs(30);
        let output = process::output("wrk", command, bound).await?;
        if !output.status.success() {
            return Err(Failure::broken(format!(
                "wrk failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}
