//! Structured logs: one JSON object per line in production, readable text in development.
//!
//! Lines go to stdout in batches: an event is appended to an in-memory buffer, and a
//! background thread writes the buffer every [`FLUSH_EVERY`]; warnings and errors, a full
//! buffer and [`flush`] (at exit) write at once. A busy server then makes a few `write`
//! calls a second instead of one per request. The price: if the process is killed
//! outright, the info lines of its last 100 ms may be lost (never a warning or an error).
//!
//! The access line of each request (`"message":"request"`) is, in the JSON format, written
//! by [`write_access_line`] rather than by tracing-subscriber's formatter: the same line
//! at about a fifth of the cost, which matters on the inference hot path (bench/README.md).

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogFormat, Settings};

/// How long an info line may wait in memory before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Buffered bytes past which the writing thread writes at once.
const FLUSH_AT: usize = 256 << 10;

static OUTPUT: OnceLock<BatchedStdout> = OnceLock::new();
/// The installed subscriber writes JSON lines (set by [`init`]).
static JSON_LINES: AtomicBool = AtomicBool::new(false);

/// Installs the global subscriber. Calling it twice (tests) keeps the first one.
pub fn init(settings: &Settings) {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let output = OUTPUT.get_or_init(BatchedStdout::start).clone();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(output);
    let installed = match settings.log_format {
        // Span fields (request_id, method, path) are flattened into every event of a request.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    if installed.is_ok() {
        JSON_LINES.store(settings.log_format == LogFormat::Json, Ordering::Relaxed);
    }
}

/// What the access line of one request says.
pub struct AccessLine<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency_ms: f64,
}

/// Writes a request's info-level access line the way the JSON formatter would
/// (`{"timestamp":…,"level":"INFO","message":"request","request_id":…,"method":…,
/// "path":…,"status":…,"latency_ms":…}`), straight into the batch. Returns `false` when
/// the subscriber is not the JSON one (pretty logs, or none installed): the caller then
/// logs the line through tracing. The caller checks that info lines are enabled.
pub fn write_access_line(line: &AccessLine<'_>) -> bool {
    if !JSON_LINES.load(Ordering::Relaxed) {
        return false;
    }
    let Some(output) = OUTPUT.get() else {
        return false;
    };
    let full = {
        let mut pending = lock(&output.0.pending);
        format_access_line(&mut pending, SystemTime::now(), line);
        pending.len() >= FLUSH_AT
    };
    if full {
        output.0.flush();
    }
    true
}

fn format_access_line(out: &mut Vec<u8>, now: SystemTime, line: &AccessLine<'_>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    write_timestamp(out, now);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"request\",\"request_id\":");
    json_str(out, line.request_id);
    out.extend_from_slice(b",\"method\":");
    json_str(out, line.method);
    out.extend_from_slice(b",\"path\":");
    json_str(out, line.path);
    // Writing into a Vec cannot fail.
    let _ = writeln!(
        out,
        ",\"status\":{},\"latency_ms\":{}}}",
        line.status, line.latency_ms
    );
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

thread_local! {
    /// `YYYY-MM-DDTHH:MM:SS` of the last second a line was stamped with on this thread.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// RFC 3339 in UTC with microseconds, as tracing-subscriber stamps lines; the date and
/// time of day are formatted once a second.
fn write_timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            let at = chrono::DateTime::<chrono::Utc>::from(
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            );
            *cached = (secs, at.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
        out.extend_from_slice(cached.1.as_bytes());
    });
    let _ = write!(out, ".{:06}Z", since.subsec_micros());
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
    fn access_lines_have_the_json_formatters_shape() {
        let mut out = Vec::new();
        let at = SystemTime::UNIX_EPOCH + Duration::from_micros(1_764_563_725_153_386);
        let line = AccessLine {
            request_id: "01a2",
            method: "POST",
            path: "/api/v1/\"odd\"\\path",
            status: 200,
            latency_ms: 1.921889,
        };
        format_access_line(&mut out, at, &line);
        format_access_line(&mut out, at + Duration::from_millis(1500), &line);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"timestamp":"2025-12-01T04:35:25.153386Z","level":"INFO","message":"request","request_id":"01a2","method":"POST","path":"/api/v1/\"odd\"\\path","status":200,"latency_ms":1.921889}"#
        );
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["timestamp"], "2025-12-01T04:35:26.653386Z");
        assert_eq!(second["path"], "/api/v1/\"odd\"\\path");
    }

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
