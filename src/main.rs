use std::process::ExitCode;

/// What the binary was asked to do.
enum Command {
    /// Serve the routes (the default): the local server, or the Lambda function.
    Serve,
    /// `check [--json]`: try each configured dependency and say what was found.
    Check { json: bool },
    /// `configure`: ask which sources and channels, write `samconfig.toml` and `.env`.
    Configure,
}

const USAGE: &str = "usage: profile-guard [check [--json] | configure]";

fn command(args: &[String]) -> Option<Command> {
    match args {
        [] => Some(Command::Serve),
        [check] if check == "check" => Some(Command::Check { json: false }),
        [configure] if configure == "configure" => Some(Command::Configure),
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
        Some(Command::Configure) => configure(),
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

/// Asks on stderr, reads answers from stdin, writes `samconfig.toml` and `.env` here (the ones found are kept as
/// `.bak`).
fn configure() -> ExitCode {
    let setup =
        match profile_guard::setup::configure(&mut std::io::stdin().lock(), &mut std::io::stderr())
        {
            Ok(setup) => setup,
            Err(e) => {
                eprintln!("\nnothing written: {e}");
                return ExitCode::from(2);
            }
        };
    for (file, text) in [
        ("samconfig.toml", setup.samconfig()),
        (".env", setup.dotenv()),
    ] {
        if let Err(e) = write_keeping_old(file, &text) {
            eprintln!("could not write {file}: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {file}");
    }
    eprintln!(
        "next: make check (the settings against your systems), then make deploy and make check-deployed"
    );
    ExitCode::SUCCESS
}

fn write_keeping_old(file: &str, text: &str) -> std::io::Result<()> {
    if std::path::Path::new(file).exists() {
        std::fs::rename(file, format!("{file}.bak"))?;
    }
    std::fs::write(file, text)
}
