//! What the measurement drivers (`bench_load`, `load_faults`, `startup_time`) share: the processes they start on
//! loopback, and the figures they compute. Not an example of its own (no `main.rs`); each driver includes it.
//!
//! Every driver runs its work through [`until_interrupted`]: on Ctrl-C or SIGTERM the work is dropped, and with it
//! every process handle, which kills its process (`process::Process` on drop).

// Each driver uses its own part of this module.
#![allow(dead_code)]

pub mod process;
pub mod stats;

use std::future::Future;
use std::process::ExitCode;

/// A driver's failure: what to print, and the exit status (1: a check failed or a step broke; 2: a tool is
/// missing).
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn broken(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }

    pub fn missing(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::broken(e.to_string())
    }
}

/// Runs `work` to its end, or until Ctrl-C / SIGTERM (exit 130); dropping it stops every process it started.
pub async fn until_interrupted(
    name: &str,
    work: impl Future<Output = Result<(), Failure>>,
) -> ExitCode {
    let outcome = tokio::select! {
        outcome = work => outcome,
        () = profile_guard::endpoint::shutdown_signal() => Err(Failure { message: "interrupted".into(), code: 130 }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{name}: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// An environment knob: its value parsed, or `default` when unset or unparsable.
pub fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// An environment knob kept as text (e.g. a wrk duration such as `10s`).
pub fn knob_text(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}
