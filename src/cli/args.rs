//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    Packets(PacketsArgs),
    /// The decoded tree of chosen packets, grouped under OSI layers.
    Show(ShowArgs),
    /// One row per TCP stream: handshake, close, bytes, retransmissions, gaps, sticky counts.
    Streams(crate::cli::commands::streams::StreamsArgs),
    /// The reassembled conversation of one TCP stream, like Wireshark's Follow TCP Stream.
    Follow(crate::cli::commands::follow::FollowArgs),
    /// Where messages were coalesced or split against TCP segment boundaries.
    Sticky(crate::cli::commands::sticky::StickyArgs),
    /// One row per TFTP transfer: files, blocks, completeness, errors, retransmissions.
    Tftp(crate::cli::commands::tftp::TftpArgs),
    /// One row per HTTP transaction: method, URI, status, sizes, timing, warnings.
    Http(crate::cli::commands::http::HttpArgs),
    /// Protocol hierarchy by OSI layer, endpoints, conversations, rates.
    Stats(crate::cli::commands::stats::StatsArgs),
    /// Grade captures of student programs against a TOML rubric.
    Grade(crate::cli::commands::grade::GradeArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A table for people.
    Table,
    /// Comma-separated values.
    Csv,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl From<FormatArg> for pcaplab::report::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => pcaplab::report::Format::Table,
            FormatArg::Csv => pcaplab::report::Format::Csv,
            FormatArg::Json => pcaplab::report::Format::Json,
            FormatArg::Ndjson => pcaplab::report::Format::Ndjson,
        }
    }
}

/// Options shared by every command that reads a capture.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: PathBuf,
    /// Also treat UDP requests to this port as TFTP (repeatable; 69 always is).
    #[arg(long = "tftp-port", value_name = "PORT")]
    pub tftp_ports: Vec<u16>,
    /// Most out-of-order TCP bytes buffered per direction (e.g. `4M`); past it the bytes
    /// become a reported gap.
    #[arg(long, value_name = "BYTES", default_value = "4M", value_parser = parse_size)]
    pub max_buffer_per_direction: u64,
    /// Most out-of-order TCP bytes buffered for all connections together (e.g. `256M`).
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = parse_size)]
    pub max_buffer_total: u64,
}

/// Parses `4096`, `64K`, `4M`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 4096, 64K, 4M or 1G"))?;
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit `{unit}` in `{s}` (use K, M or G)"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{s}` is too large"))
}

impl InputArgs {
    /// An engine with the TCP reassembly memory limits of these options and no consumer yet.
    pub fn engine<'c>(&self) -> pcaplab::engine::Engine<'c> {
        let mut limits = pcaplab::flow::tcp::TableLimits::default();
        limits.reassembly.direction_cap = self.max_buffer_per_direction;
        limits.global_budget = self.max_buffer_total;
        pcaplab::engine::Engine::new(limits)
    }

    /// TFTP tracker settings: the server ports of these options (69 always).
    pub fn tftp_config(&self) -> pcaplab::app::tftp::Config {
        let mut config = pcaplab::app::tftp::Config::default();
        config.server_ports.extend(self.tftp_ports.iter().copied());
        config
    }
}

/// `pcaplab packets`.
#[derive(Debug, Args)]
pub struct PacketsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Stop after this many packets.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<u64>,
    /// Leave out the header row (table and CSV).
    #[arg(long)]
    pub no_header: bool,
}

/// `pcaplab show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Packet numbers to show (repeatable; default: all).
    #[arg(long = "packet", short = 'p', value_name = "N")]
    pub packets: Vec<u64>,
    /// Add a hex dump of each packet.
    #[arg(long)]
    pub hex: bool,
    /// Output format: `table` prints the tree, `json`/`ndjson` the layers as objects.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}
