//! `pcaplab show FILE [-p N]...`: the decoded tree of chosen packets (or, as CSV, one row per
//! field; as JSON, the layers as objects).

use std::collections::BTreeSet;
use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::Args;
use pcaplab::analysis::icmp;
use pcaplab::app::{http, tftp};
use pcaplab::report::time::Clock;
use pcaplab::report::{self, Format, Terminal};
use pcaplab::view;
use pcaplab::view::filter::{NoteFields, PacketFields};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs};
use crate::cli::input;

/// `pcaplab show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Packet numbers to show (repeatable; numbered from 1 as Wireshark's `frame.number`;
    /// default: all, or those `-Y` and `--stream` choose).
    #[arg(long = "packet", short = 'p', value_name = "N", value_parser = parse_packet_number)]
    pub packets: Vec<u64>,
    /// Add a hex dump of each packet.
    #[arg(long)]
    pub hex: bool,
    /// Output format: `table` prints the tree, `csv` one row per field
    /// (`number,osi,layer,field,value`), `json`/`ndjson` the layers as objects.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Packet numbers start at 1, as in Wireshark.
fn parse_packet_number(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err(
            "packets are numbered from 1 (as Wireshark's frame.number), so there is no packet 0"
                .into(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a packet number (1, 2, 3, …)")),
    }
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after printing every chosen packet before the problem), a packet number
/// beyond the end of the capture, a bad filter, or a write error.
pub fn run(args: ShowArgs, _term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.compiled_filter()?;
    let format: Format = args.format.into();
    if args.output.time_format.is_some() && format != Format::Table {
        anyhow::bail!(
            "show: --time-format/-t chooses how the tree shows times; CSV and JSON carry `time` (seconds since the epoch) and `rel_time`"
        );
    }
    if args.hex && format != Format::Table {
        anyhow::bail!("show: --hex adds a hex dump to the tree (--format table)");
    }
    let mut input = input::open(&args.input.file)?;
    let mut http = http::Tracker::new(http::Options {
        transactions: false,
        labels: http::Labels::StartLines,
        bodies: None,
    });
    let mut tftp = tftp::Tracker::notes_only(args.input.tftp_config());
    let mut engine = args.input.engine();
    // No connection rows are printed: no retransmission comparison (no byte history).
    engine.skip_retransmission_check();
    engine
        .track_tcp()
        .stream_consumer(&mut http)
        .datagram_consumer(&mut tftp);
    let wanted: BTreeSet<u64> = args.packets.iter().copied().collect();
    let last_wanted = wanted.last().copied();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut json = match format {
        Format::Json => Some(report::JsonArrayWriter::new(Vec::new())?),
        _ => None,
    };
    let mut fields = report::show::FieldWriter::new(!args.output.no_header);
    let mut clock = Clock::new(args.output.time_format());
    let limit = args.output.limit.unwrap_or(u64::MAX);
    let stream = args.output.stream;
    let mut written = 0u64;
    let mut write_error: Option<io::Error> = None;
    let mut seen_max = 0;
    // Links each ICMP error to the datagram it answers (every packet is seen, shown or not).
    let mut linker = icmp::Linker::new(args.input.icmp_limits());
    let result = engine.run(&mut input.reader, |pos, packet, notes| {
        let n = packet.frame.number.0;
        seen_max = n;
        let notes = &*linker.annotate(packet, notes);
        let go_on = last_wanted.is_none_or(|last| n < last);
        clock.set_first(pos.first_timestamp);
        let chosen = (wanted.is_empty() || wanted.contains(&n))
            && stream.is_none_or(|s| notes.tcp.is_some_and(|o| o.stream.0 == s))
            && filter.as_ref().is_none_or(|f| {
                f.matches(&(
                    PacketFields::new(packet, pos.first_timestamp),
                    NoteFields::new(packet, notes),
                ))
            });
        if !chosen {
            clock.skip(packet.frame.timestamp);
            return go_on;
        }
        let row = view::row(packet, notes, pos.first_timestamp);
        let result = match format {
            Format::Json => json.as_mut().map_or(Ok(()), |j| j.push(&row)),
            Format::Ndjson => report::write_ndjson(&mut out, &row),
            Format::Csv => fields.push(&mut out, &row),
            Format::Table => {
                let digits = packet.frame.ts_resolution.fraction_digits();
                let time = clock.text(packet.frame.timestamp, digits);
                let hex = args.hex.then_some(packet.frame.data);
                out.write_all(report::show::tree(&row, &time, hex).as_bytes())
                    .and_then(|()| writeln!(out))
            }
        };
        if let Err(e) = result {
            write_error = Some(e);
            return false;
        }
        written += 1;
        go_on && written < limit
    });
    let summary = engine.finish();
    input::report_notes(&summary);
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if let Some(j) = json {
        out.write_all(&j.finish()?)?;
    }
    if format == Format::Csv {
        fields.finish(&mut out)?;
    }
    out.flush()?;
    result.with_context(|| shown.clone())?;
    // Read to the end (no packet number or limit stopped it): a stream that never came does
    // not exist.
    if written < limit && last_wanted.is_none_or(|last| seen_max < last) {
        args.output.check_stream(&shown, summary.tcp_streams)?;
    }
    if written < limit
        && let Some(missing) = wanted.iter().find(|n| **n > seen_max)
    {
        anyhow::bail!(
            "{shown}: no packet {missing} (the capture has {})",
            pcaplab::units::plural(seen_max, "packet", "packets")
        );
    }
    Ok(Outcome::Ok)
}
