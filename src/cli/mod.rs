//! The command-line interface: [`Cli`] and its [`Command`]s (clap derive), the shared flags in
//! [`args`], one module per subcommand in [`commands`], [`input`] (opening a capture), and the
//! one writer of standard error ([`say`]).

pub mod args;
pub mod commands;
pub mod input;

use std::io::Write as _;

use clap::{ArgMatches, CommandFactory, Parser, Subcommand};
use pcaplab::view::text;

use args::{MEANING, NOT_APPLICABLE, OutputArgs};

/// What a subcommand reports back besides errors.
pub enum Outcome {
    /// Everything ran and every check passed.
    Ok,
    /// A check or grade failed (exit status 1).
    ChecksFailed,
}

/// pcaplab: decode captures and answer networking-course questions about them.
#[derive(Debug, Parser)]
#[command(name = "pcaplab", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One row per packet: number, time, addresses, protocol, OSI layers, info.
    Packets(commands::packets::PacketsArgs),
    /// The decoded tree of chosen packets, grouped under OSI layers.
    Show(commands::show::ShowArgs),
    /// One row per TCP stream: handshake, close, bytes, retransmissions, gaps, sticky counts.
    Streams(commands::streams::StreamsArgs),
    /// The reassembled conversation of one TCP stream, like Wireshark's Follow TCP Stream.
    Follow(commands::follow::FollowArgs),
    /// Where messages were coalesced or split against TCP segment boundaries.
    Sticky(commands::sticky::StickyArgs),
    /// One row per TFTP transfer: files, blocks, completeness, errors, retransmissions.
    Tftp(commands::tftp::TftpArgs),
    /// One row per HTTP transaction: method, URI, status, sizes, timing, warnings.
    Http(commands::http::HttpArgs),
    /// Protocol hierarchy by OSI layer, endpoints, conversations, rates.
    Stats(commands::stats::StatsArgs),
    /// The ladder diagram of a TCP stream, UDP conversation or TFTP transfer (text or SVG).
    Ladder(commands::ladder::LadderArgs),
    /// One self-contained HTML page about a capture: statistics, ladders, warnings.
    Report(commands::report::ReportArgs),
    /// Grade captures of student programs against a TOML rubric.
    Grade(commands::grade::GradeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(commands::completions::CompletionsArgs),
    /// Print the manual page (roff, for `man -l -`) to standard output.
    Man(commands::completions::ManArgs),
}

impl Command {
    /// The output flags of the command, for those that print tables.
    pub fn output(&self) -> Option<&OutputArgs> {
        match self {
            Command::Packets(a) => Some(&a.output),
            Command::Show(a) => Some(&a.output),
            Command::Streams(a) => Some(&a.output),
            Command::Follow(a) => Some(&a.output),
            Command::Sticky(a) => Some(&a.output),
            Command::Tftp(a) => Some(&a.output),
            Command::Http(a) => Some(&a.output),
            Command::Stats(a) => Some(&a.output),
            Command::Grade(a) => Some(&a.output),
            Command::Ladder(a) => Some(&a.output),
            Command::Report(a) => Some(&a.output),
            Command::Completions(_) | Command::Man(_) => None,
        }
    }
}

/// The clap command with the flags that cannot apply to a subcommand hidden from its help.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    for (sub, arg, _) in NOT_APPLICABLE {
        cmd = cmd.mut_subcommand(sub, |c| c.mut_arg(arg, |a| a.hide(true)));
    }
    for (sub, arg, help) in MEANING {
        cmd = cmd.mut_subcommand(sub, |c| c.mut_arg(arg, |a| a.help(*help)));
    }
    cmd
}

/// Refuses a flag given to a command it cannot apply to, with the reason.
///
/// # Errors
/// `pcaplab streams: --time-format does not apply: …`.
pub fn check_applicable(matches: &ArgMatches) -> anyhow::Result<()> {
    let Some((sub, m)) = matches.subcommand() else {
        return Ok(());
    };
    for (command, arg, why) in NOT_APPLICABLE.iter().filter(|(c, _, _)| *c == sub) {
        if m.try_contains_id(arg).unwrap_or(false)
            && m.value_source(arg) == Some(clap::parser::ValueSource::CommandLine)
        {
            let flag = command_flag(sub, arg);
            anyhow::bail!("{command}: {flag} does not apply: {why}");
        }
    }
    Ok(())
}

/// `--time-format/-t` as the command spells it.
fn command_flag(sub: &str, arg: &str) -> String {
    let cmd = command();
    cmd.find_subcommand(sub)
        .and_then(|c| c.get_arguments().find(|a| a.get_id() == arg))
        .map(|a| {
            let long = a.get_long().map(|l| format!("--{l}"));
            let short = a.get_short().map(|s| format!("-{s}"));
            match (long, short) {
                (Some(l), Some(s)) => format!("{l}/{s}"),
                (Some(l), None) => l,
                (None, Some(s)) => s,
                (None, None) => arg.to_string(),
            }
        })
        .unwrap_or_else(|| arg.to_string())
}

/// Writes `pcaplab: TEXT` on standard error, each line escaped for the terminal; a closed
/// standard error is ignored (the one way this program writes there).
pub fn say(text: &str) {
    let mut line = String::with_capacity(text.len() + 10);
    for (i, part) in text.lines().enumerate() {
        if i == 0 {
            line.push_str("pcaplab: ");
        }
        text::push_escaped(&mut line, part);
        line.push('\n');
    }
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `pcaplab: note: TEXT` on standard error (see [`say`]).
pub fn note(text: &str) {
    say(&format!("note: {text}"));
}

/// `pcaplab: warning: TEXT` on standard error (see [`say`]).
pub fn warn(text: &str) {
    say(&format!("warning: {text}"));
}
