//! `follow`: the reassembled bytes of one TCP stream, in the order they were delivered, with
//! the holes the capture left (lost bytes and bytes cut by the snap length, told apart) and
//! where each direction ended (FIN, RST, end of capture). A [`StreamConsumer`] that copies the
//! chosen stream only.

use crate::app::consumer::{At, StreamConsumer};
use crate::flow::tcp::{CloseState, EndCause, Event, Stream, StreamEvent};
use crate::units::{Direction, FrameNumber};

/// A piece of one direction of a followed stream.
#[derive(Debug, Clone)]
pub enum FollowChunk {
    /// Bytes delivered in order.
    Data {
        /// Direction of the bytes.
        direction: Direction,
        /// The frame that carried them.
        frame: FrameNumber,
        /// Stream offset of the first byte.
        offset: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Bytes that were never captured (lost before the capture point, or never seen).
    Gap {
        /// Direction of the hole.
        direction: Direction,
        /// Stream offset of the hole.
        offset: u64,
        /// Its length.
        len: u64,
    },
    /// Bytes that were on the wire in `frame` but cut off by the capture's snap length.
    NotCaptured {
        /// Direction of the bytes.
        direction: Direction,
        /// The frame whose payload was cut.
        frame: FrameNumber,
        /// Stream offset of the first missing byte.
        offset: u64,
        /// Number of missing bytes.
        len: u64,
    },
    /// The direction ended: nothing more will come this way.
    End {
        /// The direction that ended.
        direction: Direction,
        /// The packet that ended it (the FIN, or the RST; for the other causes the packet
        /// being processed when the end was noticed).
        frame: FrameNumber,
        /// Stream offset of the end (the direction's length).
        offset: u64,
        /// How it ended.
        cause: EndCause,
    },
}

/// Keeps the bytes of one stream.
#[derive(Debug)]
pub struct Follow {
    stream: u64,
    chunks: Vec<FollowChunk>,
    row: Option<Stream>,
}

impl Follow {
    /// Follows stream `stream` (Wireshark's `tcp.stream`).
    pub fn new(stream: u64) -> Self {
        Follow {
            stream,
            chunks: Vec::new(),
            row: None,
        }
    }

    /// The pieces, in delivery order, and the stream's row when the capture has the stream
    /// (call after the run).
    pub fn into_parts(self) -> (Vec<FollowChunk>, Option<Stream>) {
        (self.chunks, self.row)
    }
}

impl StreamConsumer for Follow {
    fn on_event(&mut self, e: &StreamEvent<'_>, at: At) {
        if e.stream.0 != self.stream {
            return;
        }
        let direction = e.direction;
        match e.event {
            Event::Data {
                frame,
                offset,
                bytes,
            } => self.chunks.push(FollowChunk::Data {
                direction,
                frame,
                offset,
                bytes: bytes.to_vec(),
            }),
            Event::Gap { offset, len, .. } => self.chunks.push(FollowChunk::Gap {
                direction,
                offset,
                len,
            }),
            Event::NotCaptured { frame, offset, len } => {
                self.chunks.push(FollowChunk::NotCaptured {
                    direction,
                    frame,
                    offset,
                    len,
                });
            }
            Event::End { offset, cause } => self.chunks.push(FollowChunk::End {
                direction,
                frame: at.frame,
                offset,
                cause,
            }),
            _ => {}
        }
    }

    fn on_stream_end(&mut self, row: &Stream, _at: At) {
        if row.id.0 == self.stream {
            self.row = Some(row.clone());
        }
    }
}

/// The frame of the FIN that `direction`'s sender sent, as the stream's close state records
/// it (`None` when the close state does not name it).
pub fn fin_frame(close: &CloseState, direction: Direction) -> Option<FrameNumber> {
    match *close {
        CloseState::HalfClosed { by, fin } if by == direction => Some(fin),
        CloseState::FourWay {
            first_by,
            first_fin,
            second_fin,
            ..
        } => Some(if first_by == direction {
            first_fin
        } else {
            second_fin
        }),
        CloseState::Simultaneous {
            client_fin,
            server_fin,
        } => Some(match direction {
            Direction::ClientToServer => client_fin,
            Direction::ServerToClient => server_fin,
        }),
        _ => None,
    }
}

/// The side that sent the RST in `frame`, as the stream's close state records it.
pub fn rst_sender(close: &CloseState, frame: FrameNumber) -> Option<Direction> {
    match *close {
        CloseState::Reset { by, frame: f } if f == frame => Some(by),
        _ => None,
    }
}
