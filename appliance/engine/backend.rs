//! The process-wide llama.cpp backend (initialised once) and routing of llama.cpp's log.

use std::sync::{Mutex, OnceLock};

use llama_cpp_2::llama_backend::LlamaBackend;

use super::EngineError;

static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// The shared backend; the first call initialises llama.cpp and routes its log into
/// `tracing` (which forwards to `log`), where the logger lowers it to debug level.
pub(crate) fn backend() -> Result<&'static LlamaBackend, EngineError> {
    if let Some(b) = BACKEND.get() {
        return Ok(b);
    }
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = BACKEND.get() {
        return Ok(b);
    }
    llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
    let b = LlamaBackend::init().map_err(|e| EngineError::Load { id: String::new(), reason: format!("llama.cpp backend: {e}") })?;
    Ok(BACKEND.get_or_init(|| b))
}

/// On a worker thread: creates the model's context and reports the outcome on `ready`
/// (the starting thread waits for it). `None` when creation failed (already reported).
pub(crate) fn open_context<'m>(
    model: &'m llama_cpp_2::model::LlamaModel,
    params: llama_cpp_2::context::params::LlamaContextParams,
    ready: &std::sync::mpsc::SyncSender<Result<(), EngineError>>,
) -> Option<llama_cpp_2::context::LlamaContext<'m>> {
    let created = backend().and_then(|b| {
        model.new_context(b, params).map_err(|e| EngineError::Load { id: String::new(), reason: format!("cannot create context: {e}") })
    });
    match created {
        Ok(ctx) => {
            let _ = ready.send(Ok(()));
            Some(ctx)
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            None
        }
    }
}
