//! profile-guard: the endpoint WSO2 Identity Server and Asgardeo call before they apply a profile update (the
//! Pre-Update Profile action). Data flows one way: HTTP → action types → policy → directory / notify → action
//! answer → HTTP.

pub mod action;
pub mod app;
pub mod auth;
pub mod claims;
pub mod config;
pub mod directory;
pub mod guard;
pub mod http;
pub mod idempotency;
pub mod notify;
pub mod policy;
pub mod secrets;
pub mod telemetry;

pub use app::{build_state, build_state_with, run};
pub use config::Config;
pub use http::{AppState, router};

/// The HTTP client for an upstream (the directory, Slack): built once at start-up, a hard time limit on the whole
/// exchange, no redirects (a redirect could carry the token elsewhere).
pub(crate) fn upstream_client(
    timeout: std::time::Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("profile-guard/", env!("CARGO_PKG_VERSION")))
        .build()
}
