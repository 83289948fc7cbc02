use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
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
