//! Integration tests: the real router against a real HTTP directory stub (wiremock) and a real SES emulator
//! (moto's server), every `events/` file replayed, WSO2's conformance data checked, and the code's shape.

mod auth;
mod auth_jwt;
mod changes;
mod channel_limits;
mod check;
mod conformance;
mod department_path;
mod directory;
mod edge;
mod events;
mod faults;
mod hostile;
mod idempotency;
mod layering;
mod logs;
mod masking;
mod notice;
mod okta;
mod once_per_change;
mod property;
mod queue;
mod refusals;
mod report;
mod secrets_shapes;
mod ses;
mod slack;
mod slack_dm;
mod stalled;
mod support;
mod teams;
mod templates_startup;
mod wso2_webhook;
