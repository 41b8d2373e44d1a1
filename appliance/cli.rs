//! The command line: `zonegate serve | check-config | pki … | classify …`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{self, Config};

const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (revision ", env!("ZONEGATE_GIT_REVISION"), ", features ", env!("ZONEGATE_FEATURES"), ")");

/// zonegate: the green-zone AI gateway.
#[derive(Debug, Parser)]
#[command(name = "zonegate", version = LONG_VERSION, about)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API until SIGTERM (SIGHUP reloads certificates and CRLs).
    Serve,
    /// Validate the configuration file and report every error; exits 1 on errors.
    CheckConfig,
    /// Local certificate authority: init, issue-server, issue-client, revoke, list.
    #[command(subcommand)]
    Pki(crate::tls::pki::PkiCommand),
}

/// Runs the command; returns the process exit code.
///
/// # Errors
/// Start-up failures, for `main` to print.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve => {
            let cfg = Config::load(&cli.config)?;
            crate::logging::init(&cfg.logging.level);
            // Before any thread exists: limits, and the switch away from root.
            crate::lifecycle::harden(cfg.server.user.as_deref())?;
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(crate::app::serve(cfg))?;
            Ok(0)
        }
        Command::CheckConfig => match Config::load(&cli.config) {
            Ok(_) => {
                println!("{}: OK", cli.config.display());
                Ok(0)
            }
            Err(e) => {
                eprint!("{}: {e}", cli.config.display());
                Ok(1)
            }
        },
        Command::Pki(cmd) => {
            crate::logging::init("warn");
            crate::tls::pki::run_pki(cmd)?;
            Ok(0)
        }
    }
}
