//! The one integration-test binary: runs the real `pcaplab` executable on captures and compares
//! what it prints with independent references (tshark output, truth files written by the
//! programs that generated the fixtures).

mod bounded;
mod capture;
mod cli;
mod damaged;
mod extract;
mod filter;
mod fixes;
mod grade;
mod http;
mod icmp;
mod ladder;
mod layers;
mod network;
mod reference;
mod regression;
mod stats;
mod sticky;
mod streams;
mod tcp_analysis;
mod terminal;
mod tftp;
mod tshark;
mod util;
