//! The layer 7 view of a TFTP packet: info column and fields, from its note. Field values from
//! the wire (file, mode, error message) are kept as sent, so JSON holds them; text output
//! escapes them where it prints them (`report::show`).

use std::fmt::Write as _;

use crate::app::tftp::{Classification, Opcode, OptionPair, Packet, escape};
use crate::app::wire_text;

use super::describe::{AppView, Field};

/// Appends the info column of a TFTP packet: `Data Packet, Block: 3 (last)`, or why it is
/// malformed. A DATA block sent again is marked `[Retransmission of frame 20]` and an ACK of a
/// block already acknowledged `[Duplicate ACK of frame 21]` (without the frame when the
/// transfer no longer remembered the first copy): the packets the `tftp` command lists as
/// sent more than once.
pub fn write_info(out: &mut String, c: &Classification<'_>) {
    let _ = match &c.packet {
        Ok(p) => write!(out, "{}", p.info().with_last(c.last_block)),
        Err(m) => write!(out, "Malformed TFTP packet: {m}"),
    };
    if let (Some(r), Some(name)) = (c.repeated, repeat_name(c)) {
        let _ = match r.first {
            Some(first) => write!(out, " [{name} of frame {first}]"),
            None => write!(out, " [{name}]"),
        };
    }
}

/// What a repeated packet is called: a DATA block is a retransmission, an ACK a duplicate ACK.
fn repeat_name(c: &Classification<'_>) -> Option<&'static str> {
    match &c.packet {
        Ok(Packet::Data(_)) => Some("Retransmission"),
        Ok(Packet::Ack(_)) => Some("Duplicate ACK"),
        _ => None,
    }
}

/// Appends why the TFTP payload is malformed (the packet's `malformed` column), if it is.
pub fn write_malformed(out: &mut String, c: &Classification<'_>) {
    if let Err(m) = &c.packet {
        let _ = write!(out, "malformed tftp: {m}");
    }
}

/// The view of a TFTP datagram whose payload is `payload`.
pub fn app_view(c: &Classification<'_>, payload: &[u8]) -> AppView {
    let mut info = String::new();
    write_info(&mut info, c);
    let mut app = AppView::new("TFTP", info);
    if let Some(t) = c.transfer {
        app.add("transfer", t);
    }
    match &c.packet {
        Ok(p) => {
            app.add("opcode", p.opcode().to_u16())
                .add("opcode_name", p.opcode().name());
            match p {
                Packet::Rrq(r) | Packet::Wrq(r) => {
                    app.add("file", wire_text(r.file_name))
                        .add("mode", wire_text(r.mode_raw));
                    if !r.options.is_empty() {
                        app.add("options", options_text(r.options.iter()));
                    }
                }
                Packet::Data(d) => {
                    app.add("block", d.block).add("data_length", d.data.len());
                    if c.last_block {
                        app.add("last", true);
                    }
                    if let Some(r) = c.repeated {
                        app.add("retransmission", true);
                        if let Some(first) = r.first {
                            app.add("first_copy_frame", first.0);
                        }
                    }
                }
                Packet::Ack(a) => {
                    app.add("block", a.block);
                    if let Some(r) = c.repeated {
                        app.add("duplicate_ack", true);
                        if let Some(first) = r.first {
                            app.add("first_copy_frame", first.0);
                        }
                    }
                }
                Packet::Error(e) => {
                    app.add("error_code", e.code.to_u16())
                        .add("error_name", e.code.to_string())
                        .add("error_message", wire_text(e.message));
                }
                Packet::Oack(o) => {
                    app.add("options", options_text(o.options.iter()));
                }
            }
        }
        Err(_) => {
            let mut malformed = String::new();
            write_malformed(&mut malformed, c);
            app.malformed = Some(malformed);
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
    }
    // Like Wireshark, name the transfer's file on every later packet of the transfer.
    if let Some(file) = c.file {
        app.add("file", file.to_string());
    }
    app
}

/// `blksize=1024, tsize=0`.
fn options_text<'a>(options: impl Iterator<Item = OptionPair<'a>>) -> String {
    options
        .map(|o| format!("{}={}", escape(o.name), escape(o.value)))
        .collect::<Vec<_>>()
        .join(", ")
}
