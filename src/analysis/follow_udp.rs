//! `follow --udp`: the datagrams of one UDP conversation in capture order, with the ICMP errors
//! that answered them, like Wireshark's Follow UDP Stream. A [`PacketObserver`] that runs the
//! UDP conversation table ([`super::udp`]) and copies the chosen conversation's payloads only.
//!
//! The conversation is chosen by number (as `stats` numbers them) or as the first one that
//! involves an endpoint (`ADDR:PORT`). The other conversations of the same endpoints are
//! reported too (a reply sent from another port is a conversation of its own — a classic UDP
//! server mistake — and an idle conversation that resumed after the idle timeout is a new one).

use std::net::SocketAddr;
use std::time::Duration;

use crate::app::{Notes, PacketObserver};
use crate::decode::Packet;
use crate::units::{Direction, FrameNumber};

use super::udp::{self, Conversation, Event, IcmpError};

/// Most related conversations listed.
const MAX_RELATED: usize = 32;

/// Which conversation to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// The first conversation with this endpoint on either side.
    Endpoint(SocketAddr),
    /// The conversation with this number.
    Conversation(u64),
}

/// One event of the followed conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A datagram.
    Datagram {
        /// Its frame.
        frame: FrameNumber,
        /// Its capture time.
        ts: Duration,
        /// `client_to_server` when sent by the endpoint that sent first.
        direction: Direction,
        /// UDP payload length on the wire (from the UDP header).
        wire_len: usize,
        /// The payload as captured (shorter than `wire_len` when the capture cut it).
        bytes: Vec<u8>,
    },
    /// An ICMP error about one of its datagrams.
    IcmpError(IcmpError),
}

/// What was followed, once the capture is read.
#[derive(Debug, Clone)]
pub struct Followed {
    /// The conversation's row; `None` when the capture has no such conversation.
    pub conversation: Option<Conversation>,
    /// Its datagrams and ICMP errors in capture order.
    pub items: Vec<Item>,
    /// Other conversations of the same endpoints (the first 32), in order of number.
    pub related: Vec<Conversation>,
    /// How many related conversations there were in all.
    pub related_total: u64,
    /// What the conversation table counted (how many conversations the capture has, ...).
    pub counters: udp::Counters,
}

/// Follows one UDP conversation; see the module documentation.
#[derive(Debug)]
pub struct FollowUdp {
    select: Select,
    table: udp::Table,
    /// The chosen conversation and its endpoints, once its first datagram was seen.
    chosen: Option<(u64, SocketAddr, SocketAddr)>,
    items: Vec<Item>,
    conversation: Option<Conversation>,
    related: Vec<Conversation>,
    related_total: u64,
}

impl FollowUdp {
    /// Follows the conversation `select` names, with a conversation table of these bounds.
    pub fn new(select: Select, limits: udp::Limits) -> Self {
        FollowUdp {
            select,
            table: udp::Table::new(limits),
            chosen: None,
            items: Vec::new(),
            conversation: None,
            related: Vec::new(),
            related_total: 0,
        }
    }

    /// Looks at one packet.
    pub fn on_packet(&mut self, packet: &Packet<'_>) {
        match self.table.on_packet(packet) {
            Some(Event::Datagram { id, direction }) => {
                if self.chosen.is_none()
                    && let Some((src, dst)) = endpoints(packet)
                {
                    let wanted = match self.select {
                        Select::Endpoint(e) => src == e || dst == e,
                        Select::Conversation(n) => n == id,
                    };
                    if wanted {
                        self.chosen = Some((id, src, dst));
                    }
                }
                if self.chosen.is_some_and(|(c, _, _)| c == id) {
                    self.items.push(Item::Datagram {
                        frame: packet.frame.number,
                        ts: packet.frame.timestamp,
                        direction,
                        wire_len: packet.wire_payload_len(),
                        bytes: packet.payload().to_vec(),
                    });
                }
            }
            Some(Event::IcmpError { id, error })
                if self.chosen.is_some_and(|(c, _, _)| c == id) =>
            {
                self.items.push(Item::IcmpError(error));
            }
            Some(Event::IcmpError { .. }) | None => {}
        }
        let mut ended = Vec::new();
        self.table.drain_ended(|c| ended.push(c));
        for c in ended {
            self.row(c);
        }
    }

    /// A conversation's row: the followed one's, or maybe a related one.
    fn row(&mut self, c: Conversation) {
        if let Some((id, a, b)) = self.chosen {
            if c.id == id {
                self.conversation = Some(c);
                return;
            }
            if !(c.involves(a) || c.involves(b)) {
                return;
            }
        } else if !matches!(self.select, Select::Endpoint(e) if c.involves(e)) {
            return;
        }
        self.related_total += 1;
        if self.related.len() < MAX_RELATED {
            self.related.push(c);
        }
    }

    /// Ends the capture: every conversation still live ends, and the result comes out.
    pub fn finish(mut self) -> Followed {
        let mut rest = Vec::new();
        self.table.finish(|c| rest.push(c));
        for c in rest {
            self.row(c);
        }
        self.related.sort_by_key(|c| c.id);
        Followed {
            conversation: self.conversation,
            items: self.items,
            related: self.related,
            related_total: self.related_total,
            counters: self.table.counters(),
        }
    }
}

impl PacketObserver for FollowUdp {
    fn on_packet(&mut self, packet: &Packet<'_>, _notes: &Notes<'_>) {
        FollowUdp::on_packet(self, packet);
    }
}

/// Source and destination of a UDP datagram.
fn endpoints(packet: &Packet<'_>) -> Option<(SocketAddr, SocketAddr)> {
    let (src, dst) = packet.ip_addrs()?;
    let (sport, dport) = packet.ports()?;
    Some((SocketAddr::new(src, sport), SocketAddr::new(dst, dport)))
}
