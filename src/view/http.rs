//! The layer 7 view of a segment carrying HTTP: info column and fields, from its label.

use crate::app::http::{Label, StartSummary};
use crate::decode::Packet;
use crate::units::Direction;

use super::describe::{self, AppView, Context};

/// The start line as Wireshark's info column shows it: `GET /index.html HTTP/1.1`,
/// `HTTP/1.1 200 OK  (text/html)`.
pub fn start_line(start: &StartSummary) -> String {
    match start {
        StartSummary::Request {
            method,
            target,
            version,
        } => format!("{method} {target} {version}"),
        StartSummary::Status {
            version,
            code,
            reason,
            media_type,
        } => match media_type {
            Some(media) => format!("{version} {code} {reason}  ({media})"),
            None => format!("{version} {code} {reason}"),
        },
    }
}

/// The view of a segment labelled `label`; `ctx` holds its TCP numbers (for the info of a
/// continuation, which is the TCP info).
pub fn app_view(label: &Label, packet: &Packet<'_>, ctx: &Context) -> AppView {
    let info = label.start.as_ref().map(start_line);
    let mut app = if label.is_start {
        AppView::new(
            "HTTP",
            info.clone().unwrap_or_else(|| "HTTP message".into()),
        )
    } else {
        let mut v = AppView::new(
            "HTTP",
            format!(
                "[continuation of HTTP {} {}] {}",
                match label.direction {
                    Direction::ClientToServer => "request",
                    Direction::ServerToClient => "response",
                },
                label.message,
                describe::info(packet, ctx)
            ),
        );
        v.add("continuation", true);
        v
    };
    app.add("message", label.message);
    if let Some(t) = label.transaction {
        app.add("transaction", t);
    }
    if let Some(i) = info {
        app.add("start_line", i);
    }
    app
}
