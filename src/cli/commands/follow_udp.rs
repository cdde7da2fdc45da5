//! `pcaplab follow FILE --udp ADDR:PORT` (or `--udp-conv N`): the datagrams of one UDP
//! conversation, like Wireshark's Follow UDP Stream, with the ICMP errors that answered them.

use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use pcaplab::analysis::follow_udp::{FollowUdp, Select};
use pcaplab::flow::Direction;
use pcaplab::report::{self, Terminal};

use super::follow::{DirArg, FollowArgs, FollowAs};
use crate::cli::Outcome;
use crate::cli::input;

pub use crate::cli::args::parse_endpoint;

/// Runs the UDP mode of `follow`.
///
/// # Errors
/// Unreadable input, no such conversation, `--framing` (which applies to TCP only), or a
/// write error.
pub fn run(args: FollowArgs, term: Terminal) -> Result<Outcome> {
    if args.framing.is_some() {
        anyhow::bail!(
            "--framing marks message boundaries in a TCP stream; each UDP datagram is already one message (use it with --stream)"
        );
    }
    let shown = args.input.file.display().to_string();
    let select = match (args.udp, args.udp_conv) {
        (Some(e), _) => Select::Endpoint(e),
        (None, Some(n)) => Select::Conversation(n),
        (None, None) => anyhow::bail!("give --stream N, --udp ADDR:PORT or --udp-conv N"),
    };
    let mut follow = FollowUdp::new(select, args.input.udp_limits());
    let mut engine = args.input.engine();
    engine.packet_observer(&mut follow);
    let (_, error) = input::analyze(&args.input.file, engine)?;
    let followed = follow.finish();
    input::report_udp_notes(&followed.counters);
    let Some(conversation) = &followed.conversation else {
        if let Some(e) = error {
            return Err(e).context(shown);
        }
        let what = match select {
            Select::Endpoint(e) => format!("no UDP datagram to or from {e}"),
            Select::Conversation(n) => format!("no UDP conversation {n}"),
        };
        anyhow::bail!(
            "{shown}: {what} (the capture has {}, numbered from 0; `pcaplab stats` lists them)",
            pcaplab::units::plural(
                followed.counters.conversations,
                "UDP conversation",
                "UDP conversations"
            )
        );
    };
    let only = match (args.dir, args.show_as) {
        (Some(DirArg::C2s), _) | (None, FollowAs::Raw) => Some(Direction::ClientToServer),
        (Some(DirArg::S2c), _) => Some(Direction::ServerToClient),
        (None, _) => None,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    match args.show_as {
        FollowAs::Raw => {
            let missing = report::follow_udp::write_raw(&mut out, &followed, only, term.is_tty)?;
            if missing > 0 {
                input::note(&format!(
                    "{} of these datagrams {} cut by the capture's snap length and {} missing from the output",
                    pcaplab::units::plural(missing, "byte", "bytes"),
                    pcaplab::units::noun(missing, "was", "were"),
                    pcaplab::units::noun(missing, "is", "are")
                ));
            }
        }
        FollowAs::Ascii | FollowAs::Hex => report::follow_udp::write_text(
            &mut out,
            &followed,
            conversation,
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
