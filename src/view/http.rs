//! The layer 7 view of a segment carrying HTTP: info column and fields, from its label.

use crate::app::http::{Label, StartSummary};
use crate::decode::Packet;
use crate::units::Direction;

use std::fmt::Write as _;

use super::describe::{self, AppView, Context, TcpRelative};
use crate::flow::tcp::AnalysisFlags;

/// The start line as Wireshark's info column shows it: `GET /index.html HTTP/1.1`,
/// `HTTP/1.1 200 OK  (text/html)`.
pub fn start_line(start: &StartSummary) -> String {
    let mut s = String::new();
    write_start_line(&mut s, start);
    s
}

/// Appends [`start_line`] to `out`.
pub fn write_start_line(out: &mut String, start: &StartSummary) {
    let _ = match start {
        StartSummary::Request {
            method,
            target,
            version,
            ..
        } => write!(out, "{method} {target} {version}"),
        StartSummary::Status {
            version,
            code,
            reason,
            media_type,
            ..
        } => match media_type {
            Some(media) => write!(out, "{version} {code} {reason}  ({media})"),
            None => write!(out, "{version} {code} {reason}"),
        },
    };
}

/// Appends the info column of a segment labelled `label` to `out`: the start line, or the
/// continuation note followed by the TCP info (`tcp` are its relative numbers).
pub fn write_info(out: &mut String, label: &Label, packet: &Packet<'_>, tcp: Option<&TcpRelative>) {
    if label.is_start {
        match &label.start {
            Some(start) => write_start_line(out, start),
            None => out.push_str("HTTP message"),
        }
    } else {
        // Wireshark's analysis labels lead the Info column, before anything a protocol adds.
        if let Some(t) = tcp {
            describe::write_analysis_labels(out, t);
        }
        let _ = write!(
            out,
            "[continuation of HTTP {} {}] ",
            match label.direction {
                Direction::ClientToServer => "request",
                Direction::ServerToClient => "response",
            },
            label.message
        );
        let plain = tcp.map(|t| TcpRelative {
            analysis: AnalysisFlags::default(),
            dup_ack: None,
            ..*t
        });
        describe::write_info(out, packet, plain.as_ref());
    }
}

/// The view of a segment labelled `label`; `ctx` holds its TCP numbers (for the info of a
/// continuation, which is the TCP info).
pub fn app_view(label: &Label, packet: &Packet<'_>, ctx: &Context) -> AppView {
    let info = label.start.as_ref().map(start_line);
    let mut text = String::new();
    write_info(&mut text, label, packet, ctx.tcp.as_ref());
    let mut app = AppView::new("HTTP", text);
    if !label.is_start {
        app.add("continuation", true);
    }
    app.add("message", label.message);
    if let Some(t) = label.transaction {
        app.add("transaction", t);
    }
    if let Some(i) = info {
        app.add("start_line", i);
    }
    app
}
