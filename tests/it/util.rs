//! Helpers: run the binary, locate fixtures and the shared public corpus.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Path of the built `pcaplab` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pcaplab"))
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fixture file by name.
pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// `../shared/captures/public` when present (it is in development sessions and CI, not on a
/// user's clone).
pub fn public_corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public");
    dir.is_dir().then_some(dir)
}

/// Runs `pcaplab` with `args`, with colours off and no terminal.
pub fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run pcaplab")
}

/// Runs `pcaplab` with `args` and `input` on standard input.
pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pcaplab");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses NDJSON output into values.
pub fn ndjson(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad json line {l}: {e}")))
        .collect()
}

/// Prints an expected/got table of mismatches and fails when there are any.
pub fn assert_no_mismatch(what: &str, mismatches: &[String]) {
    if !mismatches.is_empty() {
        let shown: Vec<&String> = mismatches.iter().take(40).collect();
        panic!(
            "{what}: {} mismatches (first {}):\n{}",
            mismatches.len(),
            shown.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// `../shared/cases/NAME` (the small captures with known right answers) when it is there; a
/// note on stderr and `None` when `../shared` is absent, so the caller skips cleanly.
pub fn shared_case(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/cases")
        .join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("note: ../shared/cases/{name} is not present; skipped");
        None
    }
}

/// `NAME` from `../shared/cases`, else from the public corpus; `None` when neither has it.
pub fn shared_capture(name: &str) -> Option<PathBuf> {
    let cases = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/cases")
        .join(name);
    if cases.is_file() {
        return Some(cases);
    }
    let public = public_corpus()?.join(name);
    public.is_file().then_some(public)
}

/// A classic pcap (raw IPv4 link type) of UDP datagrams `(src, dst, payload)`, 1 ms apart.
pub fn udp_pcap(datagrams: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (i, (src, dst, payload)) in datagrams.iter().enumerate() {
        let (src, dst): (std::net::SocketAddrV4, std::net::SocketAddrV4) =
            (src.parse().unwrap(), dst.parse().unwrap());
        let builder = etherparse::PacketBuilder::ipv4(src.ip().octets(), dst.ip().octets(), 64)
            .udp(src.port(), dst.port());
        let mut packet = Vec::new();
        builder.write(&mut packet, payload).unwrap();
        out.extend_from_slice(&(1_700_000_000u32 + (i / 1000) as u32).to_le_bytes());
        out.extend_from_slice(&((i % 1000) as u32 * 1000).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}
