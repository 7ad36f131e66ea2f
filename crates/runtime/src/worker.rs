//! The bounded queue and the worker threads behind [`crate::LocalModel`].
//!
//! Callers push jobs (one per `embed` call) into a bounded FIFO and await a oneshot reply;
//! they never block a thread. Each worker thread takes the oldest job plus as many of the
//! following ones as fit in `max_batch_size` inputs (coalescing small concurrent requests
//! into one model batch), tokenizes, sorts the inputs by length so each padded batch wastes
//! little, runs batches of at most `max_batch_size`, and answers each job.
//!
//! Workers share one read-only [`Engine`] (candle tensors are immutable and reference
//! counted), so N workers cost one copy of the weights. A panic inside inference is caught
//! and answered as [`RuntimeError::WorkerDied`]; the worker keeps serving. If every worker
//! thread is gone, the queue closes and queued and later requests fail the same way.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tokio::sync::{oneshot, watch};

use crate::engine::{Engine, Truncation};
use crate::error::{Result, RuntimeError};

/// What one `embed` call asks for.
pub(crate) struct Job {
    pub inputs: Vec<String>,
    pub truncation: Truncation,
    pub normalize: bool,
    /// One part of a request split across workers: run it alone, so another idle worker
    /// takes the next part instead of one worker coalescing them back together.
    pub solo: bool,
    pub reply: oneshot::Sender<Result<JobOutput>>,
}

/// A job's answer: rows in input order.
pub(crate) struct JobOutput {
    pub vectors: Vec<Vec<f32>>,
    pub tokens: Vec<usize>,
    pub truncated: usize,
}

#[derive(Debug, Clone)]
enum Closed {
    Unloaded,
    WorkersDied(String),
}

impl Closed {
    fn error(&self) -> RuntimeError {
        match self {
            Self::Unloaded => RuntimeError::Unloaded,
            Self::WorkersDied(why) => RuntimeError::WorkerDied(why.clone()),
        }
    }
}

struct Queue {
    jobs: VecDeque<Job>,
    closed: Option<Closed>,
}

pub(crate) struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    capacity: usize,
    max_batch: usize,
}

impl Shared {
    pub fn new(capacity: usize, max_batch: usize) -> Self {
        Self {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: None,
            }),
            ready: Condvar::new(),
            capacity,
            max_batch,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding this lock; recover rather than cascade if it did.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues the parts of one request without waiting: fails fast when the queue is full
    /// (the parts of one request are admitted together) or closed.
    pub fn submit(&self, parts: Vec<Job>) -> Result<()> {
        let mut queue = self.lock();
        if let Some(closed) = &queue.closed {
            return Err(closed.error());
        }
        if queue.jobs.len() >= self.capacity {
            return Err(RuntimeError::Overloaded {
                capacity: self.capacity,
            });
        }
        let count = parts.len();
        queue.jobs.extend(parts);
        drop(queue);
        for _ in 0..count {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Jobs waiting for a worker.
    pub fn queued(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Stops taking jobs; queued jobs are answered with the close reason. Jobs a worker
    /// is already running still get their answer. The first reason wins.
    fn close(&self, reason: Closed) {
        let (drained, error): (Vec<Job>, RuntimeError) = {
            let mut queue = self.lock();
            let error = queue.closed.get_or_insert(reason).error();
            (queue.jobs.drain(..).collect(), error)
        };
        self.ready.notify_all();
        for job in drained {
            let _ = job.reply.send(Err(error.clone()));
        }
    }

    pub fn unload(&self) {
        self.close(Closed::Unloaded);
    }

    /// Blocks until there is work: the oldest live job plus the following ones that fit
    /// in one model batch. `None` once the queue is closed.
    fn next_group(&self) -> Option<Vec<Job>> {
        let mut queue = self.lock();
        loop {
            if queue.closed.is_some() {
                return None;
            }
            let mut group: Vec<Job> = Vec::new();
            let mut inputs = 0;
            while let Some(job) = queue.jobs.front() {
                if job.reply.is_closed() {
                    // The caller gave up (its future was dropped): skip the work.
                    queue.jobs.pop_front();
                    continue;
                }
                if !group.is_empty() && (job.solo || inputs + job.inputs.len() > self.max_batch) {
                    break;
                }
                inputs += job.inputs.len();
                let solo = job.solo;
                group.extend(queue.jobs.pop_front());
                if solo {
                    break;
                }
            }
            if !group.is_empty() {
                return Some(group);
            }
            queue = self
                .ready
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Decrements the live-worker count when a worker thread ends, however it ends; the last
/// one closes the queue so nobody waits for an answer that cannot come.
struct ExitGuard {
    shared: Arc<Shared>,
    live: Arc<watch::Sender<usize>>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let mut last = false;
        self.live.send_modify(|n| {
            *n = n.saturating_sub(1);
            last = *n == 0;
        });
        if last {
            let reason = if std::thread::panicking() {
                "the last inference worker panicked"
            } else {
                "every inference worker has exited"
            };
            self.shared.close(Closed::WorkersDied(reason.into()));
        }
    }
}

/// The body of one worker thread.
pub(crate) fn run_worker(
    engine: Arc<Engine>,
    shared: Arc<Shared>,
    live: Arc<watch::Sender<usize>>,
    threads: Option<rayon::ThreadPool>,
) {
    let _guard = ExitGuard {
        shared: shared.clone(),
        live,
    };
    while let Some(group) = shared.next_group() {
        let outcome = catch_unwind(AssertUnwindSafe(|| match &threads {
            Some(pool) => pool.install(|| process(&engine, shared.max_batch, &group)),
            None => process(&engine, shared.max_batch, &group),
        }));
        match outcome {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                tracing::error!(%message, "inference worker panicked; answering its requests with an error");
                for job in group {
                    let _ = job.reply.send(Err(RuntimeError::WorkerDied(format!(
                        "panicked: {message}"
                    ))));
                }
            }
        }
    }
}

/// One input waiting for the model.
struct Item {
    job: usize,
    input: usize,
    ids: Vec<u32>,
}

/// Tokenizes, batches by length, runs and assembles the answers of a group of jobs.
fn process(engine: &Engine, max_batch: usize, group: &[Job]) -> Vec<Result<JobOutput>> {
    let mut results: Vec<Result<JobOutput>> = Vec::with_capacity(group.len());
    let mut items: Vec<Item> = Vec::new();
    for (j, job) in group.iter().enumerate() {
        let mut job_items = Vec::with_capacity(job.inputs.len());
        let mut tokens = Vec::with_capacity(job.inputs.len());
        let mut truncated = 0;
        let mut failed = None;
        for (i, text) in job.inputs.iter().enumerate() {
            match engine.tokenize(text, job.truncation, i) {
                Ok(t) => {
                    truncated += usize::from(t.truncated);
                    tokens.push(t.ids.len());
                    job_items.push(Item {
                        job: j,
                        input: i,
                        ids: t.ids,
                    });
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            Some(e) => results.push(Err(e)),
            None => {
                items.append(&mut job_items);
                results.push(Ok(JobOutput {
                    vectors: vec![Vec::new(); job.inputs.len()],
                    tokens,
                    truncated,
                }));
            }
        }
    }

    // Longest first: similar lengths share a batch, so padding stays small.
    items.sort_by_key(|item| std::cmp::Reverse(item.ids.len()));
    for chunk in items.chunks(max_batch.max(1)) {
        let batch: Vec<&[u32]> = chunk.iter().map(|item| item.ids.as_slice()).collect();
        match engine.run(&batch) {
            Ok(rows) => {
                for (item, row) in chunk.iter().zip(rows) {
                    if let Some(Ok(out)) = results.get_mut(item.job) {
                        out.vectors[item.input] = row;
                    }
                }
            }
            Err(e) => {
                for item in chunk {
                    if let Some(slot) = results.get_mut(item.job) {
                        *slot = Err(e.clone());
                    }
                }
            }
        }
    }

    for (result, job) in results.iter_mut().zip(group) {
        if let Ok(out) = result
            && job.normalize
        {
            out.vectors.iter_mut().for_each(|v| normalize(v));
        }
    }
    results
}

/// L2-normalizes in place, as `torch.nn.functional.normalize` (eps 1e-12).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}
