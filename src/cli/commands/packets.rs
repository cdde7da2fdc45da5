//! `pcaplab packets FILE`: one row per packet, streamed; `-Y` chooses the packets, `-w` writes
//! them to a capture file instead of printing them.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use pcaplab::analysis::icmp;
use pcaplab::app::{http, tftp};
use pcaplab::capture::{FileFormat, Writer};
use pcaplab::report::Terminal;
use pcaplab::report::packets::{Hints, PacketWriter};
use pcaplab::view::filter::{NoteFields, PacketFields};
use pcaplab::view::{self, text::Escaped};

use crate::cli::Outcome;
use crate::cli::args::{FormatArg, InputArgs, OutputArgs};
use crate::cli::input;

/// Capture file formats for `-w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptureFormatArg {
    /// Classic pcap (one link type for the whole file).
    Pcap,
    /// pcapng (every interface kept).
    Pcapng,
}

/// `pcaplab packets`.
#[derive(Debug, Args)]
pub struct PacketsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Write the chosen packets to this capture file (`-` for standard output) with their
    /// original bytes, lengths, timestamps and link types, like `tshark -w`, instead of
    /// printing rows.
    #[arg(long, short = 'w', value_name = "OUT.pcap|OUT.pcapng")]
    pub write: Option<PathBuf>,
    /// The format `-w` writes (default: from the file name, `.pcap` or `.cap` for pcap, else
    /// pcapng, as tshark).
    #[arg(long = "write-format", short = 'F', value_enum, requires = "write")]
    pub write_format: Option<CaptureFormatArg>,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input (after printing every packet before the problem), a bad filter, or a write
/// error.
pub fn run(args: PacketsArgs, term: Terminal) -> Result<Outcome> {
    let shown = args.input.file.display().to_string();
    let filter = args.output.compiled_filter()?;
    if args.output.time_format.is_some() && args.format != FormatArg::Table {
        anyhow::bail!(
            "packets: --time-format/-t chooses how the table shows times; CSV and JSON always carry `time` (seconds since the epoch) and `rel_time`"
        );
    }
    if args.write.is_some()
        && (args.output.time_format.is_some() || args.format != FormatArg::Table)
    {
        anyhow::bail!(
            "packets: -w writes the packets to a capture file and prints no rows: --format and --time-format do not apply"
        );
    }
    let mut input = input::open(&args.input.file)?;
    // Every column needs the TCP numbers and the application notes, with start lines for the
    // info column; no HTTP transaction is built.
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
    let live = input.live;
    let mut capture = match &args.write {
        Some(path) => Some(capture_writer(
            path,
            &args.input.file,
            args.write_format,
            input.reader.interfaces(),
        )?),
        None => None,
    };
    let out: Box<dyn Write> = if input.live {
        Box::new(io::stdout().lock())
    } else {
        Box::new(BufWriter::with_capacity(64 * 1024, io::stdout().lock()))
    };
    let hints = Hints {
        max_number: input.size.map(|size| size / 16 + 1),
        time_format: args.output.time_format(),
    };
    let mut writer = match capture {
        Some(_) => None,
        None => Some(PacketWriter::new(
            out,
            args.format.into(),
            term,
            !args.output.no_header,
            hints,
        )?),
    };
    let with_layers = matches!(args.format, FormatArg::Json | FormatArg::Ndjson);
    let limit = args.output.limit.unwrap_or(u64::MAX);
    let stream = args.output.stream;
    let mut written: u64 = 0;
    let mut write_error: Option<anyhow::Error> = None;
    let progress = input.progress.clone();
    // Table and CSV rows are built in reused buffers; JSON needs every layer's fields.
    let mut columns = view::Columns::default();
    // Links each ICMP error to the datagram it answers, for its Info and fields (it sees every
    // packet, shown or not).
    let mut linker = icmp::Linker::new(args.input.icmp_limits());
    let result = engine.run(&mut input.reader, |pos, packet, notes| {
        if written >= limit {
            return false;
        }
        let notes = &*linker.annotate(packet, notes);
        if let Some(bar) = &progress
            && pos.packets.is_multiple_of(4096)
        {
            bar.set_position(pos.input_offset);
        }
        let first = pos.first_timestamp;
        let chosen = stream.is_none_or(|s| notes.tcp.is_some_and(|o| o.stream.0 == s))
            && filter.as_ref().is_none_or(|f| {
                f.matches(&(
                    PacketFields::new(packet, first),
                    NoteFields::new(packet, notes),
                ))
            });
        let pushed = match (&mut writer, &mut capture) {
            (Some(w), _) if !chosen => {
                w.skip(packet);
                return true;
            }
            (_, Some(c)) => match chosen {
                true => c.write(&packet.frame).map_err(anyhow::Error::from),
                false => return true,
            },
            (Some(w), None) if with_layers => w
                .push(view::row(packet, notes, first), live)
                .map_err(anyhow::Error::from),
            (Some(w), None) => {
                columns.fill(packet, notes, first);
                w.push_columns(&columns, packet, first, live)
                    .map_err(anyhow::Error::from)
            }
            (None, None) => Ok(()),
        };
        if let Err(e) = pushed {
            write_error = Some(e);
            return false;
        }
        written += 1;
        true
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let summary = engine.finish();
    input::report_notes(&summary);
    if let Some(e) = write_error {
        return Err(e);
    }
    // Read to the end (the limit did not stop it): a stream that never came does not exist.
    if result.is_ok() && written < limit {
        args.output.check_stream(&shown, summary.tcp_streams)?;
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    if let Some(c) = capture {
        c.finish()?;
    }
    result.with_context(|| shown.clone())?;
    Ok(Outcome::Ok)
}

/// The capture file `-w` writes: `path` (standard output for `-`), in `format` or the one its
/// name says; never the input file itself.
fn capture_writer(
    path: &Path,
    input: &Path,
    format: Option<CaptureFormatArg>,
    interfaces: &[pcaplab::capture::Interface],
) -> Result<Writer<Box<dyn Write>>> {
    let format = match format {
        Some(CaptureFormatArg::Pcap) => FileFormat::Pcap,
        Some(CaptureFormatArg::Pcapng) => FileFormat::PcapNg,
        None => match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pcap") || e.eq_ignore_ascii_case("cap") => {
                FileFormat::Pcap
            }
            _ => FileFormat::PcapNg,
        },
    };
    let out: Box<dyn Write> = if path == Path::new("-") {
        Box::new(BufWriter::new(io::stdout().lock()))
    } else {
        if same_file(path, input) {
            anyhow::bail!(
                "-w {}: that is the capture being read; write the chosen packets to another file",
                Escaped(&path.display().to_string())
            );
        }
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Box::new(BufWriter::with_capacity(256 * 1024, file))
    };
    Ok(Writer::create(out, format, interfaces)?)
}

/// True when both paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
