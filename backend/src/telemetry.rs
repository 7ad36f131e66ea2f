//! Structured logs: one JSON object per line in production, readable text in development.
//!
//! Lines go to stdout in batches: an event is appended to an in-memory buffer, and a
//! background thread writes the buffer every [`FLUSH_EVERY`]; warnings and errors, a full
//! buffer and [`flush`] (at exit) write at once. A busy server then makes a few `write`
//! calls a second instead of one per request. The price: if the process is killed
//! outright, the info lines of its last 100 ms may be lost (never a warning or an error).

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogFormat, Settings};

/// How long an info line may wait in memory before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Buffered bytes past which the writing thread writes at once.
const FLUSH_AT: usize = 256 << 10;

static OUTPUT: OnceLock<BatchedStdout> = OnceLock::new();

/// Installs the global subscriber. Calling it twice (tests) keeps the first one.
pub fn init(settings: &Settings) {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let output = OUTPUT.get_or_init(BatchedStdout::start).clone();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(output);
    let _ = match settings.log_format {
        // Span fields (request_id, method, path) are flattened into every event of a request.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Writes out the log lines still in memory (call before the process exits).
pub fn flush() {
    if let Some(output) = OUTPUT.get() {
        output.0.flush();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Batch {
    pending: Mutex<Vec<u8>>,
    /// Held while writing, so batches taken by different threads keep their order.
    out: Mutex<()>,
}

impl Batch {
    fn flush(&self) {
        let _writing = lock(&self.out);
        let bytes = std::mem::take(&mut *lock(&self.pending));
        if !bytes.is_empty() {
            let mut stdout = std::io::stdout().lock();
            // Nowhere to report a failed log write; the lines are dropped.
            let _ = stdout.write_all(&bytes);
            let _ = stdout.flush();
        }
    }
}

/// A [`MakeWriter`] for stdout that batches lines (see the module docs).
#[derive(Clone)]
pub struct BatchedStdout(Arc<Batch>);

impl BatchedStdout {
    fn start() -> Self {
        let batch = Arc::new(Batch {
            pending: Mutex::new(Vec::new()),
            out: Mutex::new(()),
        });
        let flusher = Arc::clone(&batch);
        let spawned = std::thread::Builder::new()
            .name("hfb-log".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flusher.flush();
                }
            });
        if let Err(e) = spawned {
            eprintln!("hfb: cannot start the log writer thread ({e}); logs are written at exit");
        }
        Self(batch)
    }
}

/// One event's writer: appends to the batch, writing at once when `urgent`.
pub struct EventWriter<'a> {
    batch: &'a Batch,
    urgent: bool,
}

impl Write for EventWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut pending = lock(&self.batch.pending);
            pending.extend_from_slice(buf);
            pending.len() >= FLUSH_AT
        };
        if full || self.urgent {
            self.batch.flush();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter {
            batch: &self.0,
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        EventWriter {
            batch: &self.0,
            // tracing orders levels by verbosity: ERROR < WARN < INFO.
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_in_the_batch_unless_urgent() {
        let batch = Batch {
            pending: Mutex::new(Vec::new()),
            out: Mutex::new(()),
        };
        let mut info = EventWriter {
            batch: &batch,
            urgent: false,
        };
        info.write_all(b"one\n").unwrap();
        assert_eq!(lock(&batch.pending).as_slice(), b"one\n");
        let mut warning = EventWriter {
            batch: &batch,
            urgent: true,
        };
        warning.write_all(b"two\n").unwrap();
        assert!(
            lock(&batch.pending).is_empty(),
            "urgent lines write the batch"
        );
    }
}
