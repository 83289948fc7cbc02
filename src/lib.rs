//! profile-guard: the endpoint WSO2 Identity Server and Asgardeo call before they apply a profile update (the
//! Pre-Update Profile action). Data flows one way: HTTP → action types → policy → directory / notify → action
//! answer → HTTP.

pub mod action;
pub mod app;
pub mod audit;
pub mod auth;
pub mod catchup;
pub mod check;
pub mod claims;
pub mod config;
pub mod consumer;
pub mod directory;
pub mod endpoint;
pub mod hooks;
pub mod idempotency;
pub mod metrics;
pub mod notify;
pub mod okta;
pub mod okta_log;
pub mod okta_users;
pub mod pending;
pub mod pipeline;
pub mod policy;
pub mod queue;
pub mod report;
pub mod secrets;
pub mod setup;
pub mod telemetry;
pub mod text;
pub mod upstream;
pub mod wso2_events;

pub use app::{
    Background, Service, build, build_catchup_with, build_consumer_with, build_with, run,
};
pub use config::Config;
pub use endpoint::{AppState, router};
