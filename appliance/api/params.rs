//! Validation of the sampling parameters shared by chat and legacy completions, with the
//! ranges of OpenAI's API reference; each violation is a 400 naming the parameter.

use super::error::ApiError;
use super::types::StopSpec;
use crate::engine::SamplingParams;

/// Most choices (`n`) one request may ask for.
pub const MAX_N: i64 = 8;
/// Most stop sequences (OpenAI allows four).
pub const MAX_STOP: usize = 4;

/// The sampling fields of a request, before validation.
pub(crate) struct Raw<'a> {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<i64>,
    pub min_p: Option<f64>,
    pub seed: Option<i64>,
    pub stop: Option<&'a StopSpec>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub n: Option<i64>,
    /// `(name, value)` of each token limit given, e.g. `("max_tokens", 100)`.
    pub max_tokens: Vec<(&'static str, i64)>,
}

fn range(param: &str, v: Option<f64>, lo: f64, hi: f64, default: f64) -> Result<f32, ApiError> {
    match v {
        None => Ok(default as f32),
        Some(x) if x.is_finite() && (lo..=hi).contains(&x) => Ok(x as f32),
        Some(x) => Err(ApiError::invalid(param, format!("{x} is not a valid value for '{param}': expected a number from {lo} to {hi}")).with_code("invalid_value")),
    }
}

/// Validates `raw`; `cap` is `server.max_tokens_cap`, `default_max` the limit when none is given.
/// Returns the engine parameters and the number of choices.
pub(crate) fn validate(raw: &Raw<'_>, cap: u32, default_max: u32) -> Result<(SamplingParams, u32), ApiError> {
    let mut p = SamplingParams {
        temperature: range("temperature", raw.temperature, 0.0, 2.0, 1.0)?,
        top_p: range("top_p", raw.top_p, 0.0, 1.0, 1.0)?,
        min_p: range("min_p", raw.min_p, 0.0, 1.0, 0.0)?,
        presence_penalty: range("presence_penalty", raw.presence_penalty, -2.0, 2.0, 0.0)?,
        frequency_penalty: range("frequency_penalty", raw.frequency_penalty, -2.0, 2.0, 0.0)?,
        ..SamplingParams::default()
    };
    p.top_k = match raw.top_k {
        None => 0,
        Some(k) if (0..=1000).contains(&k) => k as i32,
        Some(k) => return Err(ApiError::invalid("top_k", format!("{k} is not a valid value for 'top_k': expected 0 to 1000")).with_code("invalid_value")),
    };
    // A seed is any integer; llama.cpp takes 32 bits of it.
    p.seed = raw.seed.map(|s| (s as u64 & 0xffff_ffff) as u32);
    p.stop = match raw.stop {
        None => Vec::new(),
        Some(StopSpec::One(s)) => vec![s.clone()],
        Some(StopSpec::Many(v)) if v.len() <= MAX_STOP => v.clone(),
        Some(StopSpec::Many(v)) => return Err(ApiError::invalid("stop", format!("at most {MAX_STOP} stop sequences are allowed, got {}", v.len()))),
    };
    p.stop.retain(|s| !s.is_empty());
    let n = match raw.n {
        None => 1,
        Some(n) if (1..=MAX_N).contains(&n) => n as u32,
        Some(n) => return Err(ApiError::invalid("n", format!("{n} is not a valid value for 'n': expected 1 to {MAX_N}")).with_code("invalid_value")),
    };
    let mut max = None::<u32>;
    for (name, v) in &raw.max_tokens {
        if *v < 1 {
            return Err(ApiError::invalid(*name, format!("'{name}' must be at least 1, got {v}")).with_code("invalid_value"));
        }
        if *v > i64::from(cap) {
            return Err(ApiError::invalid(*name, format!("'{name}' is {v}, but this server allows at most {cap} tokens per request")).with_code("invalid_value"));
        }
        let v = *v as u32;
        max = Some(max.map_or(v, |m| m.min(v)));
    }
    p.max_tokens = max.unwrap_or(default_max.min(cap));
    Ok((p, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> Raw<'static> {
        Raw { temperature: None, top_p: None, top_k: None, min_p: None, seed: None, stop: None, presence_penalty: None, frequency_penalty: None, n: None, max_tokens: vec![] }
    }

    #[test]
    fn out_of_range_values_name_their_param() {
        for (r, param) in [
            (Raw { temperature: Some(3.5), ..raw() }, "temperature"),
            (Raw { top_p: Some(2.0), ..raw() }, "top_p"),
            (Raw { n: Some(0), ..raw() }, "n"),
            (Raw { presence_penalty: Some(-2.5), ..raw() }, "presence_penalty"),
            (Raw { max_tokens: vec![("max_completion_tokens", 0)], ..raw() }, "max_completion_tokens"),
        ] {
            assert_eq!(validate(&r, 100, 100).unwrap_err().param.as_deref(), Some(param));
        }
    }

    #[test]
    fn both_token_limits_bound_generation() {
        let r = Raw { max_tokens: vec![("max_tokens", 50), ("max_completion_tokens", 7)], ..raw() };
        assert_eq!(validate(&r, 100, 100).unwrap().0.max_tokens, 7);
    }

    #[test]
    fn a_limit_above_the_cap_is_refused() {
        let r = Raw { max_tokens: vec![("max_tokens", 101)], ..raw() };
        assert!(validate(&r, 100, 100).is_err());
    }
}
