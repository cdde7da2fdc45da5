//! Overview statistics of a capture (`pcaplab stats`): protocol hierarchy by OSI layer,
//! endpoints with their annotations, ports with service names, TCP and UDP conversations, time
//! span, rates and the malformed count. Fed every packet in capture order; memory grows with the
//! number of distinct protocols, endpoints, ports and conversations, not with the packets.

use foldhash::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use etherparse::TransportSlice;
use serde::Serialize;

use crate::analysis::order::InOrder;
use crate::analysis::spill::Spill;
use crate::analysis::streams::StreamRow;
use crate::analysis::udp;
use crate::app::{Notes, PacketObserver};
use crate::decode::addr::{ip_notes, ipv4_class, port_range, service_name};
use crate::decode::{OsiLayer, Packet};
use crate::view::describe::layer_names;

/// One protocol of the hierarchy.
#[derive(Debug, Clone, Serialize)]
pub struct ProtocolCount {
    /// OSI layer number.
    pub osi: OsiLayer,
    /// Protocol name as in the layer list (`Ethernet`, `IPv4`, `TCP`, `TFTP`, ...).
    pub protocol: &'static str,
    /// Packets that carry it.
    pub packets: u64,
    /// Wire bytes of those packets.
    pub bytes: u64,
    /// Share of all packets, 0 to 1.
    pub share: f64,
}

/// One IP address seen.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// The address.
    pub address: IpAddr,
    /// IPv4 class (A–E), null for IPv6.
    pub class: Option<char>,
    /// `private`, `loopback`, `multicast`, `broadcast`, ...
    pub notes: Vec<&'static str>,
    /// Packets sent from it.
    pub packets_sent: u64,
    /// Wire bytes sent from it.
    pub bytes_sent: u64,
    /// Packets sent to it.
    pub packets_received: u64,
    /// Wire bytes sent to it.
    pub bytes_received: u64,
}

/// One TCP or UDP port seen (as source or destination).
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    /// `tcp` or `udp`.
    pub transport: &'static str,
    /// The port.
    pub port: u16,
    /// Usual service name, when known.
    pub service: Option<&'static str>,
    /// `well-known`, `registered` or `dynamic`.
    pub range: &'static str,
    /// Packets with this port on either side.
    pub packets: u64,
}

/// Everything `pcaplab stats` reports.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Wire bytes of all packets.
    pub bytes: u64,
    /// Packets labelled malformed or truncated.
    pub malformed: u64,
    /// Capture time of the first packet (seconds since the epoch).
    pub first_time: Option<f64>,
    /// Capture time of the last packet.
    pub last_time: Option<f64>,
    /// Seconds from the first to the last packet.
    pub duration: f64,
    /// Packets per second over the duration (null when it is zero).
    pub packets_per_second: Option<f64>,
    /// Bits per second over the duration.
    pub bits_per_second: Option<f64>,
    /// Protocol hierarchy, by OSI layer then packets.
    pub protocols: Vec<ProtocolCount>,
    /// IP endpoints, most packets first: the first [`Collector::with_max_endpoints`] addresses
    /// seen (see `endpoints_not_tracked`).
    pub endpoints: Vec<Endpoint>,
    /// Packets sent from or to an address that was not counted in `endpoints` because the list
    /// was full (each such packet once; absent when there were none).
    #[serde(skip_serializing_if = "is_zero")]
    pub endpoints_not_tracked: u64,
    /// TCP and UDP ports, most packets first.
    pub ports: Vec<Port>,
    /// TCP conversations (the rows of `pcaplab streams`), in memory up to a bound and then in
    /// a temporary file ([`Spill`]).
    pub tcp_conversations: Spill<StreamRow>,
    /// UDP conversations, in order of their first datagram, with the ICMP errors that
    /// answered them ([`udp::Conversation`]); in memory up to a bound and then in a temporary
    /// file, like the TCP ones.
    pub udp_conversations: Spill<udp::Conversation>,
    /// What the UDP conversation table counted (conversations timed out, evicted; ICMP errors
    /// about no live conversation).
    pub udp: udp::Counters,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Most IP addresses the endpoint list counts by default (about 60 bytes each while counting).
pub const DEFAULT_MAX_ENDPOINTS: usize = 100_000;

/// Accumulates statistics packet by packet.
#[derive(Debug)]
pub struct Collector {
    packets: u64,
    bytes: u64,
    malformed: u64,
    first: Option<Duration>,
    last: Option<Duration>,
    /// Few entries (one per protocol seen), so a list searched linearly.
    protocols: Vec<ProtocolCount>,
    endpoints: HashMap<IpAddr, [u64; 4]>,
    /// Most addresses in `endpoints`; later ones are not counted.
    max_endpoints: usize,
    /// Packets with an address that found `endpoints` full.
    endpoints_not_tracked: u64,
    /// Packets per port, TCP then UDP, indexed by port number (no hashing per packet).
    ports: Vec<[u64; 2]>,
    /// The UDP conversations (bounded: [`udp::Limits`]), and the rows of those that ended.
    udp: udp::Table,
    udp_rows: UdpRows,
    /// The layer names of the packet being counted (reused: no allocation per packet).
    names: Vec<(OsiLayer, &'static str)>,
}

impl Default for Collector {
    fn default() -> Self {
        Collector {
            packets: 0,
            bytes: 0,
            malformed: 0,
            first: None,
            last: None,
            protocols: Vec::new(),
            endpoints: HashMap::default(),
            max_endpoints: DEFAULT_MAX_ENDPOINTS,
            endpoints_not_tracked: 0,
            ports: Vec::new(),
            udp: udp::Table::default(),
            udp_rows: UdpRows::default(),
            names: Vec::new(),
        }
    }
}

impl Collector {
    /// A collector with nothing counted.
    pub fn new() -> Self {
        Collector::default()
    }

    /// The same collector with an endpoint list of at most `max` addresses (at least 1): the
    /// first `max` addresses seen are counted, packets of later ones only in
    /// [`Stats::endpoints_not_tracked`]. Memory stays bounded whatever the number of addresses.
    pub fn with_max_endpoints(mut self, max: usize) -> Self {
        self.max_endpoints = max.max(1);
        self
    }

    /// A collector whose UDP conversation table has these bounds.
    pub fn with_udp_limits(limits: udp::Limits) -> Self {
        Collector {
            udp: udp::Table::new(limits),
            ..Collector::default()
        }
    }

    /// Counts one packet, with the notes the engine gathered for it.
    pub fn on_packet(&mut self, packet: &Packet<'_>, notes: &Notes<'_>) {
        let len = u64::from(packet.frame.original_len);
        let ts = packet.frame.timestamp;
        self.packets += 1;
        self.bytes += len;
        self.first.get_or_insert(ts);
        self.last = Some(ts);
        if packet.malformed.is_some() || notes.app.as_ref().is_some_and(|a| a.is_malformed()) {
            self.malformed += 1;
        }
        let mut names = std::mem::take(&mut self.names);
        names.clear();
        layer_names(packet, notes.app.as_ref().map(|a| a.protocol()), &mut names);
        for (i, (osi, name)) in names.iter().enumerate() {
            // A protocol counts once per packet, like tshark's `frame.protocols`: a QinQ frame
            // has two VLAN tags but is one packet carrying VLAN.
            if names
                .get(..i)
                .is_some_and(|before| before.contains(&(*osi, *name)))
            {
                continue;
            }
            match self
                .protocols
                .iter_mut()
                .find(|p| p.osi == *osi && (std::ptr::eq(p.protocol, *name) || p.protocol == *name))
            {
                Some(p) => {
                    p.packets += 1;
                    p.bytes += len;
                }
                None => self.protocols.push(ProtocolCount {
                    osi: *osi,
                    protocol: name,
                    packets: 1,
                    bytes: len,
                    share: 0.0,
                }),
            }
        }
        self.names = names;
        let Some((src, dst)) = packet.ip_addrs() else {
            return;
        };
        self.udp.on_packet(packet);
        let rows = &mut self.udp_rows;
        self.udp.drain_ended(|c| rows.push(c));
        let full = self.endpoints.len() >= self.max_endpoints;
        let mut untracked = false;
        match self.endpoints.get_mut(&src) {
            Some(s) => {
                s[0] += 1;
                s[1] += len;
            }
            None if full => untracked = true,
            None => {
                self.endpoints.insert(src, [1, len, 0, 0]);
            }
        }
        let full = self.endpoints.len() >= self.max_endpoints;
        match self.endpoints.get_mut(&dst) {
            Some(d) => {
                d[2] += 1;
                d[3] += len;
            }
            None if full => untracked = true,
            None => {
                self.endpoints.insert(dst, [0, 0, 1, len]);
            }
        }
        self.endpoints_not_tracked += u64::from(untracked);
        let udp = match packet.transport() {
            Some(TransportSlice::Udp(_)) => true,
            Some(TransportSlice::Tcp(_)) => false,
            None if packet.partial_tcp().is_some() => false,
            _ => return,
        };
        let Some((sport, dport)) = packet.ports() else {
            return;
        };
        if self.ports.is_empty() {
            self.ports = vec![[0; 2]; usize::from(u16::MAX) + 1];
        }
        let t = usize::from(udp);
        for port in [sport, dport]
            .into_iter()
            .take(if dport == sport { 1 } else { 2 })
        {
            if let Some(c) = self
                .ports
                .get_mut(usize::from(port))
                .and_then(|p| p.get_mut(t))
            {
                *c += 1;
            }
        }
    }
}

/// Most UDP rows held back to hand them out in order of first datagram.
const UDP_ORDER_WINDOW: usize = 65_536;

/// The rows of the UDP conversations that ended, put back in order of first datagram (they
/// end in any order) through a bounded window, into a list that spills to a temporary file.
#[derive(Debug)]
struct UdpRows {
    order: InOrder<udp::Conversation>,
    list: Spill<udp::Conversation>,
}

impl Default for UdpRows {
    fn default() -> Self {
        UdpRows::new(UDP_ORDER_WINDOW, crate::analysis::spill::IN_MEMORY)
    }
}

impl UdpRows {
    fn new(window: usize, in_memory: usize) -> Self {
        UdpRows {
            order: InOrder::new(window),
            list: Spill::with_capacity(in_memory),
        }
    }

    fn push(&mut self, c: udp::Conversation) {
        let list = &mut self.list;
        self.order.push(c.id, Some(c), &mut |c| list.push(c));
    }

    fn finish(mut self) -> std::io::Result<Spill<udp::Conversation>> {
        let list = &mut self.list;
        self.order.flush(&mut |c| list.push(c));
        self.list.flush()?;
        Ok(self.list)
    }
}

impl PacketObserver for Collector {
    fn on_packet(&mut self, packet: &Packet<'_>, notes: &Notes<'_>) {
        Collector::on_packet(self, packet, notes);
    }
}

impl Collector {
    /// The statistics, with the TCP conversations from the stream table.
    ///
    /// # Errors
    /// Writing the UDP conversations to their temporary file failed.
    pub fn finish(mut self, tcp: Spill<StreamRow>) -> std::io::Result<Stats> {
        let rows = &mut self.udp_rows;
        self.udp.finish(|c| rows.push(c));
        let udp_conversations = self.udp_rows.finish()?;
        let total = self.packets.max(1) as f64;
        let mut protocols = self.protocols;
        for p in &mut protocols {
            p.share = p.packets as f64 / total;
        }
        protocols.sort_by(|x, y| {
            x.osi
                .cmp(&y.osi)
                .then(y.packets.cmp(&x.packets))
                .then(x.protocol.cmp(y.protocol))
        });
        let mut endpoints: Vec<Endpoint> = self
            .endpoints
            .into_iter()
            .map(|(address, [ps, bs, pr, br])| Endpoint {
                address,
                class: match address {
                    IpAddr::V4(a) => Some(ipv4_class(a)),
                    IpAddr::V6(_) => None,
                },
                notes: ip_notes(address),
                packets_sent: ps,
                bytes_sent: bs,
                packets_received: pr,
                bytes_received: br,
            })
            .collect();
        endpoints.sort_by(|x, y| {
            (y.packets_sent + y.packets_received)
                .cmp(&(x.packets_sent + x.packets_received))
                .then(x.address.cmp(&y.address))
        });
        let mut ports: Vec<Port> = Vec::new();
        for (port, counts) in (0..=u16::MAX).zip(&self.ports) {
            for (transport, &packets) in ["tcp", "udp"].into_iter().zip(counts) {
                if packets > 0 {
                    ports.push(Port {
                        transport,
                        port,
                        service: service_name(port),
                        range: port_range(port),
                        packets,
                    });
                }
            }
        }
        ports.sort_by(|x, y| {
            y.packets
                .cmp(&x.packets)
                .then(x.transport.cmp(y.transport))
                .then(x.port.cmp(&y.port))
        });
        let duration = match (self.first, self.last) {
            (Some(f), Some(l)) => l.saturating_sub(f).as_secs_f64(),
            _ => 0.0,
        };
        Ok(Stats {
            packets: self.packets,
            bytes: self.bytes,
            malformed: self.malformed,
            first_time: self.first.map(|d| d.as_secs_f64()),
            last_time: self.last.map(|d| d.as_secs_f64()),
            duration,
            packets_per_second: (duration > 0.0).then(|| self.packets as f64 / duration),
            bits_per_second: (duration > 0.0).then(|| self.bytes as f64 * 8.0 / duration),
            protocols,
            endpoints,
            endpoints_not_tracked: self.endpoints_not_tracked,
            ports,
            tcp_conversations: tcp,
            udp_conversations,
            udp: self.udp.counters(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64) -> udp::Conversation {
        udp::Conversation {
            id,
            a: "10.0.0.1:1000".parse().unwrap(),
            b: "10.0.0.2:7".parse().unwrap(),
            packets_a_to_b: id,
            bytes_a_to_b: 0,
            payload_bytes_a_to_b: 0,
            packets_b_to_a: 0,
            bytes_b_to_a: 0,
            payload_bytes_b_to_a: 0,
            first_frame: id + 1,
            last_frame: id + 1,
            duration: 0.0,
            icmp_errors: Vec::new(),
            icmp_errors_total: 0,
            end: udp::End::TimedOut,
        }
    }

    #[test]
    fn udp_rows_come_back_in_order_from_memory_and_disk() {
        // Three rows in memory, the rest in the temporary file; ends out of order.
        let mut rows = UdpRows::new(4, 3);
        for id in [2, 0, 1, 5, 3, 4, 9, 7, 8, 6] {
            rows.push(row(id));
        }
        let list = rows.finish().unwrap();
        let mut ids = Vec::new();
        list.for_each(|c| {
            ids.push((c.id, c.packets_a_to_b));
            Ok(())
        })
        .unwrap();
        assert_eq!(ids, (0..10).map(|i| (i, i)).collect::<Vec<_>>());
    }
}
