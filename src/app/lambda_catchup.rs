//! The catch-up function (`FUNCTION_ROLE=okta-catchup`): the template's EventBridge schedule invokes it with the
//! scheduled-event payload (or an operator with `{"okta_catchup": true}`); each invocation is one run, answered
//! with the run's counts. Any other payload is refused with an audit line, and reads nothing.

use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use super::StartupError;
use super::lambda_consumer::deadline_of;
use crate::catchup::{Catchup, Outcome, RunReport, trigger};

/// The run ends this long before the invocation's: its last cursor write and the lease's release still fit.
const MARGIN: Duration = Duration::from_secs(5);

pub(super) async fn run(catchup: Arc<Catchup>) -> Result<(), StartupError> {
    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let catchup = Arc::clone(&catchup);
        async move {
            let deadline = deadline_of(event.context.deadline);
            let report = match trigger::read(&event.payload) {
                Ok(_) => {
                    catchup
                        .run_once(deadline.checked_sub(MARGIN).unwrap_or(deadline))
                        .await
                }
                Err(_) => {
                    let refused = RunReport::new(Outcome::NotATrigger);
                    refused.log();
                    refused
                }
            };
            Ok::<_, lambda_runtime::Error>(report.answer())
        }
    });
    lambda_runtime::run(handler)
        .await
        .map_err(|e| StartupError::Lambda(e.to_string()))
}
