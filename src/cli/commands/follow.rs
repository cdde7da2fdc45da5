//! `pcaplab follow FILE --stream N`: the reassembled conversation of one TCP stream, like
//! Wireshark's Follow TCP Stream, with segment (and, with `--framing`, message) boundaries.
//! `--udp ADDR:PORT` / `--udp-conv N` follow a UDP conversation instead ([`super::follow_udp`]).

use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use pcaplab::analysis::follow::Follow;
use pcaplab::analysis::sticky::{self, Sticky};
use pcaplab::flow::Direction;
use pcaplab::framing::FramingSpec;
use pcaplab::report::{self, Terminal};

use crate::cli::Outcome;
use crate::cli::args::parse_framing;
use crate::cli::args::{InputArgs, OutputArgs};
use crate::cli::input;

/// How to show the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FollowAs {
    /// Text: UTF-8 shown as text, control characters and bytes that are not UTF-8 escaped
    /// (`\x1b`, `\r`, `\xff`); a mostly binary segment as a hex dump.
    Ascii,
    /// A hex dump per segment.
    Hex,
    /// Only the bytes of one direction (`--dir`), nothing else: for piping to a file.
    Raw,
}

/// A direction on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirArg {
    /// Client to server.
    C2s,
    /// Server to client.
    S2c,
}

/// `pcaplab follow`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["stream", "udp", "udp_conv"])))]
pub struct FollowArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// `--stream N`: the TCP stream to follow (Wireshark's `tcp.stream`); the other output
    /// flags do not apply.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Not for follow (refused with the reason).
    #[arg(long, short = 'f', hide = true)]
    pub format: Option<String>,
    /// Follow the UDP conversation of this endpoint instead (the first one that involves it),
    /// like Wireshark's Follow UDP Stream: every datagram with its frame, direction and size.
    #[arg(long, value_name = "ADDR:PORT", value_parser = super::follow_udp::parse_endpoint)]
    pub udp: Option<std::net::SocketAddr>,
    /// Follow UDP conversation N (numbered from 0 in order of first datagram, as `stats` shows).
    #[arg(long = "udp-conv", value_name = "N", value_parser = crate::cli::args::parse_count)]
    pub udp_conv: Option<u64>,
    /// How to show the bytes.
    #[arg(long = "as", value_enum, default_value_t = FollowAs::Ascii)]
    pub show_as: FollowAs,
    /// Only this direction (required meaning for `--as raw`, which defaults to c2s).
    #[arg(long, value_enum)]
    pub dir: Option<DirArg>,
    /// Also mark message boundaries found with this framing (`auto`, `http`, `len:4`, `line`...).
    #[arg(long, value_parser = parse_framing)]
    pub framing: Option<FramingSpec>,
}

/// Runs the command.
///
/// # Errors
/// Unreadable input, an unknown stream, or a write error.
pub fn run(args: FollowArgs, term: Terminal) -> Result<Outcome> {
    let Some(stream_id) = args.output.stream else {
        return super::follow_udp::run(args, term);
    };
    let shown = args.input.file.display().to_string();
    let mut follow = Follow::new(stream_id);
    let mut sticky = args.framing.clone().map(|framing| {
        Sticky::new(sticky::Options {
            framing,
            stream: Some(stream_id),
            keep_segments: true,
        })
    });
    let mut engine = args.input.engine();
    // No connection rows are printed: no retransmission comparison (no byte history).
    engine.skip_retransmission_check();
    engine.stream_consumer(&mut follow);
    if let Some(s) = &mut sticky {
        engine.stream_consumer(s);
    }
    let (summary, error) = input::analyze(&args.input.file, engine)?;
    let (followed, row) = follow.into_parts();
    let reports = sticky.map(Sticky::into_reports).unwrap_or_default();
    let Some(stream) = &row else {
        if let Some(e) = error {
            return Err(e).context(shown);
        }
        return Err(crate::cli::args::no_stream(
            &shown,
            stream_id,
            summary.tcp_streams,
        ));
    };
    let only = match (args.dir, args.show_as) {
        (Some(DirArg::C2s), _) | (None, FollowAs::Raw) => Some(Direction::ClientToServer),
        (Some(DirArg::S2c), _) => Some(Direction::ServerToClient),
        (None, _) => None,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    match args.show_as {
        FollowAs::Raw => {
            // The bytes as they are in a pipe or a file; on a terminal, escaped like text.
            let (lost, cut) = report::follow::write_raw(&mut out, &followed, only, term.is_tty)?;
            if lost > 0 {
                crate::cli::warn(&format!(
                    "{} of this direction {} never captured (lost before the capture point) and {} missing from the output",
                    pcaplab::units::plural(lost, "byte", "bytes"),
                    pcaplab::units::noun(lost, "was", "were"),
                    pcaplab::units::noun(lost, "is", "are")
                ));
            }
            if cut > 0 {
                crate::cli::warn(&format!(
                    "{} of this direction {} cut by the capture's snap length and {} missing from the output",
                    pcaplab::units::plural(cut, "byte", "bytes"),
                    pcaplab::units::noun(cut, "was", "were"),
                    pcaplab::units::noun(cut, "is", "are")
                ));
            }
        }
        FollowAs::Ascii | FollowAs::Hex => report::follow::write_text(
            &mut out,
            stream,
            &followed,
            &reports,
            only,
            args.show_as == FollowAs::Hex,
        )?,
    }
    out.flush()?;
    if let Some(e) = error {
        return Err(e).context(shown);
    }
    Ok(Outcome::Ok)
}
