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
    /// Classify a text offline: findings, effective data class, zones it may go to.
    Classify(crate::policy::ClassifyArgs),
    /// The audit ledger: verify the hash chain, export records.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Usage reports for cost-centre billing.
    #[command(subcommand)]
    Usage(UsageCommand),
}

/// `zonegate usage …`.
#[derive(Debug, Subcommand)]
pub enum UsageCommand {
    /// Requests, tokens and cost of one month, grouped, as CSV (default) or JSON.
    Report {
        /// Month, `YYYY-MM` (UTC).
        #[arg(long)]
        month: String,
        /// Grouping: department, zone, model, day (user only with per_user_reports).
        #[arg(long, default_value = "department,zone,model")]
        by: String,
        /// `csv` or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

fn run_usage(config: &std::path::Path, cmd: UsageCommand) -> anyhow::Result<i32> {
    use crate::accounting::report;
    let UsageCommand::Report { month, by, format } = cmd;
    let cfg = Config::load(config)?;
    let (y, m) = month.split_once('-').and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?))).ok_or_else(|| anyhow::anyhow!("--month {month:?} is not a month; use YYYY-MM"))?;
    let dims = report::parse_dims(&by, &cfg.accounting).map_err(anyhow::Error::msg)?;
    let rows = report::report(&crate::app::ledger_path(&cfg), (y, m), &dims, &cfg.accounting)?;
    match format.as_str() {
        "csv" => print!("{}", report::to_csv(&dims, &rows)),
        "json" => println!("{}", report::to_json(&dims, &rows)),
        other => anyhow::bail!("--format {other:?} is not supported; use csv or json"),
    }
    Ok(0)
}

/// `zonegate audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every record's hash and link; reports the first broken record and exits 1.
    Verify {
        /// Ledger file [default: <server.state_dir>/audit/ledger.jsonl of --config].
        #[arg(long)]
        ledger: Option<PathBuf>,
    },
    /// Apply `[accounting.retention_days]` now: prune records whose retention ran out (a
    /// running server does this by itself once a day; it must be stopped first).
    Prune,
    /// Write the records of a time range as JSON Lines to standard output.
    Export {
        /// First day, inclusive (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: String,
        /// Last day, inclusive (YYYY-MM-DD, UTC).
        #[arg(long)]
        to: String,
        /// Ledger file [default: from --config].
        #[arg(long)]
        ledger: Option<PathBuf>,
    },
}

fn ledger_of(config: &std::path::Path, ledger: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match ledger {
        Some(p) => Ok(p),
        None => Ok(crate::app::ledger_path(&Config::load(config)?)),
    }
}

/// Unix seconds of the start of `day` (YYYY-MM-DD, UTC).
fn day_start(day: &str, key: &str) -> anyhow::Result<u64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(day, &fmt).map_err(|_| anyhow::anyhow!("--{key} {day:?} is not a date; use YYYY-MM-DD"))?;
    Ok(u64::try_from(d.midnight().assume_utc().unix_timestamp()).unwrap_or(0))
}

fn run_audit(config: &std::path::Path, cmd: AuditCommand) -> anyhow::Result<i32> {
    match cmd {
        AuditCommand::Verify { ledger } => {
            let path = ledger_of(config, ledger)?;
            let r = crate::accounting::ledger::verify(&path)?;
            match r.first_broken {
                None => {
                    println!("{}: {} records ({} pruned by retention), chain intact", path.display(), r.records, r.pruned);
                    Ok(0)
                }
                Some((line, why)) => {
                    println!("{}: record {line} is broken: {why}", path.display());
                    Ok(1)
                }
            }
        }
        AuditCommand::Prune => {
            let cfg = Config::load(config)?;
            if cfg.accounting.retention_days.is_empty() {
                println!("[accounting.retention_days] is empty: every record is kept");
                return Ok(0);
            }
            let path = crate::app::ledger_path(&cfg);
            let ledger = crate::accounting::Ledger::open(&path)?;
            let r = ledger.prune(crate::accounting::unix_now(), &cfg.accounting.retention_days, cfg.policy.default_class)?;
            println!("{}: pruned {} records, {} records in the ledger", path.display(), r.pruned, r.records);
            Ok(0)
        }
        AuditCommand::Export { from, to, ledger } => {
            let path = ledger_of(config, ledger)?;
            let (from, to) = (day_start(&from, "from")?, day_start(&to, "to")? + 86_400);
            let mut out = std::io::stdout().lock();
            crate::accounting::ledger::export(&path, from, to, &mut out)?;
            Ok(0)
        }
    }
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
        Command::Classify(args) => {
            // The server's [policy.detect]; the built-in defaults where the default config
            // file does not exist (a workstation), an error for a named one that does not.
            let detect = if cli.config.as_os_str() == config::DEFAULT_PATH && !cli.config.exists() { Default::default() } else { Config::load(&cli.config)?.policy.detect };
            crate::policy::run_classify(args, &detect)
        }
        Command::Audit(cmd) => run_audit(&cli.config, cmd),
        Command::Usage(cmd) => run_usage(&cli.config, cmd),
        Command::Pki(cmd) => {
            crate::logging::init("warn");
            crate::tls::pki::run_pki(cmd)?;
            Ok(0)
        }
    }
}
