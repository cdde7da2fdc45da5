//! Display filters in Wireshark's syntax (wireshark-filter(4), as tshark 4.0 reads it): compile
//! the text once with [`Filter::compile`], then ask [`Filter::matches`] for each packet. Field
//! values come from a [`FieldSource`]: [`PacketFields`] answers what a decoded packet says by
//! itself, [`Annotations`] what only the engine knows (TCP streams, TFTP, HTTP). Evaluation
//! allocates nothing; every name and literal is resolved at compile time.
//!
//! This module owns the language and the field names. It does not read captures, run the engine
//! or print; the commands that take `-Y` do that.
//!
//! ```
//! use pcaplab::view::filter::{Filter, PacketFields};
//!
//! let filter = Filter::compile("tcp.port == 80 && tcp.flags.syn == 1")?;
//! let mut reader = pcaplab::capture::CaptureReader::open("fixtures/http-get.pcap")?;
//! let mut first = None;
//! while let Some(frame) = reader.next_frame() {
//!     let frame = frame?;
//!     let first = *first.get_or_insert(frame.timestamp);
//!     let packet = pcaplab::decode::decode(&frame);
//!     if filter.matches(&PacketFields::new(&packet, first)) {
//!         println!("{}", frame.number);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Syntax
//!
//! | form | meaning |
//! |---|---|
//! | `tcp`, `tcp.port` | the protocol or field is present |
//! | `f == v`, `f eq v`, `f any_eq v` | some occurrence of `f` equals `v` |
//! | `f != v`, `f ne v`, `f all_ne v` | `f` is present and no occurrence equals `v` (Wireshark 4.0: `ip.addr != X` is `!(ip.addr == X)` restricted to packets with an address) |
//! | `f === v`, `all_eq`; `f !== v`, `any_ne` | every occurrence equals; some occurrence differs |
//! | `>` `<` `>=` `<=`, `gt lt ge le` | some occurrence compares so |
//! | `any f OP v`, `all f OP v` | choose explicitly whether one or every occurrence must pass |
//! | `f in {a, b, c..d}`, `f not in {…}` | membership, with inclusive ranges (commas optional, as before Wireshark 4.0) |
//! | `f contains v` | byte or string fields and protocols contain `v` (`"GET"` or `47:45:54`) |
//! | `f matches "re"`, `f ~ "re"` | regular expression, case-insensitive unless `(?-i)` |
//! | `f & mask`, `f & mask == v` | bits of an integer field (`tcp.flags & 0x12 == 0x12`) |
//! | `f1 == f2` | compare two fields, occurrence by occurrence |
//! | `!`/`not`, `&&`/`and`, `\|\|`/`or`, `( )` | precedence `not` > `and` > `or` |
//!
//! Literals: integers in decimal, hex `0x50`, octal `0120`, binary `0b101`, or a character
//! `'A'`; booleans `True`/`False` (or any number, non-zero is true); IPv4 and IPv6 addresses
//! with an optional CIDR prefix (`10.0.0.0/8`, `fe80::/10`); MAC addresses and byte strings
//! with `:`, `-` or `.` separators; strings in double quotes with C escapes (`\"`, `\\`, `\n`,
//! `\x41`, `\101`, `\u00e9`) or raw `r"…"`; times in seconds (`1.5`). Host names are not
//! resolved. Not supported: slices (`eth.src[0:3]`), layer operators (`ip.src#2`), functions
//! (`len()`, `count()`, `lower()`), arithmetic, field references (`${…}`).
//!
//! Errors name the column of the bad token: `filter: column 1: unknown field "tcp.prot"; did
//! you mean "tcp.port"?` ([`FilterError`]).
//!
//! # Fields
//!
//! From the packet ([`PacketFields`]):
//! `frame`, `frame.number`, `frame.len`, `frame.cap_len`, `frame.time_relative`;
//! `eth`, `eth.src`, `eth.dst`, `eth.addr`, `eth.type`; `vlan`, `vlan.id`; `arp`, `arp.opcode`;
//! `ip`, `ip.src`, `ip.dst`, `ip.addr`, `ip.proto`, `ip.ttl`, `ip.flags.df`, `ip.flags.mf`,
//! `ip.frag_offset` (8-byte units), `ip.len`, `ip.id`, `ip.hdr_len`;
//! `ipv6`, `ipv6.src`, `ipv6.dst`, `ipv6.addr`, `ipv6.nxt`, `ipv6.hlim`, `ipv6.plen`;
//! `icmp`, `icmp.type`, `icmp.code`; `icmpv6`, `icmpv6.type`, `icmpv6.code`;
//! `tcp`, `tcp.port`, `tcp.srcport`, `tcp.dstport`, `tcp.flags` (12 bits), `tcp.flags.cwr`,
//! `tcp.flags.ece`, `tcp.flags.urg`, `tcp.flags.ack`, `tcp.flags.push`, `tcp.flags.reset`,
//! `tcp.flags.syn`, `tcp.flags.fin`, `tcp.len`, `tcp.seq_raw`, `tcp.ack_raw`, `tcp.hdr_len`,
//! `tcp.window_size_value`, `tcp.urgent_pointer`, `tcp.payload`;
//! `udp`, `udp.port`, `udp.srcport`, `udp.dstport`, `udp.length`, `udp.payload`;
//! `osi.layer` (pcaplab's own: the OSI number of each layer present, so `osi.layer == 7` is a
//! packet with an application layer).
//!
//! From the engine ([`Annotations`], made from the engine's notes on a packet by
//! [`NoteFields`]; [`Filter::needs_annotations`] says a filter uses them):
//! `tcp.stream`, `tcp.seq` and `tcp.ack` (relative, as tshark shows them by default),
//! `tcp.nxtseq`, `tcp.window_size`, `tcp.analysis.flags`, `tcp.analysis.retransmission`,
//! `tcp.analysis.fast_retransmission`, `tcp.analysis.spurious_retransmission`,
//! `tcp.analysis.out_of_order`, `tcp.analysis.lost_segment`, `tcp.analysis.ack_lost_segment`,
//! `tcp.analysis.duplicate_ack`, `tcp.analysis.zero_window`, `tcp.analysis.zero_window_probe`,
//! `tcp.analysis.zero_window_probe_ack`, `tcp.analysis.keep_alive`,
//! `tcp.analysis.keep_alive_ack`, `tcp.analysis.window_update`, `tcp.analysis.window_full`;
//! `tftp`, `tftp.opcode`, `tftp.block`, `tftp.source_file`, `tftp.destination_file`, `tftp.type`,
//! `tftp.error.code`, `tftp.error.message`; `http`, `http.request`, `http.response`,
//! `http.request.method`, `http.request.uri`, `http.request.version`, `http.response.code`,
//! `http.response.phrase`, `http.host`, `http.content_length`.
//!
//! A field that occurs twice in a packet (`ip.addr`, `tcp.port`, `eth.addr`, `vlan.id`,
//! `osi.layer`) is tested occurrence by occurrence, as in Wireshark. Headers inside ICMP errors
//! and tunnels are not decoded, so their fields are absent. A packet whose fragment completes
//! an IP datagram carries the whole datagram when the engine hands it over (its TCP or UDP
//! fields are the datagram's, as in tshark); [`PacketFields`] on a decoded fragment alone sees
//! layer 3 only. An HTTP message's fields are on the packet where the message ends, as tshark
//! (which reassembles messages) shows them.

mod annotations;
mod compile;
mod error;
mod eval;
mod fields;
mod notes;
mod packet;
mod parse;
mod value;

use std::fmt;
use std::str::FromStr;

pub use annotations::{Annotations, HttpAnnotation, TcpAnalysis, TcpAnnotation, TftpAnnotation};
pub use error::FilterError;
pub use fields::{FIELDS, FieldId, FieldInfo, FieldKind, Origin};
pub use notes::NoteFields;
pub use packet::PacketFields;
pub use value::Value;

/// Where a filter gets field values for one packet.
///
/// `visit` calls `out` once per occurrence of `field` in the packet, in packet order, and not
/// at all when the field is absent. It must not allocate: values borrow the packet or the
/// implementor. Sources that know nothing about a field simply do not call `out`, so two
/// sources can be combined with a tuple: `(PacketFields::new(..), &annotations)`.
pub trait FieldSource {
    /// Hands every occurrence of `field` to `out`.
    fn visit(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>));
}

impl<T: FieldSource + ?Sized> FieldSource for &T {
    fn visit(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        (**self).visit(field, out);
    }
}

impl<A: FieldSource, B: FieldSource> FieldSource for (A, B) {
    fn visit(&self, field: FieldId, out: &mut dyn FnMut(Value<'_>)) {
        self.0.visit(field, out);
        self.1.visit(field, out);
    }
}

/// A compiled display filter.
#[derive(Debug, Clone)]
pub struct Filter {
    text: String,
    root: compile::Node,
    needs_annotations: bool,
}

impl Filter {
    /// Compiles a filter written in Wireshark's display-filter syntax.
    ///
    /// # Errors
    /// [`FilterError`] naming the column of the first bad token: a syntax error, an unknown
    /// field (with the nearest known name), a literal that does not fit the field's type, an
    /// operator the field does not support, or a bad regular expression.
    pub fn compile(text: &str) -> Result<Filter, FilterError> {
        let compiled = compile::compile(text)?;
        Ok(Filter {
            text: text.to_string(),
            root: compiled.root,
            needs_annotations: compiled.needs_annotations,
        })
    }

    /// True when the packet whose fields `source` gives passes the filter. Allocates nothing.
    pub fn matches(&self, source: &impl FieldSource) -> bool {
        eval::eval(&self.root, source)
    }

    /// True when the filter names a field only the engine's [`Annotations`] provide; with
    /// [`PacketFields`] alone such a field is always absent.
    pub fn needs_annotations(&self) -> bool {
        self.needs_annotations
    }

    /// The filter as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::compile(s)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests;
