//! `EndpointPool` against real fake servers: slots from config and `/props`, the least loaded
//! endpoint first, a killed endpoint taken out (its calls answered elsewhere) and put back once
//! it answers again, every endpoint down an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use noctune_core::llm::PoolEvent;
use noctune_core::{ChatRequest, LlmClient, LlmErrorKind};
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use noctune_llm::{EndpointPool, OpenAiClient, PoolMember, PoolOptions, RetryPolicy};

use crate::support::settings;

const DELAY: Duration = Duration::from_millis(150);

async fn server(slots: u32) -> FakeServer {
    FakeServer::start_responder(
        FakeOptions {
            total_slots: Some(slots),
            ..FakeOptions::default()
        },
        |_| Reply::answer("ok").delayed(DELAY),
    )
    .await
}

fn member(server: &FakeServer, slots: Option<u32>) -> PoolMember {
    PoolMember {
        client: OpenAiClient::builder(settings(server, true))
            .retry(RetryPolicy::fast(0))
            .build()
            .unwrap(),
        slots,
    }
}

fn options() -> PoolOptions {
    PoolOptions {
        fail_after: 2,
        recheck: Duration::from_millis(50),
        retry: RetryPolicy::fast(2),
    }
}

async fn calls(pool: &EndpointPool, n: usize) -> Vec<Result<String, noctune_core::LlmError>> {
    let asks = (0..n).map(|i| {
        let pool = pool.clone();
        async move {
            pool.chat(&ChatRequest::user(format!("ask {i}")))
                .await
                .map(|r| r.endpoint.unwrap_or_default())
        }
    });
    futures_util::future::join_all(asks).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_come_from_config_else_props_and_calls_spread_over_them() {
    let a = server(3).await;
    let b = server(1).await;
    let (pool, checks) =
        EndpointPool::start(vec![member(&a, None), member(&b, Some(2))], options())
            .await
            .unwrap();
    assert_eq!(checks.iter().map(|c| c.slots).collect::<Vec<_>>(), [3, 2]);
    assert!(checks.iter().all(|c| c.outcome.is_ok()));
    assert_eq!(pool.slots(), 5);

    // Five calls at once fit the five slots: they run together, not one after the other.
    let started = Instant::now();
    let answered = calls(&pool, 5).await;
    let took = started.elapsed();
    assert!(answered.iter().all(Result::is_ok), "{answered:?}");
    assert!(
        took < DELAY * 3,
        "five calls over five slots took {took:?} (one at a time would take {:?})",
        DELAY * 5
    );
    let loads = pool.loads();
    assert_eq!(loads[0].calls + loads[1].calls, 5);
    assert!(loads[0].calls >= 2 && loads[1].calls >= 1, "{loads:?}");
    assert!(loads.iter().all(|l| l.in_flight == 0 && l.up));
    assert!(loads.iter().all(|l| l.busy_ms >= DELAY.as_millis() as u64));
    assert!(pool.take_events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_endpoint_is_taken_out_its_calls_go_elsewhere_and_it_comes_back() {
    let a = server(2).await;
    let b = server(2).await;
    let (pool, _) = EndpointPool::start(vec![member(&a, None), member(&b, None)], options())
        .await
        .unwrap();
    assert_eq!(pool.slots(), 4);

    // Kill `a` while calls are on it: every call is still answered, by `b`.
    let pool_for_calls = pool.clone();
    let asking = tokio::spawn(async move { calls(&pool_for_calls, 4).await });
    tokio::time::sleep(DELAY / 3).await;
    a.kill();
    let answered = asking.await.unwrap();
    assert!(answered.iter().all(Result::is_ok), "{answered:?}");
    assert!(
        answered
            .iter()
            .filter(|r| r.as_deref() == Ok(b.url().as_str()))
            .count()
            >= 2
    );
    let events = pool.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PoolEvent::Down { endpoint, .. } if *endpoint == a.url())),
        "{events:?}"
    );
    assert!(
        events.iter().any(
            |e| matches!(e, PoolEvent::Retried { from, to, .. } if *from == a.url() && *to == b.url())
        ),
        "{events:?}"
    );
    assert_eq!(pool.slots(), 2, "only b's slots are in the pool");
    let after = calls(&pool, 3).await;
    assert!(after.iter().all(|r| r.as_deref() == Ok(b.url().as_str())));

    // `a` answers again: its health check puts it back.
    a.revive().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while pool.slots() < 4 {
        assert!(
            Instant::now() < deadline,
            "the revived endpoint never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        pool.take_events()
            .iter()
            .any(|e| matches!(e, PoolEvent::Up { endpoint } if *endpoint == a.url()))
    );
    let answered = calls(&pool, 4).await;
    assert!(
        answered
            .iter()
            .any(|r| r.as_deref() == Ok(a.url().as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_down_at_the_start_is_reported_and_skipped() {
    let a = server(1).await;
    let url = a.url();
    a.kill();
    let b = server(1).await;
    let (pool, checks) = EndpointPool::start(vec![member(&a, None), member(&b, None)], options())
        .await
        .unwrap();
    let down = checks[0].outcome.as_ref().unwrap_err();
    assert_eq!(down.kind, LlmErrorKind::Connect);
    assert!(down.message.contains(&url), "{down}");
    assert!(checks[1].outcome.is_ok());
    assert!(
        matches!(&pool.take_events()[..], [PoolEvent::Down { endpoint, .. }] if *endpoint == url)
    );
    assert_eq!(pool.slots(), 1);
    let answered = calls(&pool, 2).await;
    assert!(
        answered
            .iter()
            .all(|r| r.as_deref() == Ok(b.url().as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_endpoint_down_a_call_fails_as_unreachable() {
    let a = Arc::new(server(1).await);
    let b = server(1).await;
    let (pool, _) = EndpointPool::start(vec![member(&a, None), member(&b, None)], options())
        .await
        .unwrap();
    a.kill();
    b.kill();
    let err = pool.chat(&ChatRequest::user("hello")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        err.message.contains("every model endpoint is down"),
        "{err}"
    );

    // None answering at the start is an error naming each.
    let err = EndpointPool::start(vec![member(&a, None), member(&b, None)], options())
        .await
        .unwrap_err();
    assert!(
        err.message.contains(&a.url()) && err.message.contains(&b.url()),
        "{err}"
    );
}
