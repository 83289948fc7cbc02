//! Integration tests: the real router against a real HTTP directory stub (wiremock) and a real SES emulator
//! (moto's server), every `events/` file replayed, and WSO2's conformance data checked.

mod conformance;
mod directory;
mod events;
mod idempotency;
mod logs;
mod notice;
mod ses;
mod slack;
mod support;
