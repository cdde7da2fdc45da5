//! Turning the gathered arrows into [`Ladder`]s once the run is over: columns in textbook order
//! with their roles, brackets from the stream rows, and the findings only the end tells
//! (message parts, gaps, TFTP warnings).

use std::net::SocketAddr;

use super::collect::{Collector, Draft, Key, Place};
use super::{Arrow, Column, Group, GroupKind, Ladder, Note, NoteKind, Part, Selection, Subject};
use crate::analysis::sticky;
use crate::app::tftp;
use crate::flow::tcp::{CloseState, HandshakeState, Stream};
use crate::framing::segments::PartKind;
use crate::units::{Direction, FrameNumber};

use super::collect::StreamFacts;

/// What other analyses of the same run found, for the ladders they concern.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// The TFTP transfers ([`tftp::Tracker::finish`]).
    pub transfers: &'a [tftp::Transfer],
}

/// The ladders of a run, in order: TCP streams, UDP, TFTP transfers, filtered packets.
pub fn finish(collector: Collector, facts: &StreamFacts, extras: &Extras<'_>) -> Vec<Ladder> {
    let filter_text = match collector.selection() {
        Selection::Filter(f) => Some(f.as_str().to_string()),
        _ => None,
    };
    let udp = match collector.selection() {
        Selection::Udp(x) => Some(*x),
        _ => None,
    };
    let unplaced = collector.unplaced;
    let mut drafts = collector.drafts;
    drafts.sort_by_key(|d| d.key);
    let mut ladders = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let ladder = match draft.key {
            Key::Stream(n) => stream_ladder(draft, n, facts),
            Key::Tftp(t) => tftp_ladder(draft, extras.transfers.iter().find(|x| x.index == t)),
            Key::Udp => udp_ladder(draft, udp),
            Key::Filter => {
                let mut l = plain(draft, &[], Subject::Filter);
                l.title = format!(
                    "packets matching `{}`",
                    filter_text.as_deref().unwrap_or("")
                );
                if unplaced > 0 {
                    l.notes.push(format!(
                        "{} no IP address and {} not drawn",
                        crate::units::plural(
                            unplaced,
                            "matching packet has",
                            "matching packets have"
                        ),
                        crate::units::noun(unplaced, "is", "are")
                    ));
                }
                l
            }
        };
        ladders.push(ladder);
    }
    ladders
}

/// The columns of `draft` with the `preferred` places first (in that order, with their roles),
/// then the others in order of appearance; arrows renumbered.
fn plain(draft: Draft, preferred: &[(Place, &str)], subject: Subject) -> Ladder {
    let mut order: Vec<usize> = preferred
        .iter()
        .filter_map(|(p, _)| draft.places.iter().position(|q| q == p))
        .collect();
    for i in 0..draft.places.len() {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    // new index of each old column
    let mut new_of = vec![0; draft.places.len()];
    for (new, &old) in order.iter().enumerate() {
        if let Some(slot) = new_of.get_mut(old) {
            *slot = new;
        }
    }
    let columns = order
        .iter()
        .filter_map(|&old| draft.places.get(old))
        .map(|&place| Column {
            address: match place {
                Place::Socket(s) => s.to_string(),
                Place::Host(ip) => ip.to_string(),
            },
            role: preferred
                .iter()
                .find(|(p, _)| *p == place)
                .map(|(_, r)| (*r).to_string())
                .or_else(|| matches!(place, Place::Host(_)).then(|| "router".to_string())),
        })
        .collect();
    let mut arrows = draft.arrows;
    for a in &mut arrows {
        a.from = new_of.get(a.from).copied().unwrap_or(a.from);
        a.to = new_of.get(a.to).copied().unwrap_or(a.to);
    }
    let mut notes = Vec::new();
    if draft.omitted > 0 {
        notes.push(format!(
            "{} more {} not drawn (past the limit of {})",
            draft.omitted,
            crate::units::noun(draft.omitted, "packet", "packets"),
            crate::units::plural(arrows.len() as u64, "arrow", "arrows")
        ));
    }
    Ladder {
        subject,
        title: String::new(),
        columns,
        arrows,
        groups: Vec::new(),
        notes,
        omitted_arrows: draft.omitted,
    }
}

fn stream_ladder(draft: Draft, n: u64, facts: &StreamFacts) -> Ladder {
    let row = facts.rows.get(&n);
    let preferred: Vec<(Place, &str)> = match row {
        Some(r) => vec![
            (
                Place::Socket(SocketAddr::new(r.client.addr, r.client.port)),
                "client",
            ),
            (
                Place::Socket(SocketAddr::new(r.server.addr, r.server.port)),
                "server",
            ),
        ],
        None => Vec::new(),
    };
    let mut ladder = plain(draft, &preferred, Subject::TcpStream(n));
    ladder.title = match row {
        Some(r) => format!(
            "TCP stream {n}: {} → {}",
            SocketAddr::new(r.client.addr, r.client.port),
            SocketAddr::new(r.server.addr, r.server.port)
        ),
        None => format!("TCP stream {n}"),
    };
    if let Some(r) = row {
        ladder.groups = groups(r, &ladder.arrows);
        refused(r, &mut ladder.arrows);
    }
    if let Some(pair) = facts.reports.get(&n) {
        parts(pair, &mut ladder.arrows);
    }
    for &(stream, frame, c2s, offset, len) in &facts.gaps {
        if stream != n {
            continue;
        }
        let who = if c2s { "client" } else { "server" };
        let text = format!(
            "gap: {} the {who} sent (stream offset {offset}) {} never captured; found at this packet",
            crate::units::plural(len, "byte", "bytes"),
            crate::units::noun(len, "was", "were")
        );
        match ladder.arrows.iter_mut().find(|a| a.frame == frame) {
            Some(a) => a
                .notes
                .push(Note::new(NoteKind::Gap, format!("gap {len} B"), text)),
            None => ladder.notes.push(format!("frame {frame}: {text}")),
        }
    }
    ladder
}

/// The first arrow after the FIN of frame `fin` from its receiver that acknowledges it.
fn ack_of(arrows: &[Arrow], fin: FrameNumber) -> Option<FrameNumber> {
    let i = arrows.iter().position(|a| a.frame == fin)?;
    let f = arrows.get(i)?;
    let t = f.tcp.as_ref()?;
    // RFC 9293 §3.4: the FIN takes the sequence number after the segment's data.
    let wanted = t.seq.wrapping_add(t.len).wrapping_add(1);
    arrows.get(i + 1..)?.iter().find_map(|a| {
        let ack = a.tcp.as_ref()?.ack?;
        (a.from == f.to && a.to == f.from && ack.wrapping_sub(wanted) as i32 >= 0)
            .then_some(a.frame)
    })
}

/// The handshake and close brackets of a stream, with only frames that are drawn.
fn groups(row: &Stream, arrows: &[Arrow]) -> Vec<Group> {
    let mut out = Vec::new();
    let mut push = |kind: GroupKind, frames: Vec<Option<FrameNumber>>| {
        let mut frames: Vec<FrameNumber> = frames
            .into_iter()
            .flatten()
            .filter(|f| arrows.iter().any(|a| a.frame == *f))
            .collect();
        frames.sort_unstable();
        frames.dedup();
        if !frames.is_empty() {
            out.push(Group {
                kind,
                label: kind.label(),
                frames,
            });
        }
    };
    let h = row.handshake;
    if h.state == HandshakeState::Complete {
        push(GroupKind::Handshake, vec![h.syn, h.syn_ack, h.ack]);
    }
    match row.close {
        CloseState::FourWay {
            first_fin,
            second_fin,
            last_ack,
            ..
        } => {
            let first_acked = ack_of(arrows, first_fin).filter(|f| *f < second_fin);
            push(
                GroupKind::FourWayClose,
                vec![Some(first_fin), first_acked, Some(second_fin), last_ack],
            );
        }
        CloseState::Simultaneous {
            client_fin,
            server_fin,
        } => push(
            GroupKind::SimultaneousClose,
            vec![
                Some(client_fin),
                Some(server_fin),
                ack_of(arrows, client_fin),
                ack_of(arrows, server_fin),
            ],
        ),
        CloseState::Reset { frame, .. } => push(GroupKind::Reset, vec![Some(frame)]),
        CloseState::Open | CloseState::HalfClosed { .. } => {}
    }
    out
}

/// A SYN answered by the server's RST: the connection was refused.
fn refused(row: &Stream, arrows: &mut [Arrow]) {
    let CloseState::Reset {
        by: Direction::ServerToClient,
        frame,
    } = row.close
    else {
        return;
    };
    if row.handshake.syn.is_none() || row.handshake.syn_ack.is_some() {
        return;
    }
    if let Some(a) = arrows.iter_mut().find(|a| a.frame == frame)
        && let Some(n) = a.notes.iter_mut().find(|n| n.kind == NoteKind::Reset)
    {
        n.short = "connection refused".to_string();
        n.text = format!(
            "connection refused: the server answered the SYN with RST, so nothing listens on port {} (RFC 9293 §3.5.2)",
            row.server.port
        );
    }
}

fn part_name(p: PartKind) -> &'static str {
    match p {
        PartKind::Whole => "whole",
        PartKind::Head => "head",
        PartKind::Middle => "middle",
        PartKind::Tail => "tail",
    }
}

/// The message parts each data segment carried; shown as a note in a direction where some
/// segment carried several messages or some message came in several segments.
fn parts(pair: &[sticky::Direction; 2], arrows: &mut [Arrow]) {
    for report in pair {
        let sticky =
            report.coalesced_segments.unwrap_or(0) > 0 || report.split_messages.unwrap_or(0) > 0;
        for seg in &report.segments {
            if seg.parts.is_empty() {
                continue;
            }
            let Some(a) = arrows.iter_mut().find(|a| a.frame == seg.frame) else {
                continue;
            };
            a.parts = seg
                .parts
                .iter()
                .map(|p| Part {
                    message: p.message,
                    part: part_name(p.part),
                    bytes: p.bytes,
                })
                .collect();
            if sticky {
                let short = a
                    .parts
                    .iter()
                    .map(|p| format!("msg {} {}", p.message, p.part))
                    .collect::<Vec<_>>()
                    .join(" + ");
                let text = format!(
                    "this segment carried {} (framing {})",
                    a.parts
                        .iter()
                        .map(|p| format!("msg {} {} ({} B)", p.message, p.part, p.bytes))
                        .collect::<Vec<_>>()
                        .join(" + "),
                    report.framing
                );
                a.notes.push(Note::new(NoteKind::Parts, short, text));
            }
        }
    }
}

fn tftp_ladder(draft: Draft, transfer: Option<&tftp::Transfer>) -> Ladder {
    let index = match draft.key {
        Key::Tftp(t) => t,
        _ => 0,
    };
    let request_port = draft
        .arrows
        .iter()
        .find(|a| matches!(a.tftp.as_ref().map(|t| t.opcode), Some("RRQ" | "WRQ")))
        .and_then(|a| draft.places.get(a.to).copied());
    let mut preferred = Vec::new();
    if let Some(t) = transfer {
        preferred.push((Place::Socket(t.client), "client"));
        match request_port {
            Some(p) if p != Place::Socket(t.server) => {
                preferred.push((p, "server (request port)"));
                preferred.push((Place::Socket(t.server), "server (transfer ID)"));
            }
            _ => preferred.push((Place::Socket(t.server), "server")),
        }
    }
    let mut ladder = plain(draft, &preferred, Subject::TftpTransfer(index));
    let Some(t) = transfer else {
        ladder.title = format!("TFTP transfer {index}");
        return ladder;
    };
    let what = match t.direction {
        tftp::TransferDirection::Read => "read",
        tftp::TransferDirection::Write => "write",
    };
    ladder.title = format!(
        "TFTP transfer {index}: {what} {} ({} ↔ {})",
        crate::view::text::Escaped(&t.file),
        t.client,
        t.server
    );
    for w in &t.warnings {
        let short = serde_json::to_value(w.kind)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_else(|| "warning".to_string());
        let first = w.frames.first().copied();
        match first.and_then(|f| ladder.arrows.iter_mut().find(|a| a.frame == f)) {
            Some(a) => a
                .notes
                .push(Note::new(NoteKind::Tftp, short, w.message.clone())),
            None => ladder.notes.push(match first {
                Some(f) => format!("frame {f}: {}", w.message),
                None => w.message.clone(),
            }),
        }
    }
    ladder
}

fn udp_ladder(draft: Draft, endpoint: Option<SocketAddr>) -> Ladder {
    // The first datagram's sender is the client, its receiver the server.
    let first = draft.arrows.first().map(|a| (a.from, a.to));
    let mut preferred = Vec::new();
    if let Some((from, to)) = first
        && let (Some(&f), Some(&t)) = (draft.places.get(from), draft.places.get(to))
    {
        preferred.push((f, "client"));
        preferred.push((t, "server"));
    }
    let mut ladder = plain(draft, &preferred, Subject::Udp);
    ladder.title = match endpoint {
        Some(x) => format!("UDP datagrams to and from {x}"),
        None => "UDP datagrams".to_string(),
    };
    ladder
}

impl Ladder {
    /// The part of this ladder from frame `first` to frame `last` (both included): the arrows
    /// and the brackets wholly inside (an HTTP transaction within its stream).
    pub fn between(&self, first: FrameNumber, last: FrameNumber, title: String) -> Ladder {
        let inside = |f: FrameNumber| f >= first && f <= last;
        Ladder {
            subject: self.subject,
            title,
            columns: self.columns.clone(),
            arrows: self
                .arrows
                .iter()
                .filter(|a| inside(a.frame))
                .cloned()
                .collect(),
            groups: self
                .groups
                .iter()
                .filter(|g| g.frames.iter().all(|f| inside(*f)))
                .cloned()
                .collect(),
            notes: Vec::new(),
            omitted_arrows: 0,
        }
    }
}
