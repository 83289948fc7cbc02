use std::process::ExitCode;

/// What the binary was asked to do.
enum Command {
    /// Serve the routes (the default): the local server, or the Lambda function.
    Serve,
    /// `check [--json]`: try each configured dependency and say what was found.
    Check { json: bool },
}

const USAGE: &str = "usage: profile-guard [check [--json]]";

fn command(args: &[String]) -> Option<Command> {
    match args {
        [] => Some(Command::Serve),
        [check] if check == "check" => Some(Command::Check { json: false }),
        [check, json] if check == "check" && json == "--json" => {
            Some(Command::Check { json: true })
        }
        _ => None,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match command(&args) {
        Some(Command::Serve) => serve().await,
        Some(Command::Check { json }) => check(json).await,
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> ExitCode {
    profile_guard::telemetry::init();
    let config = match profile_guard::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(variable = e.var, error = %e, "configuration error: profile-guard did not start");
            return ExitCode::FAILURE;
        }
    };
    match profile_guard::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "profile-guard stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// Prints the report on stdout (text, or one JSON document); exit 0, 1 when a dependency failed, 2 when the
/// configuration itself is invalid (the error start-up would stop with).
async fn check(json: bool) -> ExitCode {
    let config = match profile_guard::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            match json {
                true => println!(
                    "{}",
                    profile_guard::check::configuration_error(&e.to_string(), e.var)
                ),
                false => eprintln!("configuration error: profile-guard did not start: {e}"),
            }
            return ExitCode::from(2);
        }
    };
    let report = profile_guard::app::check(&config).await;
    match json {
        true => println!("{}", report.to_json()),
        false => print!("{}", report.to_text()),
    }
    ExitCode::from(report.exit_code())
}
