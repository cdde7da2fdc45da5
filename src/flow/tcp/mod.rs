//! TCP: sequence numbers ([`SeqNum`]), one-direction reassembly ([`Reassembler`]), connection
//! tracking ([`StreamTable`]) that numbers connections like Wireshark's `tcp.stream`, and
//! Wireshark's per-packet analysis ([`AnalysisFlags`], the scaled window).
//!
//! In: decoded TCP segments (addresses, ports, header fields, options, payload view and its
//! length on the wire). Out: per-stream events (in-order bytes at `u64` stream offsets, gaps,
//! bytes not captured, retransmissions, ...) through a sink, per-packet [`Outcome`]s, and
//! per-connection summaries. Raw sequence numbers never leave this module except as the
//! relative numbers in [`Outcome`] (computed per connection from the first sequence number seen
//! in each direction, as Wireshark does).

mod analysis;
mod reassembly;
mod segment;
mod seq;
mod stream;
mod table;

pub use analysis::{AnalysisFlag, AnalysisFlags, DupAck, WindowScale, window_scale_option};
pub use reassembly::{
    Budget, Counters, DEFAULT_DIRECTION_CAP, DEFAULT_GLOBAL_BUDGET, DEFAULT_HISTORY_WINDOW,
    DiscardReason, EndCause, Event, GapCause, LimitKind, Limits, PIECE_OVERHEAD, Reassembler,
    Segment,
};
pub use segment::{Flags, SegmentInfo, StreamEvent};
pub use seq::SeqNum;
pub use stream::{
    CloseState, DirectionStats, Endpoint, Handshake, HandshakeState, RoleEvidence, Stream,
    StreamEnd, StreamId,
};
pub use table::{
    DEFAULT_CLOSED_LINGER, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_FLOWS, Outcome, Role, RoleHint,
    StreamTable, TableCounters, TableLimits,
};
