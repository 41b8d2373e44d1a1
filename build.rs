//! Stamps the build: `ZONEGATE_GIT_REVISION` (short hash, or `unknown` without git) and
//! `ZONEGATE_FEATURES` (enabled cargo features). Writes nothing outside `OUT_DIR`.

use std::process::Command;

fn main() {
    let rev = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ZONEGATE_GIT_REVISION={rev}");
    let mut features: Vec<String> = std::env::vars()
        .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(|f| f.to_lowercase().replace('_', "-")))
        .collect();
    features.sort();
    if features.is_empty() {
        features.push("cpu".into());
    }
    println!("cargo:rustc-env=ZONEGATE_FEATURES={}", features.join(","));
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-changed=build.rs");
}
