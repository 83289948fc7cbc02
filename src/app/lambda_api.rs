//! The API function under the Lambda runtime: API Gateway events go to the router; a direct invocation with the
//! payload `{"check": true}` (which API Gateway can never send: its events are envelopes with the body inside)
//! runs `profile-guard check` and answers its report.

use std::sync::Arc;

use axum::Router;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, LambdaEvent, Service, service_fn};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::StartupError;
use crate::config::Config;

/// The one payload that runs the check: exactly `{"check": true}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckPayload {
    check: bool,
}

pub(super) async fn run(app: Router, config: Arc<Config>) -> Result<(), StartupError> {
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let (app, config) = (app.clone(), Arc::clone(&config));
        async move { handle(app, &config, event).await }
    });
    lambda_runtime::run(handler)
        .await
        .map_err(|e| StartupError::Lambda(e.to_string()))
}

async fn handle(
    app: Router,
    config: &Config,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, lambda_runtime::Error> {
    let LambdaEvent { payload, context } = event;
    if let Ok(CheckPayload { check: true }) = serde_json::from_str(payload.get()) {
        let report = super::check(config).await;
        return Ok(serde_json::to_value(report)?);
    }
    let request: LambdaRequest = serde_json::from_str(payload.get())?;
    let mut adapter = Adapter::from(app);
    let response = adapter.call(LambdaEvent::new(request, context)).await?;
    Ok(serde_json::to_value(response)?)
}
