//! [`EndpointPool`]: one model served by several endpoints, each with its slots (requests it
//! answers at once).
//!
//! A call takes a free slot on an endpoint that is up (the least loaded first). A call that
//! fails on an endpoint (no connection, a timeout, a 5xx, a stream cut short) is sent again to
//! another; an endpoint that refuses connections, or fails [`PoolOptions::fail_after`] calls in
//! a row, is taken out of the pool ([`PoolEvent::Down`]) and checked every
//! [`PoolOptions::recheck`] until it answers again ([`PoolEvent::Up`]). With every endpoint
//! down a call fails with [`LlmErrorKind::Connect`], as a lone unreachable server does.
//!
//! A pool of one endpoint is that endpoint's client, counted: its own retries, no failover.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use noctune_core::llm::{EndpointLoad, PoolEvent};
use noctune_core::{ChatRequest, ChatResponse, LlmClient, LlmError, LlmErrorKind};
use tokio::sync::Notify;

use crate::client::{OpenAiClient, redacted};
use crate::health::{EndpointFacts, check_endpoint};
use crate::retry::RetryPolicy;

/// How the pool treats failing endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Failed calls in a row (timeouts, 5xx, cut streams) that take an endpoint out of the
    /// pool. A refused connection takes it out at once.
    pub fail_after: u32,
    /// How often an endpoint out of the pool is checked (`GET /v1/models`).
    pub recheck: Duration,
    /// Backoff when a call is tried again on the endpoint that just failed it (no other is
    /// up); its `max_retries` are the tries beyond one per endpoint.
    pub retry: RetryPolicy,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            fail_after: 3,
            recheck: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }
}

/// One endpoint of a pool before it is checked: its client and its configured slots.
#[derive(Debug, Clone)]
pub struct PoolMember {
    /// The endpoint's client. In a pool of several, build it with no retries of its own
    /// (`RetryPolicy { max_retries: 0, .. }`): the pool tries another endpoint instead.
    pub client: OpenAiClient,
    /// Requests it answers at once; `None`: its `/props` `total_slots`, else 1.
    pub slots: Option<u32>,
}

/// What the start-up check found for one endpoint.
#[derive(Debug, Clone)]
pub struct EndpointCheck {
    /// The endpoint, credentials removed.
    pub endpoint: String,
    /// Its facts, or why it is down.
    pub outcome: Result<EndpointFacts, LlmError>,
    /// The slots the pool gives it.
    pub slots: usize,
}

/// One model served by several endpoints. Cheap to clone; clones share the endpoints.
#[derive(Clone)]
pub struct EndpointPool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EndpointPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointPool")
            .field(
                "endpoints",
                &self
                    .shared
                    .members
                    .iter()
                    .map(|m| &m.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

struct Shared {
    members: Vec<Member>,
    /// Signalled when a slot is freed or an endpoint comes back.
    released: Notify,
    events: Mutex<Vec<PoolEvent>>,
    options: PoolOptions,
}

struct Member {
    client: OpenAiClient,
    name: String,
    slots: usize,
    in_flight: AtomicUsize,
    up: AtomicBool,
    failures_in_a_row: AtomicU32,
    counts: Mutex<EndpointLoad>,
}

/// A slot taken on an endpoint; freed when dropped.
struct Slot<'a> {
    shared: &'a Shared,
    index: usize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.shared.members[self.index]
            .in_flight
            .fetch_sub(1, Ordering::SeqCst);
        self.shared.released.notify_waiters();
    }
}

impl EndpointPool {
    /// Checks every member (concurrently) and builds the pool. An endpoint that does not
    /// answer is reported down ([`PoolEvent::Down`], checked again every
    /// [`PoolOptions::recheck`]); the pool fails only when none answers, naming each (an
    /// empty `members` is an error too).
    pub async fn start(
        members: Vec<PoolMember>,
        options: PoolOptions,
    ) -> Result<(Self, Vec<EndpointCheck>), LlmError> {
        let checks = futures_util::future::join_all(
            members
                .iter()
                .map(|member| async move { check_endpoint(&member.client).await }),
        )
        .await;
        Self::checked(members, checks, options)
    }

    /// [`EndpointPool::start`] with each member's check already made (by
    /// [`check_endpoint`], in the same order): the endpoints are not asked again. Must be
    /// called within a tokio runtime (a down endpoint's checks run on it).
    pub fn checked(
        members: Vec<PoolMember>,
        checks: Vec<Result<EndpointFacts, LlmError>>,
        options: PoolOptions,
    ) -> Result<(Self, Vec<EndpointCheck>), LlmError> {
        if members.is_empty() || members.len() != checks.len() {
            return Err(LlmError::new(
                LlmErrorKind::Connect,
                "no model endpoint is configured".to_owned(),
            ));
        }
        let mut reports = Vec::new();
        let mut built = Vec::new();
        let mut events = Vec::new();
        for (member, outcome) in members.into_iter().zip(checks) {
            let name = redacted(&member.client.settings().base_url);
            let slots = member
                .slots
                .or_else(|| outcome.as_ref().ok().and_then(|f| f.total_slots))
                .unwrap_or(1)
                .max(1) as usize;
            if let Err(err) = &outcome {
                events.push(PoolEvent::Down {
                    endpoint: name.clone(),
                    error: err.to_string(),
                });
            }
            built.push(Member {
                client: member.client,
                name: name.clone(),
                slots,
                in_flight: AtomicUsize::new(0),
                up: AtomicBool::new(outcome.is_ok()),
                failures_in_a_row: AtomicU32::new(0),
                counts: Mutex::new(EndpointLoad {
                    endpoint: name.clone(),
                    slots,
                    ..EndpointLoad::default()
                }),
            });
            reports.push(EndpointCheck {
                endpoint: name,
                outcome,
                slots,
            });
        }
        if reports.iter().all(|r| r.outcome.is_err()) {
            let why: Vec<String> = reports
                .iter()
                .filter_map(|r| r.outcome.as_ref().err().map(|e| e.message.clone()))
                .collect();
            return Err(LlmError::new(LlmErrorKind::Connect, why.join("; ")));
        }
        let pool = Self {
            shared: Arc::new(Shared {
                members: built,
                released: Notify::new(),
                events: Mutex::new(events),
                options,
            }),
        };
        for (index, report) in reports.iter().enumerate() {
            if report.outcome.is_err() {
                pool.watch(index);
            }
        }
        Ok((pool, reports))
    }

    /// The endpoints' clients, in the configured order.
    pub fn clients(&self) -> impl Iterator<Item = &OpenAiClient> {
        self.shared.members.iter().map(|m| &m.client)
    }

    /// Takes a free slot on an endpoint that is up: the least loaded, one not in `avoid` when
    /// there is one. Waits while every slot is taken; fails when no endpoint is up.
    async fn acquire(&self, avoid: &[usize]) -> Result<Slot<'_>, LlmError> {
        let shared = &*self.shared;
        loop {
            let released = shared.released.notified();
            let mut any_up = false;
            let mut best: Option<(bool, f64, usize)> = None;
            for (index, member) in shared.members.iter().enumerate() {
                if !member.up.load(Ordering::SeqCst) {
                    continue;
                }
                any_up = true;
                let busy = member.in_flight.load(Ordering::SeqCst);
                if busy >= member.slots {
                    continue;
                }
                let key = (
                    avoid.contains(&index),
                    busy as f64 / member.slots as f64,
                    index,
                );
                if best.is_none_or(|b| (key.0, key.1) < (b.0, b.1)) {
                    best = Some(key);
                }
            }
            if !any_up {
                return Err(LlmError::new(
                    LlmErrorKind::Connect,
                    format!(
                        "every model endpoint is down ({})",
                        shared
                            .members
                            .iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if let Some((_, _, index)) = best {
                let member = &shared.members[index];
                let taken =
                    member
                        .in_flight
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                            (n < member.slots).then_some(n + 1)
                        });
                if let Ok(before) = taken {
                    let mut counts = lock(&member.counts);
                    counts.peak_in_flight = counts.peak_in_flight.max(before + 1);
                    return Ok(Slot { shared, index });
                }
                continue;
            }
            released.await;
        }
    }

    /// Counts a failed call of endpoint `index`; takes it out of the pool when the failure
    /// says it is gone or it failed too often in a row. Returns whether it went down now.
    fn failed(&self, index: usize, err: &LlmError) -> bool {
        let member = &self.shared.members[index];
        let in_a_row = member.failures_in_a_row.fetch_add(1, Ordering::SeqCst) + 1;
        let gone = err.kind == LlmErrorKind::Connect || in_a_row >= self.shared.options.fail_after;
        if gone && member.up.swap(false, Ordering::SeqCst) {
            self.event(PoolEvent::Down {
                endpoint: member.name.clone(),
                error: err.to_string(),
            });
            self.watch(index);
            return true;
        }
        false
    }

    /// Checks endpoint `index` every [`PoolOptions::recheck`] until it answers, then puts it
    /// back. Ends with the pool.
    fn watch(&self, index: usize) {
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        let every = self.shared.options.recheck;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(shared) = weak.upgrade() else { return };
                let member = &shared.members[index];
                if check_endpoint(&member.client).await.is_ok() {
                    member.failures_in_a_row.store(0, Ordering::SeqCst);
                    member.up.store(true, Ordering::SeqCst);
                    lock(&shared.events).push(PoolEvent::Up {
                        endpoint: member.name.clone(),
                    });
                    tracing::info!(endpoint = %member.name, "the model endpoint is back");
                    shared.released.notify_waiters();
                    return;
                }
            }
        });
    }

    /// Whether an endpoint other than `index` is up.
    fn another_is_up(&self, index: usize) -> bool {
        self.shared
            .members
            .iter()
            .enumerate()
            .any(|(i, m)| i != index && m.up.load(Ordering::SeqCst))
    }

    fn event(&self, event: PoolEvent) {
        match &event {
            PoolEvent::Down { endpoint, error } => {
                tracing::warn!(%endpoint, %error, "model endpoint taken out of the pool");
            }
            PoolEvent::Retried { from, to, .. } => {
                tracing::info!(%from, %to, "model call sent to another endpoint");
            }
            PoolEvent::Up { .. } => {}
        }
        lock(&self.shared.events).push(event);
    }

    /// One call on the endpoint of `slot`, counted.
    async fn call_on(
        &self,
        slot: &Slot<'_>,
        request: &ChatRequest,
    ) -> Result<ChatResponse, LlmError> {
        let member = &self.shared.members[slot.index];
        let started = Instant::now();
        let result = member.client.chat(request).await;
        let elapsed = started.elapsed().as_millis() as u64;
        let mut counts = lock(&member.counts);
        counts.busy_ms += elapsed;
        match &result {
            Ok(response) => {
                counts.calls += 1;
                if let Some(usage) = response.usage {
                    counts.prompt_tokens += u64::from(usage.prompt_tokens);
                    counts.completion_tokens += u64::from(usage.completion_tokens);
                }
            }
            Err(_) => counts.failures += 1,
        }
        drop(counts);
        result.map(|mut response| {
            response.endpoint = Some(member.name.clone());
            response
        })
    }
}

#[async_trait]
impl LlmClient for EndpointPool {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let members = &self.shared.members;
        if members.len() == 1 {
            // One endpoint: its own retries, no failover.
            let slot = self.acquire(&[]).await?;
            return self.call_on(&slot, request).await;
        }
        let retry = &self.shared.options.retry;
        let tries = members.len() as u32 + retry.max_retries;
        let mut failed_on: Vec<usize> = Vec::new();
        let mut last: Option<(usize, LlmError)> = None;
        let mut same_again = 0u32;
        for _ in 0..tries {
            if let Some((from, _)) = &last
                && !self.another_is_up(*from)
            {
                // Nowhere else to go: back off before asking the same endpoint again.
                tokio::time::sleep(retry.delay(same_again)).await;
                same_again += 1;
            }
            let slot = match self.acquire(&failed_on).await {
                Ok(slot) => slot,
                Err(down) => {
                    return Err(match last {
                        Some((_, err)) => LlmError::new(
                            err.kind,
                            format!("{} (then: {})", err.message, down.message),
                        ),
                        None => down,
                    });
                }
            };
            if let Some((from, err)) = &last
                && *from != slot.index
            {
                self.event(PoolEvent::Retried {
                    from: members[*from].name.clone(),
                    to: members[slot.index].name.clone(),
                    error: err.to_string(),
                });
            }
            match self.call_on(&slot, request).await {
                Ok(response) => {
                    members[slot.index]
                        .failures_in_a_row
                        .store(0, Ordering::SeqCst);
                    return Ok(response);
                }
                Err(err) if err.is_retryable() => {
                    self.failed(slot.index, &err);
                    if !failed_on.contains(&slot.index) {
                        failed_on.push(slot.index);
                    }
                    last = Some((slot.index, err));
                }
                // The request's fault (4xx, an unusable answer): another endpoint would say
                // the same.
                Err(err) => return Err(err),
            }
        }
        Err(last.map_or_else(
            || LlmError::new(LlmErrorKind::Connect, "no endpoint was tried".to_owned()),
            |(_, err)| err,
        ))
    }

    async fn context_window(&self) -> Option<u32> {
        let mut smallest: Option<u32> = None;
        for member in &self.shared.members {
            if let Some(window) = member.client.context_window().await {
                smallest = Some(smallest.map_or(window, |s| s.min(window)));
            }
        }
        smallest
    }

    async fn count_tokens(&self, text: &str) -> Result<u32, LlmError> {
        let member = self
            .shared
            .members
            .iter()
            .find(|m| m.up.load(Ordering::SeqCst))
            .unwrap_or(&self.shared.members[0]);
        member.client.count_tokens(text).await
    }

    fn endpoint(&self) -> String {
        self.shared
            .members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn slots(&self) -> usize {
        self.shared
            .members
            .iter()
            .filter(|m| m.up.load(Ordering::SeqCst))
            .map(|m| m.slots)
            .sum::<usize>()
            .max(1)
    }

    fn loads(&self) -> Vec<EndpointLoad> {
        self.shared
            .members
            .iter()
            .map(|m| EndpointLoad {
                in_flight: m.in_flight.load(Ordering::SeqCst),
                up: m.up.load(Ordering::SeqCst),
                ..lock(&m.counts).clone()
            })
            .collect()
    }

    fn take_events(&self) -> Vec<PoolEvent> {
        std::mem::take(&mut *lock(&self.shared.events))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
