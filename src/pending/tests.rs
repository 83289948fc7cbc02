use super::*;
use crate::claims::ClaimSet;

fn pending(ttl_ms: u64) -> Pending {
    Pending::new(
        Arc::new(MemoryPending::default()),
        Duration::from_millis(ttl_ms),
    )
}

fn mobile() -> PendingChange {
    PendingChange::of_update(
        "t",
        "u",
        ["http://wso2.org/claims/mobile"],
        &ClaimSet::defaults(),
    )
}

fn soon() -> SystemTime {
    SystemTime::now() + Duration::from_secs(2)
}

async fn take(p: &Pending, change: &PendingChange) -> Claimed {
    match p.take(change, soon()).await.unwrap() {
        Taken::Notice(claimed) => claimed,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_changes_are_two_notices_taken_oldest_first() {
    let p = pending(10_000);
    p.leave(&mobile(), "first", "r-1").await.unwrap();
    p.leave(&mobile(), "second", "r-2").await.unwrap();
    let first = take(&p, &mobile()).await;
    assert_eq!(first.notice, "first");
    let second = take(&p, &mobile()).await;
    assert_eq!(
        second.notice, "second",
        "the first is leased, not taken twice"
    );
    assert_eq!(p.take(&mobile(), soon()).await.unwrap(), Taken::InFlight);
    assert!(p.sent(&first).await.unwrap());
    assert!(p.sent(&second).await.unwrap());
    assert_eq!(p.take(&mobile(), soon()).await.unwrap(), Taken::Nothing);
}

#[tokio::test]
async fn a_notice_put_back_holds_what_is_still_owed_and_goes_to_the_next_taker() {
    let p = pending(10_000);
    p.leave(&mobile(), "both channels", "r-1").await.unwrap();
    let claimed = take(&p, &mobile()).await;
    assert!(p.put_back(&claimed, "slack only").await.unwrap());
    let again = take(&p, &mobile()).await;
    assert_eq!(again.notice, "slack only");
}

#[tokio::test]
async fn a_taker_whose_lease_ran_out_cannot_put_back_what_another_holds() {
    let p = pending(10_000);
    p.leave(&mobile(), "n", "r-1").await.unwrap();
    let short = SystemTime::now() + Duration::from_millis(30);
    let Taken::Notice(late) = p.take(&mobile(), short).await.unwrap() else {
        panic!("taken");
    };
    tokio::time::sleep(Duration::from_millis(60)).await;
    let holder = take(&p, &mobile()).await;
    assert!(!p.put_back(&late, "stale").await.unwrap());
    assert!(p.sent(&holder).await.unwrap());
}

#[tokio::test]
async fn a_lease_that_runs_out_frees_the_notice() {
    let p = pending(10_000);
    p.leave(&mobile(), "n", "r-1").await.unwrap();
    let short = SystemTime::now() + Duration::from_millis(30);
    assert!(matches!(
        p.take(&mobile(), short).await.unwrap(),
        Taken::Notice(_)
    ));
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(take(&p, &mobile()).await.notice, "n");
}

#[tokio::test]
async fn the_sweep_reports_only_what_still_waits_unsent() {
    let p = pending(40);
    p.leave(&mobile(), "sent", "r-sent").await.unwrap();
    let claimed = take(&p, &mobile()).await;
    assert!(p.sent(&claimed).await.unwrap());
    p.leave(&mobile(), "unsent", "r-unsent").await.unwrap();
    assert!(p.sweep(10).await.is_empty(), "nothing is due yet");
    tokio::time::sleep(Duration::from_millis(60)).await;
    // A later change's notice, still live, is never touched by the sweep.
    p.leave(&mobile(), "next", "r-next").await.unwrap();
    assert_eq!(
        p.sweep(10).await,
        vec![Expired {
            request_id: "r-unsent".into(),
            store_failed: false
        }]
    );
    assert!(p.sweep(10).await.is_empty());
    assert_eq!(take(&p, &mobile()).await.notice, "next");
}

#[tokio::test]
async fn a_full_list_refuses_a_new_notice() {
    let p = pending(10_000);
    for i in 0..MAX_WAITING {
        p.leave(&mobile(), "n", &format!("r-{i}")).await.unwrap();
    }
    assert_eq!(
        p.leave(&mobile(), "n", "r-over").await,
        Err(LeaveError::Full)
    );
}

#[tokio::test]
async fn the_sweep_is_bounded_per_round() {
    let p = pending(10);
    for i in 0..5 {
        p.leave(&mobile(), "n", &format!("r-{i}")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(p.sweep(2).await.len(), 2);
    assert_eq!(p.sweep(10).await.len(), 3);
}
