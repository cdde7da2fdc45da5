//! IP fragment reassembly (IPv4, RFC 791 §3.2; IPv6 Fragment header, RFC 8200 §4.5).
//!
//! In: [`Fragment`]s read from decoded packets ([`Fragment::from_packet`]), with their frame
//! number and capture time. Out: [`Push`] per fragment — pending, a complete [`Datagram`]
//! (payload and frame list borrowed until the next call), or dropped with a [`DropReason`] —
//! plus the [`Dropped`] datagrams with their frames and [`Counters`]. A complete datagram's
//! transport layer decodes to the same etherparse views as an unfragmented packet's
//! ([`Datagram::transport`], [`Datagram::to_packet`]).
//!
//! Per packet, in capture order:
//!
//! ```
//! use pcaplab::capture::CaptureReader;
//! use pcaplab::decode;
//! use pcaplab::flow::ip::{Defragmenter, Fragment, Push};
//!
//! let mut reader = CaptureReader::open("fixtures/netns-frag-icmp.pcap")?;
//! let mut defrag = Defragmenter::default();
//! let (mut whole, mut fragments, mut never) = (0, 0, 0);
//! while let Some(frame) = reader.next_frame() {
//!     let frame = frame?;
//!     let packet = decode::decode(&frame);
//!     match Fragment::from_packet(&packet) {
//!         // Not a fragment: the consumers take `packet` as it is.
//!         None => {
//!             defrag.expire(frame.timestamp);
//!         }
//!         Some(f) => {
//!             fragments += 1; // a fragment stays a layer-3 packet
//!             if let Push::Complete(d) = defrag.push(frame.number, frame.timestamp, &f) {
//!                 // The consumers take the whole datagram, decoded at layers 4 and 7.
//!                 let reassembled = d.to_packet(&packet);
//!                 assert!(reassembled.transport().is_some());
//!                 whole += 1;
//!             }
//!         }
//!     }
//!     // Datagrams given up (timeout, limits): their frames never reached layer 4.
//!     never += defrag.drain_dropped().count();
//! }
//! defrag.finish();
//! never += defrag.drain_dropped().count();
//! assert_eq!((fragments, whole, never), (30, 9, 0));
//! # Ok::<(), pcaplab::Error>(())
//! ```
//!
//! It does not decide what a datagram means (that is for the TCP and UDP consumers) nor label
//! packets for display (that is `view`).
//!
//! Why not etherparse's `defrag::IpDefragPool`: it takes strict `SlicedPacket`s (pcaplab decodes
//! laxly), is unbounded (its docs say it is not safe against memory exhaustion), has no expiry
//! by capture time other than an O(n) `retain`, lets a later copy overwrite earlier bytes with no
//! conflict flag, keeps no record of which frames supplied a datagram, keys IPv6 datagrams by
//! VLAN and Next Header too (RFC 8200 §4.5 keys by addresses and identification), rejects
//! unaligned middle fragments that Wireshark and Linux accept, and hands out an owned `Vec`
//! per datagram.

mod defrag;
mod fragment;
mod transport;

pub use defrag::{
    Counters, DEFAULT_BUDGET_BYTES, DEFAULT_MAX_FRAGMENTS, DEFAULT_TIMEOUT, Datagram, Defragmenter,
    DropReason, Dropped, Limits, MAX_PAYLOAD_LEN, Push,
};
pub use fragment::{Fragment, Key};
