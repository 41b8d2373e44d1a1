//! `zonegate classify`: classify a file or standard input and print the class, the allowed
//! zones and the findings (category, byte span, line, detector) — as text or as one JSON
//! object.
//!
//! Must not: print or log detected values or the input text (spans only; the user can look
//! them up in their own file), or contact anything.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use super::{Classification, DataClass, Detector, PolicyDetectConfig, Zone};

/// Arguments of `zonegate classify`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClassifyArgs {
    /// Declared data class of the text: public, internal, personal, confidential or social.
    /// Detection can only raise it.
    #[arg(long, value_name = "CLASS")]
    pub declared: Option<DataClass>,
    /// Print exactly one JSON object:
    /// {"effective_class", "detected_class", "min_zone", "allowed_zones", "findings"}.
    #[arg(long)]
    pub json: bool,
    /// UTF-8 text file to classify, or `-` for standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: PathBuf,
}

#[derive(Serialize)]
struct JsonFinding {
    category: &'static str,
    start: usize,
    end: usize,
    detector: &'static str,
}

#[derive(Serialize)]
struct JsonOut {
    effective_class: DataClass,
    detected_class: DataClass,
    declared_class: Option<DataClass>,
    min_zone: Zone,
    allowed_zones: Vec<Zone>,
    findings: Vec<JsonFinding>,
}

/// Runs `zonegate classify`. Returns the process exit code: 0 when the text was classified
/// (whatever the class). Errors (unreadable or non-UTF-8 input, input over the detector's
/// size limit, detector failure) are returned for the caller to report; their messages
/// contain paths and sizes, never input text. `cfg` is the `[policy.detect]` section the
/// server uses (so both classify alike).
pub fn run_classify(args: ClassifyArgs, cfg: &PolicyDetectConfig) -> anyhow::Result<i32> {
    let limit = cfg.max_input_bytes;
    let bytes = read_input(&args.input, limit)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "input is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let detector = Detector::new(cfg).context("building the detector from [policy.detect]")?;
    let c = detector
        .classify(&text, args.declared)
        .context("classifying the input")?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &json(&c, args.declared)).context("writing JSON")?;
        writeln!(out)?;
    } else {
        write_human(&mut out, &c, args.declared, &text)?;
    }
    out.flush()?;
    Ok(0)
}

fn read_input(path: &PathBuf, limit: usize) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(cap)
            .read_to_end(&mut buf)
            .context("reading standard input")?;
    } else {
        let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        f.take(cap)
            .read_to_end(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    if buf.len() > limit {
        anyhow::bail!("input is larger than the detector limit of {limit} bytes");
    }
    Ok(buf)
}

fn json(c: &Classification, declared: Option<DataClass>) -> JsonOut {
    JsonOut {
        effective_class: c.effective_class,
        detected_class: c.detected_class,
        declared_class: declared,
        min_zone: c.min_zone,
        allowed_zones: c.allowed_zones.clone(),
        findings: c
            .findings
            .iter()
            .map(|f| JsonFinding {
                category: f.category.as_str(),
                start: f.start,
                end: f.end,
                detector: f.detector,
            })
            .collect(),
    }
}

fn write_human(
    out: &mut impl Write,
    c: &Classification,
    declared: Option<DataClass>,
    text: &str,
) -> std::io::Result<()> {
    let zones: Vec<&str> = c.allowed_zones.iter().map(|z| z.as_str()).collect();
    writeln!(
        out,
        "effective class: {} ({})",
        c.effective_class,
        c.effective_class.label_de()
    )?;
    writeln!(
        out,
        "detected class:  {}{}",
        c.detected_class,
        declared
            .map(|d| format!(", declared: {d}"))
            .unwrap_or_default()
    )?;
    writeln!(out, "allowed zones:   {}", zones.join(", "))?;
    writeln!(out, "most open zone:  {}", c.min_zone)?;
    writeln!(out, "findings:        {}", c.findings.len())?;
    for f in &c.findings {
        let line = text[..f.start].matches('\n').count() + 1;
        let col = text[..f.start]
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count())
            + 1;
        writeln!(
            out,
            "  {:<22} line {line}, col {col}, bytes {}..{}  ({})",
            f.category.as_str(),
            f.start,
            f.end,
            f.detector
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let d = Detector::new(&PolicyDetectConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        let c = d
            .classify("Herr Bauer hat angerufen.", None)
            .unwrap_or_else(|e| panic!("{e}"));
        let v = serde_json::to_value(json(&c, None)).unwrap_or_default();
        assert_eq!(v["effective_class"], "personal");
        assert_eq!(v["allowed_zones"], serde_json::json!(["green", "yellow"]));
        assert_eq!(v["findings"][0]["category"], "PERSON");
        assert_eq!(v["findings"][0]["start"], 5);
        assert!(v["findings"][0].get("value").is_none());
    }
}
