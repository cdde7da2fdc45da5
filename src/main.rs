//! The `pcaplab` binary: parses arguments, runs one subcommand, maps the outcome to an exit code
//! (0 ok, 1 a check or grade failed, 2 bad usage or unreadable input). A closed pipe on stdout
//! ends the run quietly with 0.

mod cli;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, Outcome};
use pcaplab::report::Terminal;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let term = terminal();
    let result = match cli.command {
        Command::Packets(args) => cli::commands::packets::run(args, term),
        Command::Show(args) => cli::commands::show::run(args, term),
        Command::Streams(args) => cli::commands::streams::run(args, term),
        Command::Follow(args) => cli::commands::follow::run(args, term),
        Command::Sticky(args) => cli::commands::sticky::run(args, term),
        Command::Tftp(args) => cli::commands::tftp::run(args, term),
        Command::Http(args) => cli::commands::http::run(args, term),
        Command::Stats(args) => cli::commands::stats::run(args, term),
        Command::Ladder(args) => cli::commands::ladder::run(args, term),
        Command::Report(args) => cli::commands::report::run(args, term),
        Command::Grade(args) => cli::commands::grade::run(args, term),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::ChecksFailed) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pcaplab: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn terminal() -> Terminal {
    let is_tty = io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = if is_tty {
        comfy_table::Table::new().width()
    } else {
        None
    };
    Terminal {
        is_tty,
        color: is_tty && !no_color,
        width,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
