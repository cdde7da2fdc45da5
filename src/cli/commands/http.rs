//! `pcaplab http FILE`: one row per HTTP/1.x transaction, on any port.

use std::cell::Cell;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::app::http::{self, Bodies, Files};
use pcaplab::app::{Notes, PacketObserver};
use pcaplab::decode::Packet;
use pcaplab::extract::Limits;
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs, parse_size};
use crate::cli::input;
use pcaplab::units::{noun, plural};

/// `pcaplab http`.
#[derive(Debug, Args)]
pub struct HttpArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write every response body (de-chunked) inside DIR (created if missing, not its parents), under safe names
    /// made from the request target; an existing file or symlink is never overwritten nor
    /// followed (a taken name gets `-1`, `-2`, …), and a body that did not arrive whole stays
    /// in a `.part` file.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
    /// With `--extract`, decode gzip and deflate bodies (`Content-Encoding`; deflate either
    /// zlib-wrapped or raw).
    #[arg(long, requires = "extract")]
    pub decode: bool,
    /// With `--decode`: most decoded bytes written per body byte received (a limit against
    /// compression bombs; at least 1 MiB is always allowed).
    #[arg(long, value_name = "N", default_value_t = Limits::default().ratio, requires = "decode",
          value_parser = crate::cli::args::parse_count)]
    pub max_decoded_ratio: u64,
    /// With `--decode`: most decoded bytes written per body, whatever the ratio (e.g. `1G`).
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = parse_size,
          requires = "decode")]
    pub max_decoded_size: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after reporting every transaction seen before the problem), an extraction
/// directory that cannot be created, or a write error.
pub fn run(args: HttpArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    if args.output.time_format.is_some() && args.format != FormatArg::Table {
        anyhow::bail!(
            "http: --time-format/-t chooses how the table shows times; CSV and JSON carry `time` (seconds since the epoch)"
        );
    }
    let filter = args.output.packet_filter("http")?;
    // Times are relative to the capture's first packet (tshark's frame.time_relative), which
    // a pre-filter may leave out: the filter learns it from the engine before choosing.
    let first = Rc::new(Cell::new(None));
    let keep = {
        let first = Rc::clone(&first);
        move |p: &pcaplab::decode::Packet<'_>, capture_first: Duration| {
            if first.get().is_none() {
                first.set(Some(capture_first));
            }
            filter.as_ref().is_none_or(|f| {
                f.matches(&pcaplab::view::filter::PacketFields::new(p, capture_first))
            })
        }
    };
    let (only, limit) = (args.output.stream, args.output.limit.unwrap_or(u64::MAX));
    let bodies = match &args.extract {
        Some(dir) => {
            input::extraction_dir(dir, "--extract")?;
            let limits = Limits {
                ratio: args.max_decoded_ratio,
                cap_bytes: args.max_decoded_size,
                ..Limits::default()
            };
            Some(Bodies::Files(Files::open(dir, args.decode, limits)?))
        }
        None => None,
    };
    // Only TCP and HTTP: transactions, no per-packet labels. Each transaction is written as
    // soon as it is final and no earlier one can still come (in order of its first frame).
    let mut out = BufWriter::new(io::stdout().lock());
    let mut writer =
        report::http::Writer::new(&mut out, args.format.into(), term, !args.output.no_header)?
            .time_format(args.output.time_format());
    let mut write_error = None;
    let mut written = 0u64;
    let mut push = |t: http::Transaction| {
        if only.is_some_and(|s| t.stream != s) || written >= limit {
            return;
        }
        written += 1;
        // A transaction final in the capture's first packet starts there.
        let first = first.get().or(t.time).unwrap_or_default();
        if write_error.is_none()
            && let Err(e) = writer.push(&t, first)
        {
            write_error = Some(e);
        }
    };
    let mut tracker = http::Tracker::streaming(
        http::Options {
            transactions: true,
            labels: http::Labels::Off,
            bodies,
        },
        &mut push,
    );
    let mut first_seen = FirstTimestamp(Rc::clone(&first));
    let mut engine = args.input.engine();
    // No connection rows are printed: no retransmission comparison (no byte history).
    engine.skip_retransmission_check();
    engine.stream_consumer(&mut tracker);
    engine.packet_observer(&mut first_seen);
    if args.output.filter.is_some() {
        engine.select(&keep);
    }
    let (summary, error) = input::analyze(&args.input.file, engine)?;
    let bounds = tracker.bounds();
    drop(tracker);
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if error.is_none() {
        args.output.check_stream(&shown, summary.tcp_streams)?;
    }
    writer.finish()?;
    out.flush()?;
    report_bounds(&bounds);
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}

/// Remembers the capture's first timestamp (the table shows times relative to it).
struct FirstTimestamp(Rc<Cell<Option<Duration>>>);

impl PacketObserver for FirstTimestamp {
    fn on_packet(&mut self, packet: &Packet<'_>, _notes: &Notes<'_>) {
        if self.0.get().is_none() {
            self.0.set(Some(packet.frame.timestamp));
        }
    }
}

/// One note on stderr per memory bound the HTTP analysis hit (each transaction concerned also
/// says it in its warnings).
fn report_bounds(b: &http::Bounds) {
    let mut notes = Vec::new();
    if b.in_flight_per_connection > 0 {
        notes.push(format!(
            "{} reported before {} responses because more than {} were \
             waiting on one connection",
            plural(
                b.in_flight_per_connection,
                "HTTP request was",
                "HTTP requests were"
            ),
            noun(b.in_flight_per_connection, "its", "their"),
            http::MAX_IN_FLIGHT
        ));
    }
    if b.in_flight_total > 0 {
        notes.push(format!(
            "{} reported before {} responses because more than {} were \
             waiting on all connections together",
            plural(b.in_flight_total, "HTTP request was", "HTTP requests were"),
            noun(b.in_flight_total, "its", "their"),
            http::MAX_IN_FLIGHT_TOTAL
        ));
    }
    if b.out_of_order > 0 {
        notes.push(format!(
            "{} printed before an earlier one that was still waiting \
             for its response ({} finished transactions are held to keep the order)",
            plural(
                b.out_of_order,
                "HTTP transaction was",
                "HTTP transactions were"
            ),
            http::ORDER_WINDOW
        ));
    }
    for n in notes {
        crate::cli::note(&n);
    }
}
