//! Tuning of the TFTP tracker, and the block size limit it warns about.

use std::time::Duration;

use super::SERVER_PORT;

/// The largest block size whose DATA fits an Ethernet frame without IP fragmentation:
/// 1500 (MTU) − 20 (IPv4) − 8 (UDP) − 4 (TFTP header). RFC 2348 §1 gives this example.
pub(super) const UNFRAGMENTED_BLOCK_SIZE: u64 = 1468;

/// What one out-of-order block costs beyond its bytes: the map entry and the vector header
/// (counted so that many tiny blocks cannot hold more memory than the limit says).
pub(super) const BUFFER_ENTRY_OVERHEAD: usize = 64;

/// Tuning of the tracker. `Default` suits normal captures; every bound holds whatever the
/// capture (memory: about 2 KB per transfer in flight plus the buffered DATA).
#[derive(Debug, Clone)]
pub struct Config {
    /// Ports a RRQ/WRQ may be sent to (`--tftp-port`); 69 by default.
    pub server_ports: Vec<u16>,
    /// A request with no answer for this long (capture time) ends as `no_answer`.
    pub request_timeout: Duration,
    /// A transfer with no packet for this long ends as `idle_timeout`. RFC 2349 allows
    /// retransmission timeouts up to 255 s, hence the generous default.
    pub idle_timeout: Duration,
    /// How long a finished (complete or failed) transfer still claims its packets, so that a
    /// retransmitted final DATA or ACK (RFC 1350 §6 "dallying") or an ICMP error answering
    /// them is counted, not lost. Its result is handed out after that.
    pub linger: Duration,
    /// Most transfers tracked at once; past it the one closest to its expiry (a finished one
    /// first, else the least recently active) is ended as `evicted`.
    pub max_active: usize,
    /// Most bytes of out-of-order DATA buffered per transfer while waiting for a missing block
    /// (each block counted with its bookkeeping).
    pub max_buffered_bytes: usize,
    /// Most bytes of out-of-order DATA buffered by all transfers together.
    pub max_buffered_total: usize,
    /// Most separate runs of blocks remembered per transfer (each capture gap adds one).
    pub max_block_ranges: usize,
    /// How long a data sender may wait for an ACK before it should have re-sent its DATA
    /// (RFC 1350 §2). Waiting longer, until the other side repeats itself, is reported. An
    /// accepted `timeout` option (RFC 2349) raises it to that timeout plus one second.
    pub retransmit_wait: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server_ports: vec![SERVER_PORT],
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            linger: Duration::from_secs(10),
            max_active: 4096,
            max_buffered_bytes: 256 * 1024,
            max_buffered_total: 32 * 1024 * 1024,
            max_block_ranges: 1024,
            retransmit_wait: Duration::from_secs(3),
        }
    }
}
