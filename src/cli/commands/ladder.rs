//! `pcaplab ladder FILE`: the ladder (sequence) diagram of one TCP stream, one UDP endpoint's
//! datagrams, one TFTP transfer, or the packets of a display filter, on the terminal, as SVG or
//! as JSON.

use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;

use anyhow::{Context as _, Result, bail};
use clap::{ArgGroup, Args, ValueEnum};
use pcaplab::analysis::ladder::{self, Collector, Extras, Ladder, Limits, Selection, StreamFacts};
use pcaplab::app::{http, tftp};
use pcaplab::framing::FramingSpec;
use pcaplab::report::{self, Terminal};
use pcaplab::view::filter::Filter;

use crate::cli::Outcome;
use crate::cli::args::{InputArgs, OutputArgs, parse_framing};
use crate::cli::input;

/// Output formats of `ladder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LadderFormat {
    /// The diagram drawn with characters, to fit the terminal.
    Text,
    /// A standalone SVG picture (no fonts, scripts or links from outside).
    Svg,
    /// The diagram's model: columns, arrows with their notes, brackets.
    Json,
}

/// `pcaplab ladder`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["stream", "udp", "tftp", "filter"])))]
pub struct LadderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// `--stream N` (one TCP connection, as in `pcaplab streams`), `-Y FILTER` (every packet
    /// the display filter passes), `--limit N` (at most N arrows), `--width COLUMNS` (of the
    /// text diagram; default: the terminal's, else `COLUMNS`, else 100).
    #[command(flatten)]
    pub output: OutputArgs,
    /// Every UDP datagram to or from this address and port (and ICMP errors about them).
    #[arg(long, value_name = "ADDR:PORT", value_parser = crate::cli::args::parse_endpoint)]
    pub udp: Option<SocketAddr>,
    /// One TFTP transfer (the `#` of `pcaplab tftp`): the request port and the transfer port.
    #[arg(long, value_name = "N", value_parser = crate::cli::args::parse_usize)]
    pub tftp: Option<usize>,
    /// How TCP messages are delimited, for the message parts of each segment: `auto`, `http`,
    /// `len:N[:be|le][:inclusive]`, `line`, `delim:HEX`, `fixed:N`, `none`.
    #[arg(long, default_value = "auto", value_parser = parse_framing)]
    pub framing: FramingSpec,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = LadderFormat::Text)]
    pub format: LadderFormat,
    /// Plain ASCII instead of box-drawing characters (the default when the locale is not
    /// UTF-8).
    #[arg(long)]
    pub ascii: bool,
}

/// True when the locale says UTF-8 (`LC_ALL`, else `LC_CTYPE`, else `LANG`, as setlocale reads
/// them).
pub fn locale_is_utf8() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// Width of the text diagram: the flag, else the terminal's, else `COLUMNS`, else 100.
pub fn text_width(flag: Option<usize>, term: Terminal) -> usize {
    flag.or(term.width.map(usize::from))
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .unwrap_or(100)
        .max(20)
}

/// What one run gave the ladder command.
pub struct Gathered {
    /// The ladders the selection draws.
    pub ladders: Vec<Ladder>,
    /// TCP streams in the capture.
    pub tcp_streams: u64,
    /// TFTP transfers in the capture.
    pub transfers: Vec<tftp::Transfer>,
    /// The read error that cut the capture short, if any.
    pub error: Option<pcaplab::Error>,
}

/// Runs the capture through the engine with what the ladder needs and returns the ladders
/// `selection` draws, with the capture's TCP stream count and TFTP transfers.
pub fn gather(
    args: &InputArgs,
    selection: Selection,
    limits: Limits,
    framing: FramingSpec,
) -> Result<Gathered> {
    let mut http = http::Tracker::new(http::Options {
        transactions: false,
        labels: http::Labels::StartLines,
        bodies: None,
    });
    let mut tftp = tftp::Tracker::new(args.tftp_config());
    let mut facts = StreamFacts::new(&selection, limits, framing);
    let mut collector = Collector::new(selection, limits);
    let mut engine = args.engine();
    engine
        .stream_consumer(&mut http)
        .stream_consumer(&mut facts)
        .datagram_consumer(&mut tftp)
        .packet_observer(&mut collector);
    let (summary, error) = input::analyze(&args.file, engine)?;
    let transfers = tftp.finish();
    let ladders = ladder::finish(
        collector,
        &facts,
        &Extras {
            transfers: &transfers,
        },
    );
    Ok(Gathered {
        ladders,
        tcp_streams: summary.tcp_streams,
        transfers,
        error,
    })
}

/// Runs the command.
///
/// # Errors
/// A bad filter, an unreadable capture, a stream, transfer or endpoint the capture does not
/// have, or a write error.
pub fn run(args: LadderArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let selection = if let Some(n) = args.output.stream {
        Selection::Stream(n)
    } else if let Some(x) = args.udp {
        Selection::Udp(x)
    } else if let Some(t) = args.tftp {
        Selection::Tftp(t)
    } else if let Some(f) = &args.output.filter {
        Selection::Filter(Box::new(Filter::compile(f)?))
    } else {
        bail!("say what to draw: --stream N, --udp ADDR:PORT, --tftp N or -Y FILTER");
    };
    let limits = Limits {
        arrows: args
            .output
            .limit
            .map_or(ladder::MAX_ARROWS, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            })
            .min(ladder::MAX_ARROWS),
        ..Limits::default()
    };
    let Gathered {
        ladders,
        tcp_streams: streams,
        transfers,
        error,
    } = gather(&args.input, selection.clone(), limits, args.framing.clone())?;
    if ladders.is_empty() && error.is_none() {
        match selection {
            Selection::Stream(n) => return Err(crate::cli::args::no_stream(&shown, n, streams)),
            Selection::Tftp(t) => bail!(
                "{shown}: no TFTP transfer {t} (the capture has {}; see `pcaplab tftp`)",
                pcaplab::units::plural(transfers.len() as u64, "transfer", "transfers")
            ),
            Selection::Udp(x) => bail!("{shown}: no UDP datagram to or from {x}"),
            Selection::Filter(_) | Selection::Every => {}
        }
    }
    let ladders = if ladders.is_empty() {
        // A filter that passed nothing, or a capture cut short before the selection's first
        // packet: an empty diagram says so.
        let (subject, title) = match &selection {
            Selection::Stream(n) => (ladder::Subject::TcpStream(*n), format!("TCP stream {n}")),
            Selection::Tftp(t) => (
                ladder::Subject::TftpTransfer(*t),
                format!("TFTP transfer {t}"),
            ),
            Selection::Udp(x) => (
                ladder::Subject::Udp,
                format!("UDP datagrams to and from {x}"),
            ),
            Selection::Filter(f) => (ladder::Subject::Filter, format!("packets matching `{f}`")),
            Selection::Every => (ladder::Subject::Filter, String::new()),
        };
        vec![Ladder {
            subject,
            title,
            columns: Vec::new(),
            arrows: Vec::new(),
            groups: Vec::new(),
            notes: Vec::new(),
            omitted_arrows: 0,
        }]
    } else {
        ladders
    };
    let mut out = BufWriter::new(io::stdout().lock());
    for l in &ladders {
        match args.format {
            LadderFormat::Text => {
                let style = report::ladder_text::Style {
                    width: text_width(args.output.width.filter(|w| *w > 0).map(usize::from), term),
                    unicode: !args.ascii && locale_is_utf8(),
                };
                report::ladder_text::write(&mut out, l, style)?;
            }
            LadderFormat::Svg => report::ladder_svg::write(&mut out, l)?,
            LadderFormat::Json => {
                serde_json::to_writer_pretty(&mut out, l)?;
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}
