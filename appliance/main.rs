//! The `zonegate` binary: parse the command line, run, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = zonegate::cli::Cli::parse();
    let code = match zonegate::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zonegate: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
