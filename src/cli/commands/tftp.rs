//! `pcaplab tftp FILE`: one row per TFTP transfer, optionally rebuilding the files.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::order::InOrder;
use pcaplab::app::tftp::{Tracker, Transfer};
use pcaplab::app::{At, Datagram, DatagramConsumer, Note};
use pcaplab::decode::icmp::ErrorMessage;
use pcaplab::extract::{self, Dir};
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs};
use crate::cli::input;
use crate::cli::note;
use pcaplab::units::{noun, plural};

/// `pcaplab tftp`.
#[derive(Debug, Args)]
pub struct TftpArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Rebuild every transferred file inside DIR (created if missing, not its parents). Names from the capture
    /// are made safe, nothing outside DIR is touched, no file is overwritten (a taken name gets
    /// the next free `-N`), and a file stays `NAME.part` until its data is complete.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
    /// A transfer with no packet for this long (capture time) is ended as `idle_timeout`.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = crate::cli::args::parse_seconds)]
    pub tftp_idle_timeout: u64,
    /// Most transfers followed at once; past it the least recently active one is ended as
    /// `evicted`.
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = crate::cli::args::parse_max)]
    pub max_transfers: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Most transfers held back to print them in index order (a transfer that outlives many later
/// ones delays them); past it they are printed in the order they ended.
const ORDER_WINDOW: usize = 65_536;

/// The tracker, handing each finished transfer to `out` (in index order) between datagrams.
struct Streaming<'f> {
    tracker: Tracker,
    order: InOrder<Transfer>,
    out: &'f mut dyn FnMut(Transfer),
}

impl Streaming<'_> {
    fn drain(&mut self) {
        let Streaming {
            tracker,
            order,
            out,
        } = self;
        for t in tracker.drain_finished() {
            order.push(t.index as u64, Some(t), &mut **out);
        }
    }
}

impl DatagramConsumer for Streaming<'_> {
    fn on_datagram<'a>(&'a mut self, d: &Datagram<'a>) -> Option<Note<'a>> {
        // Results that ended while the previous datagram was handled.
        self.drain();
        DatagramConsumer::on_datagram(&mut self.tracker, d)
    }

    fn on_icmp_error(&mut self, at: At, error: &ErrorMessage<'_>) {
        self.tracker.on_icmp_error(at.frame, at.ts, error);
    }
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after reporting every transfer seen before the problem), an extraction
/// directory that cannot be created or opened, or a write error.
pub fn run(args: TftpArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.packet_filter("tftp")?;
    let keep = |p: &pcaplab::decode::Packet<'_>, first: Duration| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches(&pcaplab::view::filter::PacketFields::new(p, first)))
    };
    let limit = args.output.limit.unwrap_or(u64::MAX);
    // Only UDP datagrams (and ICMP errors): no TCP is tracked.
    let mut config = args.input.tftp_config();
    config.idle_timeout = Duration::from_secs(args.tftp_idle_timeout);
    config.max_active = args.max_transfers.max(1);
    let mut tracker = Tracker::new(config);
    if let Some(dir) = &args.extract {
        input::extraction_dir(dir, "--extract")?;
        tracker.extract_to(Dir::open(dir, extract::Options::default())?);
    }
    let mut out = BufWriter::new(io::stdout().lock());
    let mut writer =
        report::tftp::Writer::new(&mut out, args.format.into(), term, !args.output.no_header)?;
    let mut write_error = None;
    let mut written = 0u64;
    let mut push = |t: Transfer| {
        if written >= limit {
            return;
        }
        written += 1;
        if write_error.is_none()
            && let Err(e) = writer.push(t)
        {
            write_error = Some(e);
        }
    };
    let mut streaming = Streaming {
        tracker,
        order: InOrder::new(ORDER_WINDOW),
        out: &mut push,
    };
    let mut engine = args.input.engine();
    engine.datagram_consumer(&mut streaming);
    if filter.is_some() {
        engine.select(&keep);
    }
    let (_, error) = input::analyze(&args.input.file, engine)?;
    streaming.tracker.close_all();
    streaming.drain();
    let Streaming {
        tracker, mut order, ..
    } = streaming;
    order.flush(&mut push);
    if let Some(e) = write_error {
        return Err(e.into());
    }
    writer.finish()?;
    out.flush()?;
    notes(&tracker);
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}

/// Says on stderr when transfers were given up to bound memory, and which ports carried
/// request-looking datagrams that were not followed.
fn notes(tracker: &Tracker) {
    let c = tracker.counters();
    let config_hint = "raise --tftp-idle-timeout";
    if c.idle_timeouts > 0 {
        note(&format!(
            "{} had no packet for the idle timeout (capture time) and {} ended: \
             {} `idle_timeout` ({config_hint})",
            plural(c.idle_timeouts, "TFTP transfer", "TFTP transfers"),
            noun(c.idle_timeouts, "was", "were"),
            noun(c.idle_timeouts, "its row says", "their rows say")
        ));
    }
    if c.evicted > 0 {
        note(&format!(
            "{} ended as `evicted` because {} were followed at once (raise \
             --max-transfers)",
            plural(c.evicted, "TFTP transfer was", "TFTP transfers were"),
            c.peak_active
        ));
    }
    if c.buffer_limit > 0 {
        note(&format!(
            "{} too much out-of-order data and could not be rebuilt \
             ({} which limit)",
            plural(
                c.buffer_limit,
                "TFTP transfer buffered",
                "TFTP transfers buffered"
            ),
            noun(c.buffer_limit, "its warnings say", "their warnings say")
        ));
    }
    for h in tracker.port_hints() {
        let what = match h.direction {
            pcaplab::app::tftp::TransferDirection::Read => "read",
            pcaplab::app::tftp::TransferDirection::Write => "write",
        };
        let count = match h.count {
            1 => String::new(),
            n => format!(" ({n} such datagrams)"),
        };
        note(&format!(
            "frame {}: a datagram to UDP port {} looks like a TFTP {what} request for \
             {}{count}; only requests to port 69 (and ports given with --tftp-port) are \
             followed: add --tftp-port {} to follow them",
            h.first_frame, h.port, h.file, h.port
        ));
    }
}
