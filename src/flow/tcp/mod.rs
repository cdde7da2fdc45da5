//! TCP: sequence numbers ([`SeqNum`]), one-direction reassembly ([`Reassembler`]), and
//! connection tracking ([`StreamTable`]) that numbers connections like Wireshark's `tcp.stream`.
//!
//! In: decoded TCP segments (addresses, ports, header fields, payload view). Out: per-stream
//! events (in-order bytes at `u64` stream offsets, gaps, retransmissions, ...) through a sink,
//! and per-connection summaries. Raw sequence numbers never leave this module except as the
//! relative numbers in [`Outcome`] and [`Stream::relative`].

mod reassembly;
mod seq;
mod stream;
mod table;

pub use reassembly::{
    Budget, Counters, DEFAULT_DIRECTION_CAP, DEFAULT_GLOBAL_BUDGET, DEFAULT_HISTORY_WINDOW,
    DiscardReason, EndCause, Event, GapCause, LimitKind, Limits, Reassembler, Segment,
};
pub use seq::SeqNum;
pub use stream::{
    CloseState, DirectionStats, Endpoint, Handshake, HandshakeState, Stream, StreamId,
};
pub use table::{Flags, Outcome, SegmentInfo, StreamEvent, StreamTable, TableLimits};
