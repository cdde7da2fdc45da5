//! The flags shared by several subcommands (clap derive): input and memory limits, output
//! format, framing spec.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pcaplab::framing::FramingSpec;

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
    /// A TCP connection with no packet for this many seconds of capture time is given up as
    /// `timed_out` (Zeek's TCP inactivity timeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub tcp_idle_timeout: u64,
    /// Most TCP connections tracked at once; past it the longest idle one is given up as
    /// `evicted`.
    #[arg(long, value_name = "N", default_value_t = pcaplab::flow::tcp::DEFAULT_MAX_FLOWS,
          value_parser = clap::value_parser!(usize))]
    pub max_flows: usize,
    /// A UDP conversation with no datagram for this many seconds of capture time ends as
    /// `timed_out` (Zeek's UDP inactivity timeout); the ICMP linker forgets a flow as fast.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub udp_idle_timeout: u64,
    /// Most UDP conversations tracked at once (also the recent flows remembered to link ICMP
    /// errors); past it the longest idle one ends as `evicted`.
    #[arg(long, value_name = "N", default_value_t = pcaplab::analysis::udp::DEFAULT_MAX_CONVERSATIONS,
          value_parser = clap::value_parser!(usize))]
    pub max_udp_conversations: usize,
}

/// Parses `4096`, `64K`, `4M`, `1G` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
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
        pcaplab::engine::Engine::new(self.table_limits())
    }

    /// The TCP reassembly memory limits of these options.
    pub fn table_limits(&self) -> pcaplab::flow::tcp::TableLimits {
        let mut limits = pcaplab::flow::tcp::TableLimits::default();
        limits.reassembly.direction_cap = self.max_buffer_per_direction;
        limits.global_budget = self.max_buffer_total;
        limits.idle_timeout = std::time::Duration::from_secs(self.tcp_idle_timeout);
        limits.max_flows = self.max_flows.max(1);
        limits
    }

    /// The bounds of the UDP conversation table.
    pub fn udp_limits(&self) -> pcaplab::analysis::udp::Limits {
        pcaplab::analysis::udp::Limits {
            max_conversations: self.max_udp_conversations.max(1),
            idle_timeout: std::time::Duration::from_secs(self.udp_idle_timeout),
            ..Default::default()
        }
    }

    /// The bounds of the ICMP linker (the UDP conversations' timeout and cap).
    pub fn icmp_limits(&self) -> pcaplab::analysis::icmp::Limits {
        pcaplab::analysis::icmp::Limits {
            max_flows: self.max_udp_conversations.max(1),
            idle_timeout: std::time::Duration::from_secs(self.udp_idle_timeout),
            ..Default::default()
        }
    }

    /// TFTP tracker settings: the server ports of these options (69 always).
    pub fn tftp_config(&self) -> pcaplab::app::tftp::Config {
        let mut config = pcaplab::app::tftp::Config::default();
        config.server_ports.extend(self.tftp_ports.iter().copied());
        config
    }
}

/// Parses a `--framing` value with the library's precise error messages.
pub fn parse_framing(s: &str) -> Result<FramingSpec, String> {
    s.parse::<FramingSpec>().map_err(|e| e.to_string())
}
