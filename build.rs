//! Stamps the build and links the C++ runtime statically.
//!
//! Environment for the crate:
//! - `ZONEGATE_GIT_REVISION`: short hash of `HEAD`, or `unknown` without git.
//! - `ZONEGATE_FEATURES`: comma-separated, shown by `zonegate --version` and in
//!   `zonegate_build_info` on /metrics: the backend (`cpu` or `cuda`), `openmp` when
//!   llama.cpp's CPU threads use OpenMP, then the linking variant: `static-libstdc++`,
//!   `static-libgomp`, `static-libgcc` for what is linked into the binary, and
//!   `dynamic-glibc` (the C library — libc, libm, the loader — stays shared; it is the
//!   only dependency `ldd` shows).
//!
//! Linking (x86-64/aarch64 Linux with glibc): llama-cpp-sys-2's `static-stdcxx` and
//! `static-openmp` features link `libstdc++.a` and `libgomp.a`. Rust's standard library
//! always asks for `-lgcc_s` (its unwinder) unless the whole binary is `crt-static`, which
//! would make glibc static too and break NSS (`getaddrinfo` for upstream host names, user
//! look-ups for the privilege drop). So this script puts a one-line linker script named
//! `libgcc_s.a` (`INPUT(-lgcc_eh)`, GNU ld's documented INPUT command) first on the search
//! path: `-lgcc_s` then resolves to GCC's static unwinder `libgcc_eh.a`, the same one
//! `-static-libgcc` uses for C and C++. Writes nothing outside `OUT_DIR`.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let rev = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ZONEGATE_GIT_REVISION={rev}");
    // In a linked worktree `.git` is a file; ask git where HEAD and the refs live.
    for p in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", p]) {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");

    let feature = |f: &str| std::env::var_os(format!("CARGO_FEATURE_{}", f.to_uppercase().replace('-', "_"))).is_some();
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let mut features: Vec<&str> = vec![if feature("cuda") { "cuda" } else { "cpu" }];
    let openmp = feature("openmp");
    if openmp {
        features.push("openmp");
    }

    let glibc_linux = env("CARGO_CFG_TARGET_OS") == "linux" && env("CARGO_CFG_TARGET_ENV") == "gnu";
    let crt_static = env("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static");
    if glibc_linux && !crt_static {
        let out = PathBuf::from(env("OUT_DIR")).join("static-libgcc");
        std::fs::create_dir_all(&out)
            .and_then(|()| std::fs::write(out.join("libgcc_s.a"), "/* zonegate build.rs: link GCC's unwinder statically */\nINPUT(-lgcc_eh)\n"))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
        println!("cargo:rustc-link-search=native={}", out.display());
        println!("cargo:rustc-link-arg=-static-libgcc");
        features.push("static-libstdc++");
        if openmp {
            features.push("static-libgomp");
        }
        features.push("static-libgcc");
        features.push("dynamic-glibc");
    } else if crt_static {
        features.push("static");
    }
    println!("cargo:rustc-env=ZONEGATE_FEATURES={}", features.join(","));
}
