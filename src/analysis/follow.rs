//! `follow`: the reassembled bytes of one TCP stream, in the order they were delivered, with
//! the holes the capture left. A [`StreamConsumer`] that copies the chosen stream only.

use crate::app::consumer::{At, StreamConsumer};
use crate::flow::tcp::{Event, Stream, StreamEvent};
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
    /// Bytes that were never captured.
    Gap {
        /// Direction of the hole.
        direction: Direction,
        /// Stream offset of the hole.
        offset: u64,
        /// Its length.
        len: u64,
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
    fn on_event(&mut self, e: &StreamEvent<'_>, _at: At) {
        if e.stream.0 != self.stream {
            return;
        }
        match e.event {
            Event::Data {
                frame,
                offset,
                bytes,
            } => self.chunks.push(FollowChunk::Data {
                direction: e.direction,
                frame,
                offset,
                bytes: bytes.to_vec(),
            }),
            Event::Gap { offset, len, .. } => self.chunks.push(FollowChunk::Gap {
                direction: e.direction,
                offset,
                len,
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
