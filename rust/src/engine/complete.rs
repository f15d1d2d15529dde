//! The completion batcher: finalizes many attempts per statement (successes in one, retries and
//! failures in another), so that finishing a task costs a fraction of a round trip.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::backoff::Backoff;
use crate::db::dedicated::{self, DedicatedConnection};
use crate::db::sql;
use crate::db::text::clean;
use crate::engine::stats::Stats;
use crate::engine::task::Decision;
use crate::engine::{Completion, Engine, Wake};
use crate::error::Result;

/// Also bounds the ids a batch NOTIFYs (Postgres caps a payload at 8000 bytes).
const MAX_BATCH: usize = sql::MAX_NOTIFIED_IDS;
/// A batch that keeps failing (the database is down) is retried for this long during a stop.
const STOP_FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The batcher's statements, prepared on its own connection (see `db::dedicated`).
const STATEMENTS: &[&str] = &[sql::COMPLETE, sql::FINALIZE];
const COMPLETE: usize = 0;
const FINALIZE: usize = 1;

pub async fn completion_loop(engine: Arc<Engine>, mut completions: mpsc::UnboundedReceiver<Completion>) {
    let mut shutdown = engine.shutdown_signal();
    let mut connection = DedicatedConnection::new(
        engine.pg_config.clone(),
        "complete",
        STATEMENTS,
        engine.config.round_trip_timeout(),
    );
    let mut batch: Vec<Completion> = Vec::with_capacity(MAX_BATCH);
    loop {
        if batch.is_empty() {
            tokio::select! {
                completion = completions.recv() => match completion {
                    Some(c) => batch.push(c),
                    None => return,
                },
                _ = shutdown.changed() => {
                    drain_and_flush(&engine, &mut connection, &mut completions).await;
                    return;
                }
            }
        }
        while batch.len() < MAX_BATCH {
            match completions.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        flush(&engine, &mut connection, &mut batch, None).await;
    }
}

async fn drain_and_flush(
    engine: &Engine,
    connection: &mut DedicatedConnection,
    completions: &mut mpsc::UnboundedReceiver<Completion>,
) {
    let deadline = tokio::time::Instant::now() + STOP_FLUSH_TIMEOUT;
    let mut batch = Vec::new();
    while let Ok(c) = completions.try_recv() {
        batch.push(c);
        if batch.len() == MAX_BATCH {
            flush(engine, connection, &mut batch, Some(deadline)).await;
        }
    }
    flush(engine, connection, &mut batch, Some(deadline)).await;
}

/// Write the batch, retrying transient failures (until `deadline`, if given). Retrying is safe:
/// every statement is fenced by (id, claim token, status = running), so a batch that did commit
/// before the connection broke matches nothing the second time.
///
/// A batch that fails for another reason (a value the statement rejects) is written again row
/// by row, so that one bad row neither blocks nor loses the others; a row that still fails alone
/// is written once more without its error text and with its retry delay capped (`degraded`), so
/// that its attempt still counts.
async fn flush(
    engine: &Engine,
    connection: &mut DedicatedConnection,
    batch: &mut Vec<Completion>,
    deadline: Option<tokio::time::Instant>,
) {
    if batch.is_empty() {
        return;
    }
    match write_retrying(engine, connection, batch, deadline).await {
        Ok(()) => {}
        Err(err) if !err.is_transient() => {
            if batch.len() > 1 {
                log::warn!(
                    "recording {} attempt results failed ({err}); recording them one by one",
                    batch.len()
                );
            }
            for completion in batch.iter() {
                let one = std::slice::from_ref(completion);
                let err = match write_retrying(engine, connection, one, deadline).await {
                    Ok(()) => continue,
                    Err(err) if err.is_transient() => {
                        give_up(1, &err);
                        continue;
                    }
                    Err(err) => err,
                };
                log::error!(
                    "recording the result of task {} failed ({err}); recording it without its error text",
                    completion.task_id
                );
                let degraded = degraded(completion, &err);
                if let Err(err) = write_retrying(engine, connection, std::slice::from_ref(&degraded), deadline).await {
                    give_up(1, &err);
                }
            }
        }
        Err(err) => give_up(batch.len(), &err),
    }
    engine.recorded(batch.iter().map(|c| (c.task_id, c.token)));
    batch.clear();
}

fn give_up(count: usize, err: &crate::error::Error) {
    log::error!("could not record {count} attempt result(s): {err}; those tasks stay running until rescued");
}

/// The longest retry delay a degraded write keeps (a delay too large for a timestamp is one of
/// the values that can make a row fail).
const DEGRADED_MAX_DELAY: Duration = Duration::from_secs(3600);

/// A completion whose row could not be written: the same decision, with a message that says why
/// instead of the original error text and traceback, and a retry delay of at most an hour.
fn degraded(completion: &Completion, err: &crate::error::Error) -> Completion {
    let decision = match &completion.decision {
        Decision::Retry { delay, error_event } => Decision::Retry {
            delay: (*delay).min(DEGRADED_MAX_DELAY),
            error_event: *error_event,
        },
        other => other.clone(),
    };
    let failure = completion.failure.as_ref().map(|f| crate::engine::task::Failure {
        kind: f.kind,
        message: format!("the attempt failed, but its error could not be recorded ({err})"),
        traceback: None,
    });
    Completion {
        task_id: completion.task_id,
        token: completion.token,
        decision,
        failure,
    }
}

/// `write`, retrying transient failures with a backoff until `deadline` (if given).
async fn write_retrying(
    engine: &Engine,
    connection: &mut DedicatedConnection,
    batch: &[Completion],
    deadline: Option<tokio::time::Instant>,
) -> Result<()> {
    let mut backoff = Backoff::default();
    loop {
        let timeout = connection.timeout();
        // Boxed: a batch write's future is large, and every caller up the chain would carry it.
        match dedicated::deadline(timeout, Box::pin(write(engine, connection, batch))).await {
            Ok(()) => return Ok(()),
            Err(err) => {
                connection.reset();
                let delay = backoff.next_delay();
                let give_up = !err.is_transient() || deadline.is_some_and(|d| tokio::time::Instant::now() + delay > d);
                if give_up {
                    return Err(err);
                }
                log::warn!("recording attempt results failed: {err}; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

async fn write(engine: &Engine, connection: &mut DedicatedConnection, batch: &[Completion]) -> Result<()> {
    let session = connection.session().await?;
    let conn = &session.client;
    let worker = engine.worker_id();
    let (mut ok_ids, mut ok_tokens) = (Vec::new(), Vec::new());
    let mut failed = FailedColumns::default();
    for completion in batch {
        match &completion.decision {
            Decision::Complete => {
                ok_ids.push(completion.task_id);
                ok_tokens.push(completion.token);
            }
            decision => failed.push(completion, decision),
        }
    }
    if !ok_ids.is_empty() {
        let row = conn
            .query_one(&session.prepared[COMPLETE], &[&ok_ids, &ok_tokens, &worker])
            .await?;
        let applied: i64 = row.get(0);
        Stats::add(&engine.stats.completed, applied as u64);
        Stats::add(
            &engine.stats.discarded_results,
            (ok_ids.len() as i64 - applied).max(0) as u64,
        );
    }
    if !failed.ids.is_empty() {
        let rows = conn
            .query(
                &session.prepared[FINALIZE],
                &[
                    &failed.ids,
                    &failed.tokens,
                    &failed.fail,
                    &failed.delay_ms,
                    &failed.messages,
                    &failed.tracebacks,
                    &failed.error_events,
                    &worker,
                ],
            )
            .await?;
        for row in &rows {
            let status: &str = row.get(1);
            match status {
                "pending" => {
                    Stats::add(&engine.stats.retried, 1);
                    let run_at: Option<DateTime<Utc>> = row.try_get(2).ok();
                    let lane: Option<i32> = row.try_get(4).ok().flatten();
                    match (lane, run_at) {
                        (Some(lane), Some(run_at)) => engine.wake(Wake::LaneAt(lane, run_at)),
                        _ => engine.wake(Wake::Now),
                    }
                }
                "failed" => Stats::add(&engine.stats.failed, 1),
                // A retry of a task paused while it ran (the tasks_pause_on_settle trigger).
                "paused" => Stats::add(&engine.stats.retried, 1),
                _ => Stats::add(&engine.stats.cancelled, 1),
            }
        }
        Stats::add(&engine.stats.discarded_results, (failed.ids.len() - rows.len()) as u64);
    }
    Ok(())
}

#[derive(Default)]
struct FailedColumns {
    ids: Vec<i64>,
    tokens: Vec<i64>,
    fail: Vec<bool>,
    delay_ms: Vec<i64>,
    messages: Vec<String>,
    tracebacks: Vec<Option<String>>,
    error_events: Vec<bool>,
}

impl FailedColumns {
    fn push(&mut self, completion: &Completion, decision: &Decision) {
        let (fail, delay, error_event) = match decision {
            Decision::Retry { delay, error_event } => (false, *delay, *error_event),
            Decision::Fail { error_event } => (true, Duration::ZERO, *error_event),
            Decision::Complete => unreachable!("successes are batched separately"),
        };
        let failure = completion.failure.as_ref();
        self.ids.push(completion.task_id);
        self.tokens.push(completion.token);
        self.fail.push(fail);
        self.delay_ms.push(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        self.messages
            .push(failure.map(|f| clean(&f.message).into_owned()).unwrap_or_default());
        self.tracebacks
            .push(failure.and_then(|f| f.traceback.as_deref().map(|tb| clean(tb).into_owned())));
        self.error_events.push(error_event);
    }
}
