//! The extraction sink under attack: symlinks, clashes, hostile names, a crash, a gzip bomb, and
//! more concurrent files than descriptors. Every setup is made inside a fresh temporary
//! directory; references are independent (sha2 of the known plaintext, `sha256sum`, the RFC
//! rule).

use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcaplab::extract::{Coding, Dir, Error, Extracted, Limits, Options, SafeName, Stop};
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `root/out` (the extraction directory) and `root/outside` holding `target.txt`.
struct Setup {
    _root: tempfile::TempDir,
    out: PathBuf,
    outside: PathBuf,
    target: PathBuf,
}

fn setup() -> Setup {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let outside = root.path().join("outside");
    std::fs::create_dir(&out).unwrap();
    std::fs::create_dir(&outside).unwrap();
    let target = outside.join("target.txt");
    std::fs::write(&target, b"precious").unwrap();
    Setup {
        _root: root,
        out,
        outside,
        target,
    }
}

fn extract_one(dir: &mut Dir, raw_name: &[u8], data: &[u8]) -> Extracted {
    let id = dir
        .create(&SafeName::new(raw_name), Coding::Identity)
        .unwrap();
    dir.write(id, data).unwrap();
    dir.finish(id, true).unwrap()
}

#[test]
fn symlink_named_like_the_file_is_not_followed() {
    let s = setup();
    symlink(&s.target, s.out.join("report.txt")).unwrap();
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let x = extract_one(&mut dir, b"report.txt", b"from the capture");
    assert_eq!(std::fs::read(&s.target).unwrap(), b"precious");
    assert!(
        std::fs::symlink_metadata(s.out.join("report.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        (x.file_name.as_str(), x.clash, x.complete),
        ("report-1.txt", true, true)
    );
    assert_eq!(
        std::fs::read(s.out.join("report-1.txt")).unwrap(),
        b"from the capture"
    );
}

#[test]
fn symlink_named_like_the_part_file_is_not_followed() {
    let s = setup();
    symlink(&s.target, s.out.join("report.txt.part")).unwrap();
    // A dangling symlink counts as taken too (O_EXCL refuses it; O_CREAT alone would create
    // its target).
    symlink(s.outside.join("new.txt"), s.out.join("report-1.txt.part")).unwrap();
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let x = extract_one(&mut dir, b"report.txt", b"data");
    assert_eq!(std::fs::read(&s.target).unwrap(), b"precious");
    assert!(!s.outside.join("new.txt").exists());
    assert_eq!((x.file_name.as_str(), x.clash), ("report-2.txt", true));
    assert_eq!(listing(&s.outside), ["target.txt"]);
}

#[test]
fn symlink_to_a_directory_is_never_entered() {
    let s = setup();
    symlink(&s.outside, s.out.join("sub")).unwrap();
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let names: [&[u8]; 4] = [b"sub/x", b"sub\\x", b"sub/target.txt", b"sub"];
    let written: Vec<String> = names
        .iter()
        .map(|n| extract_one(&mut dir, n, b"data").file_name)
        .collect();
    assert_eq!(written, ["x", "x-1", "target.txt", "sub-1"]);
    assert_eq!(listing(&s.outside), ["target.txt"]);
    assert_eq!(std::fs::read(&s.target).unwrap(), b"precious");
    assert_eq!(listing(&s.out), ["sub", "sub-1", "target.txt", "x", "x-1"]);
}

#[test]
fn existing_file_is_never_replaced() {
    let s = setup();
    std::fs::write(s.out.join("a.txt"), b"old").unwrap();
    std::fs::create_dir(s.out.join("b.txt")).unwrap();
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let a = extract_one(&mut dir, b"a.txt", b"new");
    let b = extract_one(&mut dir, b"b.txt", b"new");
    assert_eq!(std::fs::read(s.out.join("a.txt")).unwrap(), b"old");
    assert_eq!((a.file_name.as_str(), a.clash), ("a-1.txt", true));
    assert_eq!((b.file_name.as_str(), b.clash), ("b-1.txt", true));
    // A file that appears under the final name while the sink is being written is not
    // replaced either: the rename moves on to the next free name.
    let id = dir
        .create(&SafeName::new(b"c.txt"), Coding::Identity)
        .unwrap();
    dir.write(id, b"ours").unwrap();
    std::fs::write(s.out.join("c.txt"), b"theirs").unwrap();
    let c = dir.finish(id, true).unwrap();
    assert_eq!((c.file_name.as_str(), c.clash), ("c-1.txt", true));
    assert_eq!(std::fs::read(s.out.join("c.txt")).unwrap(), b"theirs");
    assert_eq!(std::fs::read(s.out.join("c-1.txt")).unwrap(), b"ours");
}

#[test]
fn hostile_names_become_one_plain_component_in_the_directory() {
    let s = setup();
    let long = vec![b'n'; 300];
    let cases: Vec<(&[u8], String)> = vec![
        (b"../../etc/passwd", "passwd".into()),
        (b"/abs", "abs".into()),
        (b"-rf", "_-rf".into()),
        (b".hidden", "_.hidden".into()),
        ("a\u{202e}b".as_bytes(), "a_b".into()),
        (&long, "n".repeat(239)),
        (b"", "unnamed".into()),
        (b"a\0b", "a_b-1".into()),
        (b"..", "unnamed-1".into()),
        (b"../outside/target.txt", "target.txt".into()),
    ];
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    for (raw, expected) in &cases {
        let x = extract_one(&mut dir, raw, raw);
        assert_eq!(&x.file_name, expected, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(x.name.original(), *raw);
        assert_eq!(x.path, s.out.join(expected));
        // Every one of these had to be changed (or clashed), and says so.
        assert!(
            x.name.is_changed() || x.clash,
            "{:?}",
            String::from_utf8_lossy(raw)
        );
        assert_eq!(std::fs::read(s.out.join(expected)).unwrap(), *raw);
    }
    // Everything landed directly in `out` as plain files; nothing outside changed.
    let names = listing(&s.out);
    assert_eq!(names.len(), cases.len());
    for n in &names {
        let meta = std::fs::symlink_metadata(s.out.join(n)).unwrap();
        assert!(meta.file_type().is_file(), "{n}");
        assert!(n.len() <= 255 && !n.starts_with(['-', '.']), "{n}");
    }
    assert_eq!(listing(&s.outside), ["target.txt"]);
    assert_eq!(std::fs::read(&s.target).unwrap(), b"precious");
}

#[test]
fn data_is_in_the_part_file_until_finish() {
    let s = setup();
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let id = dir
        .create(&SafeName::new(b"big.bin"), Coding::Identity)
        .unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for piece in data.chunks(512) {
        dir.write(id, piece).unwrap();
        assert_eq!(listing(&s.out), ["big.bin.part"]);
    }
    let x = dir.finish(id, true).unwrap();
    assert_eq!(listing(&s.out), ["big.bin"]);
    assert_eq!(std::fs::read(s.out.join("big.bin")).unwrap(), data);
    assert_eq!(x.summary.written.sha256_hex(), sha256_hex(&data));
    assert_eq!(x.summary.written.size, data.len() as u64);
}

#[test]
fn incomplete_data_stays_in_the_part_file_and_says_so() {
    let s = setup();
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let id = dir
        .create(&SafeName::new(b"half.bin"), Coding::Identity)
        .unwrap();
    dir.write(id, b"first blocks").unwrap();
    let x = dir.finish(id, false).unwrap();
    assert!(!x.complete);
    assert_eq!(x.file_name, "half.bin.part");
    assert_eq!(listing(&s.out), ["half.bin.part"]);
    assert_eq!(x.summary.written.sha256_hex(), sha256_hex(b"first blocks"));
}

const CRASH_DIR: &str = "PCAPLAB_EXTRACT_TEST_DIR";

/// Run by `a_crash_mid_write_leaves_no_final_named_file` in a child process: finishes one file,
/// writes half of another and aborts.
#[test]
#[ignore = "helper: runs only as a child process of another test"]
fn crash_child_helper() {
    let out = PathBuf::from(std::env::var_os(CRASH_DIR).expect("run as a child"));
    let mut dir = Dir::open(&out, Options::default()).unwrap();
    extract_one(&mut dir, b"done.txt", b"complete");
    let id = dir
        .create(&SafeName::new(b"victim.txt"), Coding::Identity)
        .unwrap();
    for i in 0..1000u32 {
        dir.write(id, format!("line {i}\n").as_bytes()).unwrap();
    }
    std::process::abort();
}

#[test]
fn a_crash_mid_write_leaves_no_final_named_file() {
    let s = setup();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "extract::crash_child_helper",
            "--nocapture",
        ])
        .env(CRASH_DIR, &s.out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have aborted");
    assert_eq!(listing(&s.out), ["done.txt", "victim.txt.part"]);
    assert_eq!(std::fs::read(s.out.join("done.txt")).unwrap(), b"complete");
    let full: String = (0..1000u32).map(|i| format!("line {i}\n")).collect();
    let partial = std::fs::read(s.out.join("victim.txt.part")).unwrap();
    assert!(full.as_bytes().starts_with(&partial));
}

/// A gzip member of 1 MiB of zeros (about 1 KB), repeated: `members` MiB decoded.
fn gzip_bomb(members: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&vec![0u8; 1 << 20]).unwrap();
    e.finish().unwrap().repeat(members)
}

#[test]
fn a_gzip_bomb_stops_at_the_limit_and_says_so() {
    let s = setup();
    let bomb = gzip_bomb(1024); // ~1 MB on the wire, 1 GiB decoded
    assert!(bomb.len() < 1_100_000, "{}", bomb.len());
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let id = dir.create(&SafeName::new(b"bomb"), Coding::Gzip).unwrap();
    for piece in bomb.chunks(16 * 1024) {
        dir.write(id, piece).unwrap();
    }
    let x = dir.finish(id, true).unwrap();
    // The first 16 KiB of wire bytes allow max(1 MiB floor, 50 × 16 KiB): the floor.
    let limit = Limits::default().floor_bytes;
    assert!(!x.complete);
    assert_eq!(x.file_name, "bomb.part");
    let on_disk = std::fs::metadata(s.out.join("bomb.part")).unwrap().len();
    assert_eq!((x.summary.written.size, on_disk), (limit, limit));
    assert_eq!(
        x.summary.written.sha256_hex(),
        sha256_hex(&vec![0u8; limit as usize])
    );
    // Every wire byte is still counted.
    assert_eq!(x.summary.wire.sha256_hex(), sha256_hex(&bomb));
    let stop = x.summary.stop.unwrap();
    assert!(matches!(stop, Stop::Limit { .. }));
    assert!(
        stop.to_string().starts_with(
            "decoded output stopped at 1048576 bytes: limit of 50 decoded bytes per wire byte"
        ),
        "{stop}"
    );
}

#[test]
fn the_absolute_cap_holds_whatever_the_ratio() {
    let s = setup();
    let bomb = gzip_bomb(8);
    let options = Options {
        limits: Limits {
            ratio: u64::MAX,
            floor_bytes: 0,
            cap_bytes: 3 << 20,
        },
        ..Options::default()
    };
    let mut dir = Dir::open(&s.out, options).unwrap();
    let id = dir.create(&SafeName::new(b"bomb"), Coding::Gzip).unwrap();
    dir.write(id, &bomb).unwrap();
    let x = dir.finish(id, true).unwrap();
    assert_eq!(x.summary.written.size, 3 << 20);
    assert_eq!(
        x.summary.stop.unwrap().to_string(),
        "decoded output stopped at 3145728 bytes: limit of 3145728 bytes"
    );
}

#[test]
fn compressed_bodies_within_the_limits_are_decoded_whole() {
    let s = setup();
    let page: Vec<u8> = (0..5000u32)
        .flat_map(|i| format!("<li>item {i}</li>\n").into_bytes())
        .collect();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&page).unwrap();
        e.finish().unwrap()
    };
    let zlib = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&page).unwrap();
        e.finish().unwrap()
    };
    let raw = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&page).unwrap();
        e.finish().unwrap()
    };
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    for (name, coding, wire) in [
        ("gz", Coding::Gzip, &gz),
        ("zlib", Coding::Deflate, &zlib),
        ("raw", Coding::Deflate, &raw),
    ] {
        let id = dir.create(&SafeName::new(name.as_bytes()), coding).unwrap();
        for piece in wire.chunks(1000) {
            dir.write(id, piece).unwrap();
        }
        let x = dir.finish(id, true).unwrap();
        assert!(x.complete, "{name}: {:?}", x.summary.stop);
        assert_eq!(std::fs::read(s.out.join(name)).unwrap(), page, "{name}");
        assert_eq!(x.summary.written.sha256_hex(), sha256_hex(&page));
        assert_eq!(x.summary.wire.sha256_hex(), sha256_hex(wire));
    }
}

#[test]
fn netascii_reports_wire_and_decoded_fingerprints() {
    let s = setup();
    // RFC 854: CR LF is a line end, CR NUL a bare carriage return.
    let wire = b"line one\r\nline two\r\n\tcol\r\0umn\r\n".repeat(100);
    let decoded = String::from_utf8(wire.clone())
        .unwrap()
        .replace("\r\n", "\n")
        .replace("\r\0", "\r");
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let id = dir
        .create(&SafeName::new(b"notes.txt"), Coding::Netascii)
        .unwrap();
    for block in wire.chunks(512) {
        dir.write(id, block).unwrap();
    }
    let x = dir.finish(id, true).unwrap();
    assert_eq!(
        std::fs::read(s.out.join("notes.txt")).unwrap(),
        decoded.as_bytes()
    );
    assert_eq!(x.summary.wire.size, wire.len() as u64);
    assert_eq!(x.summary.wire.sha256_hex(), sha256_hex(&wire));
    assert_eq!(x.summary.written.size, decoded.len() as u64);
    assert_eq!(
        x.summary.written.sha256_hex(),
        sha256_hex(decoded.as_bytes())
    );
    assert_eq!(x.summary.netascii_invalid, 0);
}

const POOL_DIR: &str = "PCAPLAB_EXTRACT_POOL_DIR";
const POOL_SINKS: usize = 3000;
const POOL_ROUNDS: usize = 3;

/// What sink `i` receives in round `r`: sizes vary from a few bytes to a few KiB.
fn pool_piece(i: usize, r: usize) -> Vec<u8> {
    format!("sink {i} round {r};")
        .repeat(1 + (i * 7 + r * 13) % 200)
        .into_bytes()
}

/// Run by `three_thousand_concurrent_files_under_a_100_descriptor_limit` under `ulimit -n 100`:
/// 3,000 files open at once (as far as the caller knows), 64 descriptors at most.
#[test]
#[ignore = "helper: runs only as a child process of another test"]
fn pool_child_helper() {
    let out = PathBuf::from(std::env::var_os(POOL_DIR).expect("run as a child"));
    let options = Options {
        max_open: 64,
        ..Options::default()
    };
    let mut dir = Dir::open(&out.join("files"), options).unwrap();
    let ids: Vec<_> = (0..POOL_SINKS)
        .map(|i| {
            dir.create(
                &SafeName::new(format!("f{i}.txt").as_bytes()),
                Coding::Identity,
            )
            .unwrap()
        })
        .collect();
    for r in 0..POOL_ROUNDS {
        for (i, id) in ids.iter().enumerate() {
            dir.write(*id, &pool_piece(i, r)).unwrap();
            assert!(dir.open_files() <= 64);
        }
    }
    let mut manifest = String::new();
    for id in ids {
        let x = dir.finish(id, true).unwrap();
        assert!(x.complete && x.summary.stop.is_none());
        manifest.push_str(&format!(
            "{}\t{}\t{}\n",
            x.file_name,
            x.summary.written.size,
            x.summary.written.sha256_hex()
        ));
    }
    assert_eq!(dir.peak_open_files(), 64);
    std::fs::write(out.join("manifest.tsv"), manifest).unwrap();
}

#[test]
fn three_thousand_concurrent_files_under_a_100_descriptor_limit() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("files")).unwrap();
    // The child runs with at most 100 descriptors: without the pool it would fail at about the
    // 95th file.
    let output = Command::new("sh")
        .args(["-c", "ulimit -n 100 && exec \"$0\" \"$@\""])
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "extract::pool_child_helper"])
        .env(POOL_DIR, root.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = std::fs::read_to_string(root.path().join("manifest.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = manifest.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), POOL_SINKS);
    let files = root.path().join("files");
    for (i, row) in rows.iter().enumerate() {
        let expected: Vec<u8> = (0..POOL_ROUNDS).flat_map(|r| pool_piece(i, r)).collect();
        let name = format!("f{i}.txt");
        assert_eq!(row[0], name);
        assert_eq!(row[1], expected.len().to_string(), "{name}");
        assert_eq!(row[2], sha256_hex(&expected), "{name}");
        assert_eq!(
            std::fs::read(files.join(&name)).unwrap(),
            expected,
            "{name}"
        );
    }
    assert_eq!(listing(&files).len(), POOL_SINKS);
}

#[test]
fn hashes_agree_with_sha256sum() {
    let s = setup();
    let mut dir = Dir::open(&s.out, Options::default()).unwrap();
    let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let x = extract_one(&mut dir, b"numbers.bin", &data);
    match Command::new("sha256sum").arg(&x.path).output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8(o.stdout).unwrap();
            let sum = text.split_whitespace().next().unwrap();
            assert_eq!(sum, x.summary.written.sha256_hex());
        }
        _ => eprintln!("note: sha256sum not available; compared with sha2 only"),
    }
    assert_eq!(x.summary.written.sha256_hex(), sha256_hex(&data));
}

#[test]
fn errors_name_the_path_and_the_reason() {
    let s = setup();
    let e = Dir::open(&s.target, Options::default()).unwrap_err();
    assert!(matches!(e, Error::OpenDir { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot open the extraction directory ") && msg.contains("target.txt"),
        "{msg}"
    );
    assert!(msg.contains("Not a directory"), "{msg}");
}
