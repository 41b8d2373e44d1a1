//! Logging: to the systemd journal when stderr is connected to it (`JOURNAL_STREAM`), to
//! stderr otherwise. llama.cpp's own log arrives through `tracing` → `log` and is lowered to
//! debug level. Nothing here ever sees prompts or outputs: callers log ids and counts only.

use log::{LevelFilter, Log, Metadata, Record};

/// Wraps the real logger and lowers llama.cpp/ggml records to debug level.
struct Lowering {
    inner: Box<dyn Log>,
    level: LevelFilter,
}

/// The level a record is emitted at: llama.cpp/ggml lines at debug, `tracing` span
/// enter/exit lines (from llama-cpp-2's instrumentation) at trace, everything else as is.
fn effective(target: &str, level: log::Level) -> log::Level {
    if target.starts_with("tracing::span") {
        log::Level::Trace
    } else if target.starts_with("llama") || target.starts_with("ggml") {
        log::Level::Debug
    } else {
        level
    }
}

impl Log for Lowering {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        effective(m.target(), m.level()) <= self.level
    }

    fn log(&self, r: &Record<'_>) {
        let level = effective(r.target(), r.level());
        if level > self.level {
            return;
        }
        if level == r.level() {
            self.inner.log(r);
        } else {
            self.inner.log(&Record::builder().args(*r.args()).level(level).target(r.target()).build());
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Installs the process logger at `level` (`error` … `trace`). Later calls are ignored.
pub fn init(level: &str) {
    let level: LevelFilter = level.parse().unwrap_or(LevelFilter::Info);
    let inner: Box<dyn Log> = if systemd_journal_logger::connected_to_journal() {
        match systemd_journal_logger::JournalLog::new() {
            Ok(j) => Box::new(j.with_syslog_identifier("zonegate".into())),
            Err(_) => Box::new(stderr_logger(level)),
        }
    } else {
        Box::new(stderr_logger(level))
    };
    if log::set_boxed_logger(Box::new(Lowering { inner, level })).is_ok() {
        log::set_max_level(level);
    }
}

fn stderr_logger(level: LevelFilter) -> env_logger::Logger {
    env_logger::Builder::new().filter_level(level).format_timestamp_millis().build()
}
