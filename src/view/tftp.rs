//! The layer 7 view of a TFTP packet: info column and fields, from its note.

use crate::app::tftp::{Classification, Opcode, OptionPair, Packet, escape};

use super::describe::{AppView, Field};

/// The view of a TFTP datagram whose payload is `payload`.
pub fn app_view(c: &Classification<'_>, payload: &[u8]) -> AppView {
    let info = match &c.packet {
        Ok(p) => p.info().with_last(c.last_block).to_string(),
        Err(m) => format!("Malformed TFTP packet: {m}"),
    };
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
        app.add("file", file);
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
