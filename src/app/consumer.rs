//! The hooks the engine drives, and the typed notes it hands back per packet.
//!
//! The engine (above) reads frames, decodes them, runs TCP segments through the stream table
//! and then calls the consumers a command plugged in, through the small traits here:
//! [`StreamConsumer`] for the events of TCP streams, [`DatagramConsumer`] for UDP datagrams and
//! [`PacketObserver`] for every packet with its notes.
//! A consumer may annotate the packet being processed with a [`Note`]; the engine gathers the
//! notes of a packet in [`Notes`] and gives them, with the decoded packet, to the caller. Notes
//! are typed values (numbers, flags, borrowed views): turning them into text is `view`'s job,
//! and only commands that print packets call it.
//!
//! The traits live here, below `analysis` and `engine`, because the consumers live in `app`
//! (HTTP, TFTP) and `analysis` (sticky, follow, grading checks): a layer may only implement a
//! trait it can name. Adding a protocol adds a consumer and, if it annotates packets, a
//! [`Note`] variant; it touches no other consumer.

use std::net::SocketAddr;
use std::time::Duration;

use super::{http, tftp};
use crate::decode::Packet;
use crate::decode::icmp::ErrorMessage;
use crate::flow::tcp::{Outcome, Stream, StreamEvent, StreamTable};
use crate::units::{FrameNumber, StreamId};

/// The packet being processed: its frame number and capture time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct At {
    /// Frame number of the packet.
    pub frame: FrameNumber,
    /// Its capture time (since the Unix epoch).
    pub ts: Duration,
}

/// One UDP datagram (over IPv4 or IPv6), as the engine hands it to datagram consumers.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// The packet carrying it.
    pub at: At,
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// The UDP payload as captured.
    pub payload: &'a [u8],
}

/// What an application protocol found in one packet.
#[derive(Debug, Clone)]
pub enum Note<'a> {
    /// The HTTP message the segment carried (or continued).
    Http(&'a http::Label),
    /// The TFTP packet and the transfer it belongs to.
    Tftp(tftp::Classification<'a>),
}

impl Note<'_> {
    /// The protocol's name as in layer lists and the protocol column.
    pub fn protocol(&self) -> &'static str {
        match self {
            Note::Http(_) => "HTTP",
            Note::Tftp(_) => "TFTP",
        }
    }

    /// True when the application payload did not decode (the packet counts as malformed).
    pub fn is_malformed(&self) -> bool {
        match self {
            Note::Http(_) => false,
            Note::Tftp(c) => c.packet.is_err(),
        }
    }
}

/// Everything the engine learned about one packet besides its decode.
#[derive(Debug, Clone, Default)]
pub struct Notes<'a> {
    /// Where a TCP segment belongs (stream, direction) and its relative sequence numbers;
    /// present when the engine tracks TCP and the packet is a TCP segment.
    pub tcp: Option<Outcome>,
    /// The application layer's note, when a consumer recognised the payload.
    pub app: Option<Note<'a>>,
    /// When this packet's fragment completed an IP datagram: the frames of its fragments, in
    /// fragment-offset order (the packet then carries the whole datagram).
    pub reassembled_from: Option<&'a [FrameNumber]>,
    /// On an ICMP or ICMPv6 error quoting a TCP or UDP datagram: the packet it answers, when
    /// the command ran the ICMP linker (`analysis::icmp::Linker`; the engine leaves it empty).
    pub icmp: Option<IcmpLink>,
}

/// The packet an ICMP or ICMPv6 error answers: the latest earlier datagram (or TCP segment)
/// with the flow key of the datagram the error quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IcmpLink {
    /// That packet; `None` when the capture has no earlier packet of the flow (or the linker
    /// had forgotten it: idle longer than its timeout, or pushed out by its cap).
    pub answers: Option<FrameNumber>,
    /// Its TCP stream (Wireshark's `tcp.stream`), when it was a TCP segment and TCP was
    /// tracked.
    pub stream: Option<StreamId>,
    /// Its application protocol (`TFTP`, `HTTP`), when a consumer recognised it: the quoted
    /// payload can then be decoded as that protocol.
    pub app: Option<&'static str>,
}

/// A consumer of TCP stream events (reassembled bytes, gaps, ends, retransmissions...).
///
/// For each TCP segment the engine sends every event the stream table produced to
/// [`on_event`](Self::on_event) (events of other streams too: a connection that times out, is
/// evicted or replaced ends while another one's segment is processed), then calls
/// [`on_packet_end`](Self::on_packet_end) for the segment's stream and asks for a
/// [`note`](Self::note). When the table lets a connection go (closed and retired, timed out,
/// evicted, replaced, or at the end of the capture) its final row comes to
/// [`on_stream_end`](Self::on_stream_end): after it no event of that stream id comes again, and
/// a consumer drops whatever it kept for it, so its memory follows the connections the table
/// holds, not the capture. At the end of the capture the last events come, then every
/// remaining row, then [`finish`](Self::finish).
pub trait StreamConsumer {
    /// One event of a TCP stream, during the packet `at` (a `Data` event names the frame that
    /// carried its bytes, which differs from `at.frame` for bytes released from a buffer).
    fn on_event(&mut self, event: &StreamEvent<'_>, at: At);

    /// Every event of the packet `at`, a segment of `stream`, has been delivered. `table` answers
    /// questions about any connection it still holds (prefer [`StreamTable::endpoints`]: it
    /// builds no row).
    fn on_packet_end(&mut self, stream: StreamId, at: At, table: &StreamTable) {
        let _ = (stream, at, table);
    }

    /// The consumer's note on the packet just ended (a segment of `stream`), if it has one.
    fn note(&self, stream: StreamId) -> Option<Note<'_>> {
        let _ = stream;
        None
    }

    /// The row of one connection is final and the table has let the connection go; `at` is
    /// the packet being processed (or the last one, at the end of the capture).
    fn on_stream_end(&mut self, row: &Stream, at: At) {
        let _ = (row, at);
    }

    /// The capture ended at `at`; every stream's last events and every row have been delivered.
    fn finish(&mut self, at: At) {
        let _ = at;
    }
}

/// A consumer of UDP datagrams, called for each one in capture order.
pub trait DatagramConsumer {
    /// Looks at one datagram; returns a note when it recognised the payload.
    fn on_datagram<'a>(&'a mut self, datagram: &Datagram<'a>) -> Option<Note<'a>>;

    /// An ICMP or ICMPv6 error message of the packet `at` (its quote may name a datagram this
    /// consumer saw: [`ErrorMessage::flow`]). Called in capture order, between datagrams.
    fn on_icmp_error(&mut self, at: At, error: &ErrorMessage<'_>) {
        let _ = (at, error);
    }
}

/// An observer of every packet, called in capture order once the stream and datagram
/// consumers have annotated it (statistics, cross-protocol linking).
pub trait PacketObserver {
    /// One decoded packet with its notes.
    fn on_packet(&mut self, packet: &Packet<'_>, notes: &Notes<'_>);
}
