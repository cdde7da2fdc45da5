//! The flags shared by several subcommands (clap derive): input and memory limits, the output
//! vocabulary ([`OutputArgs`]: `--no-header`, `--limit`, `--stream`, `--filter/-Y`,
//! `--time-format/-t`, `--wide`, `--width`, each meaning the same on every command), output
//! format, framing spec.
//!
//! Every printing command flattens [`OutputArgs`]; a flag that cannot apply to a command is
//! hidden from its help and refused with the reason ([`NOT_APPLICABLE`], checked in
//! [`super::check_applicable`]).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pcaplab::framing::FramingSpec;
use pcaplab::report::time::TimeFormat;

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

/// tshark's `-t` time formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeFormatArg {
    /// Seconds since the first packet (the default).
    #[value(name = "r")]
    Relative,
    /// Local time of day.
    #[value(name = "a")]
    Absolute,
    /// Local date and time.
    #[value(name = "ad")]
    AbsoluteDate,
    /// UTC time of day.
    #[value(name = "u")]
    Utc,
    /// UTC date and time.
    #[value(name = "ud")]
    UtcDate,
    /// Seconds since 1970-01-01 00:00:00 UTC.
    #[value(name = "e")]
    Epoch,
    /// Seconds since the previous packet of the capture.
    #[value(name = "d")]
    Delta,
    /// Seconds since the previous packet shown.
    #[value(name = "dd")]
    DeltaDisplayed,
}

impl From<TimeFormatArg> for TimeFormat {
    fn from(t: TimeFormatArg) -> Self {
        match t {
            TimeFormatArg::Relative => TimeFormat::Relative,
            TimeFormatArg::Absolute => TimeFormat::Absolute,
            TimeFormatArg::AbsoluteDate => TimeFormat::AbsoluteDate,
            TimeFormatArg::Utc => TimeFormat::Utc,
            TimeFormatArg::UtcDate => TimeFormat::UtcDate,
            TimeFormatArg::Epoch => TimeFormat::Epoch,
            TimeFormatArg::Delta => TimeFormat::Delta,
            TimeFormatArg::DeltaDisplayed => TimeFormat::DeltaDisplayed,
        }
    }
}

/// The output flags, the same on every command that prints (those that cannot apply to a
/// command are hidden there and refused with the reason).
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Leave out the header row of tables and CSV.
    #[arg(long)]
    pub no_header: bool,
    /// Stop after this many rows (packets, streams, transfers, transactions).
    #[arg(long, short = 'n', value_name = "N", value_parser = parse_count)]
    pub limit: Option<u64>,
    /// Only this TCP stream (Wireshark's `tcp.stream`, numbered from 0).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub stream: Option<u64>,
    /// A display filter in Wireshark's syntax (`tcp.port == 80 && ip.addr == 10.0.0.1`): on
    /// `packets` and `show` the packets shown; on the summary commands the packets the analyses
    /// see, by the fields of each packet alone.
    #[arg(long = "filter", short = 'Y', value_name = "EXPR")]
    pub filter: Option<String>,
    /// How tables show packet times, as tshark's `-t`.
    #[arg(long, short = 't', value_enum, value_name = "FORMAT")]
    pub time_format: Option<TimeFormatArg>,
    /// Keep every table column whole, whatever the terminal's width.
    #[arg(long)]
    pub wide: bool,
    /// Lay tables out for a terminal this many columns wide (0: not a terminal, nothing is
    /// left out or cut); default: the terminal's own width.
    #[arg(long, value_name = "COLUMNS", value_parser = parse_columns)]
    pub width: Option<u16>,
}

impl OutputArgs {
    /// The time format asked for, or tshark's default (`r`).
    pub fn time_format(&self) -> TimeFormat {
        self.time_format.map(Into::into).unwrap_or_default()
    }

    /// The display filter, compiled.
    ///
    /// # Errors
    /// A filter that does not compile: the message names the column of the bad token.
    pub fn compiled_filter(&self) -> anyhow::Result<Option<pcaplab::view::filter::Filter>> {
        self.filter
            .as_deref()
            .map(|text| {
                pcaplab::view::filter::Filter::compile(text).map_err(|e| {
                    anyhow::anyhow!(
                        "{e}\n  -Y {}\n     {}^",
                        pcaplab::view::text::Escaped(text),
                        " ".repeat(e.column().saturating_sub(1))
                    )
                })
            })
            .transpose()
    }
}

/// The error for `--stream N` naming a TCP stream the capture does not have (`streams`: how
/// many it has): the same sentence and exit status (2) on every command. A display filter that
/// matches nothing is not an error; a stream named by number that does not exist is.
pub fn no_stream(shown: &str, n: u64, streams: u64) -> anyhow::Error {
    let has = match streams {
        0 => "the capture has no TCP stream".to_string(),
        1 => "the capture has 1 TCP stream, number 0".to_string(),
        k => format!("the capture has {k} TCP streams, 0–{}", k - 1),
    };
    anyhow::anyhow!("{shown}: no TCP stream {n} ({has})")
}

impl OutputArgs {
    /// Refuses `--stream N` when the capture, read to its end, has fewer than N + 1 TCP
    /// streams.
    ///
    /// # Errors
    /// [`no_stream`].
    pub fn check_stream(&self, shown: &str, streams: u64) -> anyhow::Result<()> {
        match self.stream {
            Some(n) if n >= streams => Err(no_stream(shown, n, streams)),
            _ => Ok(()),
        }
    }
}

/// Why a summary command refuses a pre-filter that needs the analyses' own fields.
const PREFILTER_FIELDS: &str = "-Y on a summary command chooses the packets its analyses see, by each packet's own fields (addresses, ports, flags, lengths: `ip.addr == 10.0.0.1 && tcp.port == 8080`); this filter names a field that only the analyses know (tcp.stream, relative tcp.seq/tcp.ack, tcp.analysis.*, tftp.*, http.*)";

impl OutputArgs {
    /// The `-Y` pre-filter of a summary command (`command`): a display filter on each packet's
    /// own fields, so it can run before the analyses.
    ///
    /// # Errors
    /// A filter that does not compile, or that names a field only the analyses know.
    pub fn packet_filter(
        &self,
        command: &str,
    ) -> anyhow::Result<Option<pcaplab::view::filter::Filter>> {
        let filter = self.compiled_filter()?;
        if filter
            .as_ref()
            .is_some_and(pcaplab::view::filter::Filter::needs_annotations)
        {
            let hint = if command == "streams" || command == "http" || command == "sticky" {
                "; use --stream N to choose a TCP stream"
            } else {
                ""
            };
            anyhow::bail!("{command}: {PREFILTER_FIELDS}{hint}");
        }
        Ok(filter)
    }
}

/// Flags that cannot apply to a command, with the reason said when one is given anyway.
pub const NOT_APPLICABLE: &[(&str, &str, &str)] = &[
    ("show", "wide", "show prints a tree, not a table"),
    ("show", "width", "show prints a tree, not a table"),
    (
        "streams",
        "time_format",
        "the streams table shows durations, not packet times",
    ),
    (
        "sticky",
        "time_format",
        "sticky shows sequence numbers, not packet times",
    ),
    (
        "sticky",
        "limit",
        "sticky lists every segment of the streams it shows: pick one with --stream",
    ),
    (
        "tftp",
        "stream",
        "TFTP runs over UDP and --stream picks a TCP stream: use -Y to choose packets",
    ),
    (
        "tftp",
        "time_format",
        "the tftp table shows durations, not packet times",
    ),
    (
        "stats",
        "limit",
        "stats counts the whole capture: use -Y to choose the packets it counts",
    ),
    (
        "stats",
        "stream",
        "stats covers every conversation: use `pcaplab streams --stream N` for one TCP stream",
    ),
    (
        "stats",
        "time_format",
        "stats shows durations and rates, not packet times",
    ),
    (
        "follow",
        "format",
        "follow prints the stream's bytes: choose how with --as ascii|hex|raw",
    ),
    ("follow", "no_header", "follow prints no table"),
    ("follow", "limit", "follow prints the whole stream"),
    (
        "follow",
        "filter",
        "follow shows one stream whole: choose it with --stream",
    ),
    (
        "follow",
        "time_format",
        "follow shows frame numbers and sequence numbers, not packet times",
    ),
    ("follow", "wide", "follow prints no table"),
    ("follow", "width", "follow prints no table"),
    (
        "ladder",
        "no_header",
        "the ladder draws arrows, not a table",
    ),
    (
        "ladder",
        "time_format",
        "--time-format chooses how packet tables (packets, show) show times",
    ),
    (
        "ladder",
        "wide",
        "the ladder fits the width it is given: set it with --width",
    ),
    (
        "report",
        "no_header",
        "the report is an HTML page, not a table",
    ),
    (
        "report",
        "stream",
        "the report covers every TCP stream: use `pcaplab ladder --stream N` or `pcaplab follow --stream N` for one",
    ),
    (
        "report",
        "time_format",
        "--time-format chooses how packet tables (packets, show) show times",
    ),
    (
        "report",
        "wide",
        "the report is an HTML page, not a terminal table",
    ),
    (
        "report",
        "width",
        "the report is an HTML page, not a terminal table",
    ),
    (
        "grade",
        "no_header",
        "the grade table always names its columns; use --format json for data",
    ),
    ("grade", "limit", "grade checks every capture it is given"),
    (
        "grade",
        "stream",
        "a rubric's checks choose their own streams",
    ),
    (
        "grade",
        "filter",
        "a rubric's checks choose their own packets",
    ),
    (
        "grade",
        "time_format",
        "grade shows scores, not packet times",
    ),
];

/// What a shared flag means on a command where it is not about rows (its help there).
pub const MEANING: &[(&str, &str, &str)] = &[
    ("ladder", "limit", "Most arrows drawn"),
    (
        "report",
        "limit",
        "Most arrows per ladder (default 200), as on `ladder`",
    ),
];

/// Options shared by every command that reads a capture.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: PathBuf,
    /// Also treat UDP requests to this port as TFTP (repeatable; 69 always is).
    #[arg(long = "tftp-port", value_name = "PORT", value_parser = parse_port)]
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
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = parse_seconds)]
    pub tcp_idle_timeout: u64,
    /// Most TCP connections tracked at once; past it the longest idle one is given up as
    /// `evicted`.
    #[arg(long, value_name = "N", default_value_t = pcaplab::flow::tcp::DEFAULT_MAX_FLOWS,
          value_parser = parse_max)]
    pub max_flows: usize,
    /// A UDP conversation with no datagram for this many seconds of capture time ends as
    /// `timed_out` (Zeek's UDP inactivity timeout); the ICMP linker forgets a flow as fast.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = parse_seconds)]
    pub udp_idle_timeout: u64,
    /// Most UDP conversations tracked at once (also the recent flows remembered to link ICMP
    /// errors); past it the longest idle one ends as `evicted`.
    #[arg(long, value_name = "N", default_value_t = pcaplab::analysis::udp::DEFAULT_MAX_CONVERSATIONS,
          value_parser = parse_max)]
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

/// A whole number (digits only), or a sentence saying what is expected (`example`: what to
/// show) and, past `max`, how large it may be.
fn whole(s: &str, what: &str, example: &str, max: u64) -> Result<u64, String> {
    let digits = s.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected {example}"));
    }
    match digits.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("too large: {what} is at most {max}")),
    }
}

/// A count such as `--limit` or `--stream`: a whole number from 0.
pub fn parse_count(s: &str) -> Result<u64, String> {
    whole(s, "a whole number", "a whole number, e.g. 10", u64::MAX)
}

/// A number of seconds for an idle timeout: a whole number from 1 (a connection cannot be
/// idle for 0 seconds).
pub fn parse_seconds(s: &str) -> Result<u64, String> {
    match whole(
        s,
        "a whole number of seconds",
        "a whole number of seconds, e.g. 300",
        u64::MAX,
    )? {
        0 => Err("0 seconds would end every connection at once: give at least 1, e.g. 300".into()),
        n => Ok(n),
    }
}

/// The most of something tracked at once (`--max-flows`, `--max-transfers`,
/// `--max-udp-conversations`): a whole number from 1.
pub fn parse_max(s: &str) -> Result<usize, String> {
    let max = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
    match whole(s, "a whole number", "a whole number, e.g. 4096", max)? {
        0 => Err("0 would track nothing: give at least 1, e.g. 4096".into()),
        n => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
    }
}

/// A count that fits in memory sizes (`--ladders`, `--tftp N`): a whole number from 0.
pub fn parse_usize(s: &str) -> Result<usize, String> {
    let max = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
    whole(s, "a whole number", "a whole number, e.g. 10", max)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// A UDP or TCP port: 0 to 65535.
pub fn parse_port(s: &str) -> Result<u16, String> {
    whole(
        s,
        "a port number",
        "a port number, e.g. 6969",
        u64::from(u16::MAX),
    )
    .map(|n| u16::try_from(n).unwrap_or(u16::MAX))
}

/// A terminal width in columns: 0 to 65535.
pub fn parse_columns(s: &str) -> Result<u16, String> {
    whole(
        s,
        "a number of columns",
        "a number of columns, e.g. 120 (0: no terminal)",
        u64::from(u16::MAX),
    )
    .map(|n| u16::try_from(n).unwrap_or(u16::MAX))
}

/// An address and port (`127.0.0.1:9305`, `[::1]:9305`); names are not looked up.
pub fn parse_endpoint(s: &str) -> Result<std::net::SocketAddr, String> {
    s.parse().map_err(|_: std::net::AddrParseError| {
        "expected an address:port such as 127.0.0.1:9305 or [::1]:9305 (a name such as localhost is not looked up)".to_string()
    })
}

/// Parses a `--framing` value with the library's precise error messages.
pub fn parse_framing(s: &str) -> Result<FramingSpec, String> {
    s.parse::<FramingSpec>().map_err(|e| e.to_string())
}
