//! Tuning of the TFTP tracker, and the block size limit it warns about.

use std::path::PathBuf;
use std::time::Duration;

use super::SERVER_PORT;

/// The largest block size whose DATA fits an Ethernet frame without IP fragmentation:
/// 1500 (MTU) − 20 (IPv4) − 8 (UDP) − 4 (TFTP header). RFC 2348 §1 gives this example.
pub(super) const UNFRAGMENTED_BLOCK_SIZE: u64 = 1468;

/// Tuning of the tracker. `Default` suits normal captures.
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
    /// retransmitted final DATA or ACK (RFC 1350 §6 "dallying") is counted, not lost.
    pub linger: Duration,
    /// Most transfers tracked at once; past it the least recently active one is ended.
    pub max_active: usize,
    /// Most bytes of out-of-order DATA buffered per transfer while waiting for a missing block.
    pub max_buffered_bytes: usize,
    /// Most separate runs of blocks remembered per transfer (each capture gap adds one).
    pub max_block_ranges: usize,
    /// Write each transferred file into this directory (`--extract DIR`).
    pub extract_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server_ports: vec![SERVER_PORT],
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            linger: Duration::from_secs(10),
            max_active: 4096,
            max_buffered_bytes: 1 << 20,
            max_block_ranges: 1024,
            extract_dir: None,
        }
    }
}
