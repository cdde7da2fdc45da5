//! The `pcaplab` binary: parses arguments, runs one subcommand, maps the outcome to an exit code
//! (0 ok, 1 a check or grade failed, 2 bad usage or unreadable input). A closed pipe on stdout
//! ends the run quietly with 0; a closed stderr is ignored.

mod cli;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::FromArgMatches;

use cli::args::OutputArgs;
use cli::{Cli, Command, Outcome};
use pcaplab::report::Terminal;

fn main() -> ExitCode {
    let matches = match cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return clap_exit(&e),
    };
    let parsed = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cli::command()));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return clap_exit(&e),
    };
    if let Err(e) = cli::check_applicable(&matches) {
        cli::say(&format!("{e}"));
        return ExitCode::from(2);
    }
    let term = terminal(cli.command.output());
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
        Command::Completions(args) => cli::commands::completions::run_completions(&args),
        Command::Man(args) => cli::commands::completions::run_man(&args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::ChecksFailed) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            cli::say(&message(&e));
            ExitCode::from(2)
        }
    }
}

/// A usage error (exit 2), or `--help`/`--version` (exit 0); printing them ignores a closed
/// stream.
fn clap_exit(e: &clap::Error) -> ExitCode {
    let _ = e.print();
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// How tables are laid out: `--width`, else the terminal's width when standard output is one
/// (`COLUMNS` when the terminal does not say); no width in a pipe.
fn terminal(output: Option<&OutputArgs>) -> Terminal {
    let is_tty = io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let asked = output.and_then(|o| o.width);
    let width = match asked {
        Some(0) => None,
        Some(w) => Some(w),
        None if is_tty => terminal_width(),
        None => None,
    };
    Terminal {
        is_tty,
        color: is_tty && !no_color,
        width,
        wide: output.is_some_and(|o| o.wide),
        note: Some(cli::note),
    }
}

/// The terminal's width in columns (`TIOCGWINSZ` on standard output, else `COLUMNS`); `None`
/// when neither says, or says 0.
fn terminal_width() -> Option<u16> {
    rustix::termios::tcgetwinsize(io::stdout())
        .ok()
        .map(|w| w.ws_col)
        .filter(|c| *c > 0)
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse::<u16>().ok())
                .filter(|c| *c > 0)
        })
}

/// The error and its causes joined by `: `, leaving out a cause whose text the message already
/// holds (an OS error said once, not twice) and the operating system's error number (`No such
/// file or directory`, not `No such file or directory (os error 2)`).
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = without_os_error_number(&cause.to_string());
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// `text` without the ` (os error N)` that `std::io::Error` appends to the system's message.
fn without_os_error_number(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" (os error ") {
        let (before, tail) = rest.split_at(at);
        let after = &tail[" (os error ".len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        out.push_str(before);
        if digits > 0 && after[digits..].starts_with(')') {
            rest = &after[digits + 1..];
        } else {
            out.push_str(" (os error ");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<pcaplab::Error>().is_some_and(|p| {
                matches!(p, pcaplab::Error::Write { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
            })
    })
}
