//! The catch-up across instances sharing one DynamoDB table (moto's): the lease lets one run at a time read the
//! log, the cursor one run saved is where another resumes, and a run that crashed holds the lease only until it
//! runs out.

use std::time::{Duration, Instant};

use super::catchup::{catchup_app, logged, run};
use super::fresh;
use super::system_log::{Step, SystemLogStub};
use crate::idempotency::shared_table;
use crate::support::SesScope;
use profile_guard::catchup::{OVERLAP, Outcome};

#[tokio::test]
async fn two_instances_sharing_the_table_read_the_log_one_at_a_time() {
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(1).await;
    stub.log([
        logged(&fresh(), 700),
        logged(&fresh(), 600),
        logged(&fresh(), 500),
    ]);
    // Slow pages, so the two runs overlap.
    stub.script((0..4).map(|_| Step::Delayed(Duration::from_millis(300))));
    let table = shared_table().await;
    let one = catchup_app(&ses, &stub, &table.vars()).await;
    let two = catchup_app(&ses, &stub, &table.vars()).await;
    let (a, b) = tokio::join!(run(&one), async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        run(&two).await
    });
    assert_eq!(a.outcome, Outcome::CaughtUp, "{a:?}");
    assert_eq!(b.outcome, Outcome::Busy, "{b:?}");
    assert_eq!((a.events_sent, b.events_sent, b.pages), (3, 0, 0));
    assert_eq!(ses.notices().await.len(), 3);

    // The other instance resumes from the cursor the first left in the table.
    let cursor = a.cursor.expect("a cursor in the table");
    let resumed = run(&two).await;
    assert_eq!(resumed.outcome, Outcome::CaughtUp);
    assert_eq!(resumed.since, Some(cursor.published - OVERLAP));
    assert_eq!(resumed.events_sent, 0);
    assert_eq!(ses.notices().await.len(), 3);
}

#[tokio::test]
async fn a_run_that_crashed_holds_the_lease_until_it_runs_out_and_its_cursor_is_kept() {
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(1).await;
    let (first, second) = (fresh(), fresh());
    stub.log([logged(&first, 700), logged(&second, 600)]);
    // The first page at once; the second hangs.
    stub.script([
        Step::Delayed(Duration::ZERO),
        Step::Delayed(Duration::from_secs(30)),
    ]);
    let table = shared_table().await;
    let one = catchup_app(&ses, &stub, &table.vars()).await;
    let two = catchup_app(&ses, &stub, &table.vars()).await;
    let catchup = one.catchup.clone().unwrap();
    let started = Instant::now();
    let budget = Duration::from_secs(4);
    let crashed = tokio::spawn(async move { catchup.run_once(started + budget).await });
    while stub.calls().await < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The process dies mid-page: nothing gives the lease back.
    crashed.abort();
    assert_eq!(ses.notices().await.len(), 1, "the first page went out");
    assert_eq!(run(&two).await.outcome, Outcome::Busy);
    // The lease ends with the run's budget plus its grace.
    let ends = started + budget + profile_guard::catchup::LEASE_GRACE;
    tokio::time::sleep(ends.saturating_duration_since(Instant::now()) + Duration::from_millis(200))
        .await;
    let resumed = run(&two).await;
    assert_eq!(resumed.outcome, Outcome::CaughtUp, "{resumed:?}");
    assert_eq!(
        resumed.events_sent, 1,
        "only what the crashed run had not sent"
    );
    assert_eq!(ses.notices().await.len(), 2);
    let since = resumed.since.unwrap();
    assert_eq!(
        since,
        stub.published_of(&first) - OVERLAP,
        "resumed from the crashed run's cursor"
    );
}
