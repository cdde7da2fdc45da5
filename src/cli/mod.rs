//! The command-line interface: [`Cli`] and its [`Command`]s (clap derive), the shared flags in
//! [`args`], one module per subcommand in [`commands`], and [`input`] (opening a capture).

pub mod args;
pub mod commands;
pub mod input;

use clap::{Parser, Subcommand};

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
}
