//! TFTP in the engine: every UDP datagram goes to the transfer tracker, and what it recognises
//! becomes the packet's layer 7 view.

use std::net::SocketAddr;
use std::time::Duration;

use crate::analysis::tftp::{Classification, Tracker};
use crate::app::tftp::{Opcode, Packet, escape};
use crate::capture::FrameNumber;
use crate::decode::describe::{AppView, Field};

/// Offers one UDP datagram to the TFTP tracker; returns its layer 7 view when it is TFTP.
pub(super) fn on_datagram(
    tracker: &mut Tracker,
    frame: FrameNumber,
    ts: Duration,
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
) -> Option<AppView> {
    let c = tracker.on_datagram(frame, ts, src, dst, payload)?;
    let mut app = view(&c);
    if c.packet.is_err() {
        // A malformed packet still shows its opcode when the first two bytes name one.
        if let Some(op) = payload
            .first_chunk::<2>()
            .and_then(|b| Opcode::from_u16(u16::from_be_bytes(*b)))
        {
            app.fields.insert(
                0,
                Field {
                    name: "opcode",
                    value: op.to_u16().into(),
                },
            );
        }
    }
    // Like Wireshark, name the transfer's file on every later packet of the transfer.
    let is_request = matches!(&c.packet, Ok(p) if p.as_request().is_some());
    if !is_request
        && let Some(t) = c
            .transfer
            .and_then(|i| tracker.transfers().iter().find(|t| t.index == i))
    {
        app.add("file", t.file.clone());
    }
    Some(app)
}

fn view(c: &Classification<'_>) -> AppView {
    let mut app = AppView::new("TFTP", c.info().to_string());
    if let Some(t) = c.transfer {
        app.add("transfer", t);
    }
    match &c.packet {
        Ok(p) => {
            app.add("opcode", p.opcode().to_u16())
                .add("opcode_name", p.opcode().name());
            match p {
                Packet::Rrq(r) | Packet::Wrq(r) => {
                    app.add("file", escape(r.file_name).to_string())
                        .add("mode", escape(r.mode_raw).to_string());
                    if !r.options.is_empty() {
                        app.add("options", options_text(r.options.iter()));
                    }
                }
                Packet::Data(d) => {
                    app.add("block", d.block).add("data_length", d.data.len());
                    if c.last_block {
                        app.add("last", true);
                    }
                }
                Packet::Ack(a) => {
                    app.add("block", a.block);
                }
                Packet::Error(e) => {
                    app.add("error_code", e.code.to_u16())
                        .add("error_name", e.code.to_string())
                        .add("error_message", escape(e.message).to_string());
                }
                Packet::Oack(o) => {
                    app.add("options", options_text(o.options.iter()));
                }
            }
        }
        Err(m) => {
            app.malformed = Some(format!("malformed tftp: {m}"));
        }
    }
    app
}

/// `blksize=1024, tsize=0`.
fn options_text<'a>(options: impl Iterator<Item = crate::app::tftp::OptionPair<'a>>) -> String {
    options
        .map(|o| format!("{}={}", escape(o.name), escape(o.value)))
        .collect::<Vec<_>>()
        .join(", ")
}
