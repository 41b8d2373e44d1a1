//! Loading a GGUF file: existence, SHA-256 check, llama.cpp model parameters.

use std::io::Read;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use sha2::{Digest, Sha256};

use super::{EngineError, ModelInfo};
use crate::config::ModelConfig;

/// SHA-256 of a file as 64 lowercase hex digits (streams the file in 1 MiB blocks).
///
/// # Errors
/// The I/O error, as text.
pub fn sha256_file(path: &std::path::Path) -> Result<String, std::io::Error> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Checks the file and loads the model; returns it with its public description.
pub(crate) fn load_model(cfg: &ModelConfig) -> Result<(Arc<LlamaModel>, ModelInfo), EngineError> {
    let err = |reason: String| EngineError::Load { id: cfg.id.clone(), reason };
    let meta = std::fs::metadata(&cfg.path).map_err(|e| err(format!("{}: {e}", cfg.path.display())))?;
    if let Some(want) = &cfg.sha256 {
        let got = sha256_file(&cfg.path).map_err(|e| err(format!("{}: {e}", cfg.path.display())))?;
        if !got.eq_ignore_ascii_case(want) {
            return Err(err(format!("{}: SHA-256 is {got}, config expects {want}", cfg.path.display())));
        }
    }
    let created = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs()).unwrap_or(0);
    let backend = super::backend::backend()?;
    let params = LlamaModelParams::default().with_n_gpu_layers(cfg.gpu_layers);
    let model = LlamaModel::load_from_file(backend, &cfg.path, &params).map_err(|e| err(format!("{}: {e}", cfg.path.display())))?;
    let info = ModelInfo {
        id: cfg.id.clone(),
        role: cfg.role,
        created,
        context_per_sequence: cfg.context_size / cfg.parallel,
        parallel: cfg.parallel,
        n_ctx_train: model.n_ctx_train(),
        n_embd: u32::try_from(model.n_embd()).unwrap_or(0),
        prefix_cache: cfg.prefix_cache,
    };
    Ok((Arc::new(model), info))
}
