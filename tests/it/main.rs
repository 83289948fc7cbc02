//! Integration tests: the real router against a real HTTP directory stub (wiremock) and a real SES emulator
//! (moto's server), every `events/` file replayed, and WSO2's conformance data checked.

mod auth;
mod conformance;
mod directory;
mod edge;
mod events;
mod faults;
mod hostile;
mod idempotency;
mod logs;
mod notice;
mod property;
mod ses;
mod slack;
mod stalled;
mod support;
