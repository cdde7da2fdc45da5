//! `pcaplab stats FILE`: protocol hierarchy by OSI layer, endpoints, ports, conversations.

use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::stats::Collector;
use pcaplab::analysis::streams;
use pcaplab::app::{http, tftp};
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs};
use crate::cli::input;

/// `pcaplab stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Most IP addresses the endpoint list counts (the first ones seen); packets of later
    /// addresses are counted everywhere else and said in a note.
    #[arg(long, value_name = "N", default_value_t = pcaplab::analysis::stats::DEFAULT_MAX_ENDPOINTS,
          value_parser = clap::value_parser!(usize))]
    pub max_endpoints: usize,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after reporting what was counted before the problem) or a write error.
pub fn run(args: StatsArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.packet_filter("stats")?;
    let keep = |p: &pcaplab::decode::Packet<'_>, first: std::time::Duration| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches(&pcaplab::view::filter::PacketFields::new(p, first)))
    };
    let mut input = input::open(&args.input.file)?;
    // The hierarchy names HTTP and TFTP packets: HTTP is framed only to label its packets (no
    // text, no transactions), nothing else is framed; the conversations come from the TCP
    // stream table.
    let mut http = http::Tracker::new(http::Options {
        transactions: false,
        labels: http::Labels::Frames,
        bodies: None,
    });
    let mut tftp = tftp::Tracker::notes_only(args.input.tftp_config());
    let mut collector =
        Collector::with_udp_limits(args.input.udp_limits()).with_max_endpoints(args.max_endpoints);
    // One row per TCP connection, in memory up to a bound and then in a temporary file.
    let mut conversations = pcaplab::analysis::spill::Spill::default();
    let mut push = |r| conversations.push(r);
    let mut rows = streams::Rows::new(None, &mut push);
    let mut engine = args.input.engine();
    engine
        .stream_consumer(&mut http)
        .stream_consumer(&mut rows)
        .datagram_consumer(&mut tftp)
        .packet_observer(&mut collector);
    if filter.is_some() {
        engine.select(&keep);
    }
    let bar = input.progress.clone();
    let mut n: u64 = 0;
    let result = engine.run(&mut input.reader, |pos, _, _| {
        n += 1;
        if let Some(b) = &bar
            && n.is_multiple_of(8192)
        {
            b.set_position(pos.input_offset);
        }
        true
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = engine.finish();
    input::report_notes(&summary);
    drop(rows);
    conversations
        .flush()
        .context("writing the TCP conversations to a temporary file")?;
    let stats = collector
        .finish(conversations)
        .context("writing the UDP conversations to a temporary file")?;
    input::report_udp_notes(&stats.udp);
    if stats.endpoints_not_tracked > 0 {
        input::note(&format!(
            "the endpoint list counts the first {} IP addresses seen; {} packets from or to later addresses are not counted in it (they are in every other count; raise --max-endpoints)",
            args.max_endpoints.max(1),
            stats.endpoints_not_tracked
        ));
    }
    let mut out = BufWriter::new(io::stdout().lock());
    report::stats::write(
        &mut out,
        args.format.into(),
        term,
        &stats,
        !args.output.no_header,
    )?;
    out.flush()?;
    result.with_context(|| shown.clone())?;
    Ok(Outcome::Ok)
}
