//! The TFTP datagram grammar (nom 8, `complete` combinators: a datagram is whole, so short
//! means malformed) and [`decode`], which turns nom failures into a [`Malformed`] reason.

use nom::bytes::complete::{tag, take_till};
use nom::combinator::rest;
use nom::error::context;
use nom::number::complete::be_u16;
use nom::sequence::terminated;
use nom::{IResult, Parser};

use super::types::{
    Ack, Data, ErrorCode, ErrorPacket, Malformed, MalformedReason, Mode, Oack, Opcode, Options,
    Packet, Request,
};
use crate::app::ParseError;

/// A big-endian u16 header field (opcode, block number, error code).
pub(crate) fn parse_u16<'a>(
    input: &'a [u8],
    what: &'static str,
) -> IResult<&'a [u8], u16, ParseError> {
    context(what, be_u16).parse(input)
}

/// A NUL-terminated string (RFC 1350 §5), without its NUL.
pub(crate) fn parse_cstring(input: &[u8]) -> IResult<&[u8], &[u8], ParseError> {
    context(
        "nul-terminated string",
        terminated(take_till(|b| b == 0), tag(&[0u8][..])),
    )
    .parse(input)
}

/// The last string of a packet: NUL-terminated, or running to the end of the datagram (the flag
/// says its NUL is missing).
pub(crate) fn parse_last_string(input: &[u8]) -> IResult<&[u8], (&[u8], bool), ParseError> {
    match parse_cstring(input) {
        Ok((rest, s)) => Ok((rest, (s, false))),
        Err(_) => rest.map(|s| (s, true)).parse(input),
    }
}

/// Decodes one TFTP datagram (the UDP payload). Total: never panics, whatever the bytes.
///
/// Leniency, chosen to keep transfers trackable while still reporting the fault:
/// - the last string of a request, ERROR or OACK may lack its NUL (`missing_final_nul`);
/// - NUL bytes padding the end of a request, ERROR or OACK are ignored;
/// - a non-ASCII file name decodes (the analysis warns about it).
///
/// ```
/// use pcaplab::app::tftp::{decode, Packet};
/// let p = decode(b"\x00\x04\x00\x07").unwrap();
/// assert!(matches!(p, Packet::Ack(a) if a.block == 7));
/// ```
///
/// # Errors
/// [`Malformed`] with the reason and the offset of the field at fault.
pub fn decode(payload: &[u8]) -> Result<Packet<'_>, Malformed> {
    let whole = payload.len();
    let at = |rest: &[u8]| whole.saturating_sub(rest.len());
    let err = |reason, offset| Malformed { reason, offset };
    let truncated = |e: nom::Err<ParseError>, what| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => {
            err(MalformedReason::TruncatedHeader(what), e.offset_in(whole))
        }
        nom::Err::Incomplete(_) => err(MalformedReason::TruncatedHeader(what), whole),
    };

    let (body, op) = parse_u16(payload, "opcode").map_err(|e| truncated(e, "opcode"))?;
    let opcode = Opcode::from_u16(op).ok_or(err(MalformedReason::UnknownOpcode(op), 0))?;
    match opcode {
        Opcode::Rrq => decode_request(body, whole).map(Packet::Rrq),
        Opcode::Wrq => decode_request(body, whole).map(Packet::Wrq),
        Opcode::Data => {
            let (data, block) =
                parse_u16(body, "block number").map_err(|e| truncated(e, "block number"))?;
            Ok(Packet::Data(Data { block, data }))
        }
        Opcode::Ack => {
            let (rest, block) =
                parse_u16(body, "block number").map_err(|e| truncated(e, "block number"))?;
            if !rest.is_empty() {
                // RFC 1350 §5: an ACK is exactly 4 bytes.
                return Err(err(
                    MalformedReason::TrailingBytes("after the block number"),
                    at(rest),
                ));
            }
            Ok(Packet::Ack(Ack { block }))
        }
        Opcode::Error => {
            let (rest, code) =
                parse_u16(body, "error code").map_err(|e| truncated(e, "error code"))?;
            let (rest, (message, missing_final_nul)) = parse_last_string(rest)
                .map_err(|_| err(MalformedReason::MissingNul("error message"), at(rest)))?;
            if !is_padding(rest) {
                return Err(err(
                    MalformedReason::TrailingBytes("after the error message"),
                    at(rest),
                ));
            }
            Ok(Packet::Error(ErrorPacket {
                code: ErrorCode::from_u16(code),
                message,
                missing_final_nul,
            }))
        }
        Opcode::Oack => {
            let (options, missing_final_nul) = decode_options(body, whole)?;
            if options.is_empty() {
                return Err(err(MalformedReason::OackWithoutOptions, at(body)));
            }
            Ok(Packet::Oack(Oack {
                options,
                missing_final_nul,
            }))
        }
    }
}

/// True when the bytes are empty or only NULs (padding some implementations add).
fn is_padding(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// RRQ/WRQ after the opcode: file name, mode, options (RFC 1350 §5, RFC 2347 §2).
fn decode_request(input: &[u8], whole: usize) -> Result<Request<'_>, Malformed> {
    let at = |rest: &[u8]| whole.saturating_sub(rest.len());
    let err = |reason, offset| Malformed { reason, offset };
    let name_at = at(input);
    let (rest, file_name) =
        parse_cstring(input).map_err(|_| err(MalformedReason::MissingNul("file name"), name_at))?;
    if file_name.is_empty() {
        return Err(err(MalformedReason::EmptyFileName, name_at));
    }
    if rest.is_empty() {
        return Err(err(MalformedReason::MissingMode, at(rest)));
    }
    let mode_at = at(rest);
    let (rest, (mode_raw, missing_mode_nul)) = parse_last_string(rest)
        .map_err(|_| err(MalformedReason::MissingNul("transfer mode"), mode_at))?;
    if mode_raw.is_empty() {
        return Err(err(MalformedReason::EmptyMode, mode_at));
    }
    let (options, missing_option_nul) = decode_options(rest, whole)?;
    Ok(Request {
        file_name,
        mode_raw,
        mode: Mode::from_bytes(mode_raw),
        options,
        missing_final_nul: missing_mode_nul || missing_option_nul,
    })
}

/// Name/value pairs of NUL-terminated strings up to the end of the datagram (RFC 2347 §2).
/// Returns the validated bytes (without trailing NUL padding) and whether the very last value
/// lacks its NUL.
fn decode_options(input: &[u8], whole: usize) -> Result<(Options<'_>, bool), Malformed> {
    let at = |rest: &[u8]| whole.saturating_sub(rest.len());
    let err = |reason, offset| Malformed { reason, offset };
    let mut rest = input;
    let mut missing_final_nul = false;
    while !is_padding(rest) {
        let name_at = at(rest);
        let (after_name, name) =
            parse_cstring(rest).map_err(|_| err(MalformedReason::OptionWithoutValue, name_at))?;
        if name.is_empty() {
            return Err(err(MalformedReason::EmptyOptionName, name_at));
        }
        let (after_value, (value, missing)) = parse_last_string(after_name)
            .map_err(|_| err(MalformedReason::OptionWithoutValue, name_at))?;
        if value.is_empty() {
            return Err(err(MalformedReason::OptionWithoutValue, name_at));
        }
        rest = after_value;
        if missing {
            missing_final_nul = true;
            break;
        }
    }
    let used = input.len().saturating_sub(rest.len());
    let raw = input.get(..used).unwrap_or_default();
    Ok((Options::from_validated(raw), missing_final_nul))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tftp::types::{OptionKind, escape};

    /// Decodes hex from tshark's `udp.payload` field.
    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn malformed(bytes: &[u8]) -> Malformed {
        decode(bytes).unwrap_err()
    }

    // tcpdump-tftp.pcap frame 1; tshark: tftp.opcode 1, tftp.source_file "file1", tftp.type "octet".
    const RRQ_FILE1: &[u8] = b"\x00\x01\
        file1\x00\
        octet\x00";

    // zeektftp-tftp_oack.pcap frame 1: RRQ hello.txt octet blksize=256.
    const RRQ_OPTIONS_HEX: &str = "000168656c6c6f2e747874006f6374657400626c6b73697a650032353600";
    // zeektftp-tftp_oack.pcap frame 2: OACK blksize=256.
    const OACK_HEX: &str = "0006626c6b73697a650032353600";
    // zeektftp-tftp_wrq.pcap frame 1: WRQ rfc1350.txt octet.
    const WRQ_HEX: &str = "0002726663313335302e747874006f6374657400";
    // tcpdump-tftp.pcap frame 3: ACK block 1.
    const ACK_HEX: &str = "00040001";
    // fixtures/tftp-read.pcap frame 11 (in.tftpd): ERROR 1 "File not found".
    const ERROR_HEX: &str = "0005000146696c65206e6f7420666f756e6400";
    // fixtures/tftp-blksize.pcap frame 1: RRQ options.bin octet blksize=1024 tsize=0.
    const RRQ_TWO_OPTIONS_HEX: &str =
        "00016f7074696f6e732e62696e006f6374657400626c6b73697a650031303234007473697a65003000";
    // tcpdump-tftp-heapoverflow.pcap frame 1: "\0\x01" then "00", the capture ends there.
    const HEAPOVERFLOW_HEX: &str = "00013030";

    #[test]
    fn rrq_from_tcpdump_capture() {
        let Packet::Rrq(r) = decode(RRQ_FILE1).unwrap() else {
            panic!("not a rrq")
        };
        assert_eq!(r.file_name, b"file1");
        assert_eq!(r.mode, Mode::Octet);
        assert_eq!(r.mode_raw, b"octet");
        assert!(r.options.is_empty());
        assert!(!r.missing_final_nul);
        assert_eq!(
            decode(RRQ_FILE1).unwrap().info().to_string(),
            "Read Request, File: file1, Transfer type: octet"
        );
    }

    #[test]
    fn rrq_with_blksize_option() {
        let bytes = hex(RRQ_OPTIONS_HEX);
        let p = decode(&bytes).unwrap();
        let Packet::Rrq(r) = p else {
            panic!("not a rrq")
        };
        assert_eq!(r.file_name, b"hello.txt");
        let opts: Vec<_> = r.options.iter().collect();
        assert_eq!(opts.len(), 1);
        assert_eq!(opts[0].name, b"blksize");
        assert_eq!(opts[0].value, b"256");
        assert_eq!(opts[0].kind(), OptionKind::BlockSize);
        assert_eq!(opts[0].valid_number(), Some(256));
        // tshark's Info column for this frame.
        assert_eq!(
            p.info().to_string(),
            "Read Request, File: hello.txt, Transfer type: octet, blksize=256"
        );
    }

    #[test]
    fn rrq_with_two_options() {
        let bytes = hex(RRQ_TWO_OPTIONS_HEX);
        let p = decode(&bytes).unwrap();
        assert_eq!(
            p.info().to_string(),
            "Read Request, File: options.bin, Transfer type: octet, blksize=1024, tsize=0"
        );
        let r = p.as_request().unwrap();
        assert_eq!(r.options.find("TSIZE").unwrap().number(), Some(0));
        assert_eq!(r.options.find("blksize").unwrap().number(), Some(1024));
        assert!(r.options.find("timeout").is_none());
    }

    #[test]
    fn wrq_from_zeek_capture() {
        let bytes = hex(WRQ_HEX);
        let p = decode(&bytes).unwrap();
        let Packet::Wrq(r) = p else {
            panic!("not a wrq")
        };
        assert_eq!(r.file_name, b"rfc1350.txt");
        assert_eq!(r.mode, Mode::Octet);
        assert_eq!(
            p.info().to_string(),
            "Write Request, File: rfc1350.txt, Transfer type: octet"
        );
    }

    #[test]
    fn data_block_and_payload() {
        // tcpdump-tftp.pcap frame 6 starts "0003 0003 7570706f72746564..." and is 109 bytes.
        let mut bytes = vec![0x00, 0x03, 0x00, 0x03];
        bytes.extend_from_slice(b"upported\" >&2");
        let p = decode(&bytes).unwrap();
        let Packet::Data(d) = p else {
            panic!("not data")
        };
        assert_eq!(d.block, 3);
        assert_eq!(d.data, b"upported\" >&2");
        assert_eq!(p.info().to_string(), "Data Packet, Block: 3");
        assert_eq!(
            p.info().with_last(true).to_string(),
            "Data Packet, Block: 3 (last)"
        );
        // An empty DATA (the final block of a file that is a multiple of the block size).
        let p = decode(b"\x00\x03\x00\x02").unwrap();
        assert_eq!(
            p,
            Packet::Data(Data {
                block: 2,
                data: b""
            })
        );
    }

    #[test]
    fn ack_block() {
        let bytes = hex(ACK_HEX);
        let p = decode(&bytes).unwrap();
        assert_eq!(p, Packet::Ack(Ack { block: 1 }));
        assert_eq!(p.info().to_string(), "Acknowledgement, Block: 1");
        // Block 65535 is the highest before rollover.
        assert_eq!(
            decode(b"\x00\x04\xff\xff").unwrap(),
            Packet::Ack(Ack { block: 65535 })
        );
    }

    #[test]
    fn error_file_not_found() {
        let bytes = hex(ERROR_HEX);
        let p = decode(&bytes).unwrap();
        let Packet::Error(e) = p else {
            panic!("not an error")
        };
        assert_eq!(e.code, ErrorCode::FileNotFound);
        assert_eq!(e.code.to_u16(), 1);
        assert_eq!(e.message, b"File not found");
        assert!(!e.missing_final_nul);
        // tshark's Info column for fixtures/tftp-read.pcap frame 11.
        assert_eq!(
            p.info().to_string(),
            "Error Code, Code: File not found, Message: File not found"
        );
    }

    #[test]
    fn error_codes_have_standard_meanings() {
        let expected = [
            "Not defined",
            "File not found",
            "Access violation",
            "Disk full or allocation exceeded",
            "Illegal TFTP Operation",
            "Unknown transfer ID",
            "File already exists",
            "No such user",
            "Option negotiation failed",
        ];
        for (code, text) in expected.iter().enumerate() {
            let c = ErrorCode::from_u16(code as u16);
            assert_eq!(c.to_string(), *text);
            assert_eq!(c.to_u16(), code as u16);
        }
        assert_eq!(ErrorCode::from_u16(9).to_string(), "Unknown (9)");
        // An error with an undefined code still decodes.
        let p = decode(b"\x00\x05\x00\x09odd\x00").unwrap();
        assert_eq!(
            p.info().to_string(),
            "Error Code, Code: Unknown (9), Message: odd"
        );
    }

    #[test]
    fn oack_from_zeek_capture() {
        let bytes = hex(OACK_HEX);
        let p = decode(&bytes).unwrap();
        let Packet::Oack(o) = p else {
            panic!("not an oack")
        };
        let opts: Vec<_> = o.options.iter().collect();
        assert_eq!(opts.len(), 1);
        assert_eq!(
            (opts[0].name, opts[0].value),
            (&b"blksize"[..], &b"256"[..])
        );
        assert_eq!(p.info().to_string(), "Option Acknowledgement, blksize=256");
    }

    #[test]
    fn modes_are_case_insensitive() {
        let p = decode(b"\x00\x01a\x00NetASCII\x00").unwrap();
        assert_eq!(p.as_request().unwrap().mode, Mode::Netascii);
        let p = decode(b"\x00\x02a\x00MAIL\x00").unwrap();
        assert_eq!(p.as_request().unwrap().mode, Mode::Mail);
        let p = decode(b"\x00\x01a\x00binary\x00").unwrap();
        assert_eq!(p.as_request().unwrap().mode, Mode::Other(b"binary"));
        assert!(!Mode::Other(b"binary").is_standard());
    }

    #[test]
    fn known_and_unknown_options() {
        let bytes = b"\x00\x01f\x00octet\x00\
            timeout\x005\x00\
            windowsize\x0016\x00\
            blksize\x004\x00\
            multicast\x00\x01\x00";
        let r = *decode(bytes).unwrap().as_request().unwrap();
        let o: Vec<_> = r.options.iter().collect();
        assert_eq!(o.len(), 4);
        assert_eq!(o[0].kind(), OptionKind::Timeout);
        assert_eq!(o[0].valid_number(), Some(5));
        assert_eq!(o[1].kind(), OptionKind::WindowSize);
        assert_eq!(o[1].valid_number(), Some(16));
        // blksize 4 is below RFC 2348's minimum of 8.
        assert_eq!(o[2].number(), Some(4));
        assert_eq!(o[2].valid_number(), None);
        assert_eq!(o[3].kind(), OptionKind::Unknown);
        assert_eq!(o[3].value, b"\x01");
    }

    #[test]
    fn missing_final_nul_is_tolerated_and_flagged() {
        let p = decode(b"\x00\x01file1\x00octet").unwrap();
        let r = p.as_request().unwrap();
        assert!(r.missing_final_nul);
        assert_eq!(r.mode, Mode::Octet);
        let p = decode(b"\x00\x01f\x00octet\x00blksize\x001024").unwrap();
        let r = p.as_request().unwrap();
        assert!(r.missing_final_nul);
        assert_eq!(r.options.find("blksize").unwrap().value, b"1024");
        let Packet::Error(e) = decode(b"\x00\x05\x00\x02denied").unwrap() else {
            panic!()
        };
        assert!(e.missing_final_nul);
        assert_eq!(e.message, b"denied");
        let Packet::Oack(o) = decode(b"\x00\x06tsize\x00100").unwrap() else {
            panic!()
        };
        assert!(o.missing_final_nul);
    }

    #[test]
    fn nul_padding_is_ignored() {
        let p = decode(b"\x00\x01f\x00octet\x00\x00\x00").unwrap();
        assert!(p.as_request().unwrap().options.is_empty());
        let p = decode(b"\x00\x05\x00\x00\x00\x00").unwrap();
        assert!(matches!(p, Packet::Error(e) if e.message.is_empty()));
    }

    #[test]
    fn non_ascii_file_name_decodes_and_is_escaped_for_display() {
        let p = decode(b"\x00\x01caf\xc3\xa9\x01\xff.txt\x00octet\x00").unwrap();
        let r = p.as_request().unwrap();
        assert!(!r.has_ascii_file_name());
        assert_eq!(escape(r.file_name).to_string(), "caf\u{e9}\\x01\\xff.txt");
        assert_eq!(escape(b"a\\b").to_string(), "a\\\\b");
    }

    #[test]
    fn each_malformed_reason_at_its_offset() {
        use MalformedReason as R;
        let cases: &[(&[u8], R, usize)] = &[
            (b"", R::TruncatedHeader("opcode"), 0),
            (b"\x00", R::TruncatedHeader("opcode"), 0),
            (b"\x00\x07abc", R::UnknownOpcode(7), 0),
            (b"\x00\x00", R::UnknownOpcode(0), 0),
            (b"\x00\x03\x00", R::TruncatedHeader("block number"), 2),
            (b"\x00\x04", R::TruncatedHeader("block number"), 2),
            (b"\x00\x05\x00", R::TruncatedHeader("error code"), 2),
            (b"\x00\x01file1", R::MissingNul("file name"), 2),
            (&hex(HEAPOVERFLOW_HEX), R::MissingNul("file name"), 2),
            (b"\x00\x01\x00octet\x00", R::EmptyFileName, 2),
            (b"\x00\x01file1\x00", R::MissingMode, 8),
            (b"\x00\x02f\x00\x00", R::EmptyMode, 4),
            (b"\x00\x01f\x00octet\x00blksize", R::OptionWithoutValue, 10),
            (
                b"\x00\x01f\x00octet\x00blksize\x00",
                R::OptionWithoutValue,
                10,
            ),
            (
                b"\x00\x01f\x00octet\x00blksize\x00\x00",
                R::OptionWithoutValue,
                10,
            ),
            (
                b"\x00\x01f\x00octet\x00\x00tsize\x000\x00",
                R::EmptyOptionName,
                10,
            ),
            (b"\x00\x06", R::OackWithoutOptions, 2),
            (b"\x00\x06\x00", R::OackWithoutOptions, 2),
            (
                b"\x00\x04\x00\x01\x00",
                R::TrailingBytes("after the block number"),
                4,
            ),
            (
                b"\x00\x05\x00\x01x\x00y",
                R::TrailingBytes("after the error message"),
                6,
            ),
        ];
        for (bytes, reason, offset) in cases {
            let m = malformed(bytes);
            assert_eq!(
                (m.reason, m.offset),
                (*reason, *offset),
                "input {}",
                escape(bytes)
            );
        }
    }

    #[test]
    fn malformed_display_is_lowercase_with_offset() {
        assert_eq!(
            malformed(b"\x00\x09").to_string(),
            "unknown opcode 9 (at byte 0)"
        );
        assert_eq!(
            malformed(b"\x00\x03\x00").to_string(),
            "truncated header: the datagram ends inside the block number (at byte 2)"
        );
        assert!(malformed(b"\x00\x01ab").is_truncation());
        assert!(!malformed(b"\x00\x09").is_truncation());
    }

    /// Every prefix of a valid packet decodes without panic, to the reason a cut there gives.
    #[test]
    fn every_prefix_of_every_valid_packet() {
        use MalformedReason as R;
        // RRQ "file1" "octet": opcode 0..2, name 2..8 (NUL at 7), mode 8..14 (NUL at 13).
        for n in 0..RRQ_FILE1.len() {
            let got = decode(&RRQ_FILE1[..n]);
            match n {
                0 | 1 => assert_eq!(got.unwrap_err().reason, R::TruncatedHeader("opcode")),
                2..=7 => assert_eq!(
                    got.unwrap_err(),
                    Malformed {
                        reason: R::MissingNul("file name"),
                        offset: 2
                    }
                ),
                8 => assert_eq!(got.unwrap_err().reason, R::MissingMode),
                // The mode cut short: tolerated, flagged, and partial modes are not "octet".
                9..=13 => {
                    let p = got.unwrap();
                    let r = p.as_request().unwrap();
                    assert!(r.missing_final_nul);
                    assert_eq!(r.mode == Mode::Octet, n == 13);
                }
                _ => unreachable!(),
            }
        }
        // RRQ with options: a cut inside "blksize" or right after its NUL leaves no value.
        let bytes = hex(RRQ_OPTIONS_HEX);
        let opt_at = 2 + b"hello.txt\0octet\0".len();
        for n in 0..bytes.len() {
            let got = decode(&bytes[..n]);
            if n < 2 {
                assert_eq!(got.unwrap_err().reason, R::TruncatedHeader("opcode"));
            } else if n < 12 {
                assert_eq!(got.unwrap_err().reason, R::MissingNul("file name"));
            } else if n == 12 {
                assert_eq!(got.unwrap_err().reason, R::MissingMode);
            } else if n <= opt_at {
                assert!(got.unwrap().as_request().unwrap().options.is_empty());
            } else if n <= opt_at + b"blksize\0".len() {
                assert_eq!(
                    got.unwrap_err(),
                    Malformed {
                        reason: R::OptionWithoutValue,
                        offset: opt_at
                    }
                );
            } else {
                let p = got.unwrap();
                let r = p.as_request().unwrap();
                assert!(r.missing_final_nul);
                assert_eq!(r.options.iter().count(), 1);
            }
        }
        // WRQ: the same structure as RRQ.
        let bytes = hex(WRQ_HEX);
        for n in 0..bytes.len() {
            let got = decode(&bytes[..n]);
            match n {
                0 | 1 => assert_eq!(got.unwrap_err().reason, R::TruncatedHeader("opcode")),
                2..=13 => assert_eq!(got.unwrap_err().reason, R::MissingNul("file name")),
                14 => assert_eq!(got.unwrap_err().reason, R::MissingMode),
                _ => assert!(matches!(got.unwrap(), Packet::Wrq(r) if r.missing_final_nul)),
            }
        }
        // OACK: no option until the name and value are there.
        let bytes = hex(OACK_HEX);
        for n in 0..bytes.len() {
            let got = decode(&bytes[..n]);
            match n {
                0 | 1 => assert_eq!(got.unwrap_err().reason, R::TruncatedHeader("opcode")),
                2 => assert_eq!(got.unwrap_err().reason, R::OackWithoutOptions),
                3..=10 => assert_eq!(
                    got.unwrap_err(),
                    Malformed {
                        reason: R::OptionWithoutValue,
                        offset: 2
                    }
                ),
                _ => assert!(matches!(got.unwrap(), Packet::Oack(o) if o.missing_final_nul)),
            }
        }
        // ACK and DATA: fixed header of 4 bytes.
        let ack = hex(ACK_HEX);
        let data = b"\x00\x03\x00\x01abc";
        for n in 0..ack.len() {
            let expect = if n < 2 { "opcode" } else { "block number" };
            assert_eq!(
                decode(&ack[..n]).unwrap_err().reason,
                R::TruncatedHeader(expect)
            );
        }
        for n in 0..data.len() {
            match n {
                0 | 1 => assert_eq!(
                    decode(&data[..n]).unwrap_err().reason,
                    R::TruncatedHeader("opcode")
                ),
                2 | 3 => assert_eq!(
                    decode(&data[..n]).unwrap_err(),
                    Malformed {
                        reason: R::TruncatedHeader("block number"),
                        offset: 2
                    }
                ),
                _ => assert_eq!(
                    decode(&data[..n]).unwrap(),
                    Packet::Data(Data {
                        block: 1,
                        data: &data[4..n]
                    })
                ),
            }
        }
        // ERROR: code then a message whose NUL may be missing.
        let bytes = hex(ERROR_HEX);
        for n in 0..bytes.len() {
            let got = decode(&bytes[..n]);
            match n {
                0 | 1 => assert_eq!(got.unwrap_err().reason, R::TruncatedHeader("opcode")),
                2 | 3 => assert_eq!(got.unwrap_err().reason, R::TruncatedHeader("error code")),
                _ => {
                    let Packet::Error(e) = got.unwrap() else {
                        panic!("not an error")
                    };
                    assert!(e.missing_final_nul);
                    assert_eq!(e.message, &bytes[4..n]);
                }
            }
        }
    }

    #[test]
    fn parse_cstring_reports_offset_through_parse_error() {
        let input = b"abc";
        let nom::Err::Error(e) = parse_cstring(input).unwrap_err() else {
            panic!()
        };
        assert_eq!(e.offset_in(input.len()), 3);
        let (rest, s) = parse_cstring(b"ab\0cd").unwrap();
        assert_eq!((s, rest), (&b"ab"[..], &b"cd"[..]));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// `decode` is total: any bytes give a packet or a reason at an offset inside the input.
        #[test]
        fn decode_is_total(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            if let Err(m) = decode(&bytes) {
                proptest::prop_assert!(m.offset <= bytes.len());
            }
        }

        /// Bytes after a valid opcode exercise the string and option paths.
        #[test]
        fn decode_is_total_for_each_opcode(
            op in 1u8..=6,
            body in proptest::collection::vec(proptest::prelude::prop_oneof![
                proptest::prelude::Just(0u8), proptest::prelude::Just(b'a'), proptest::prelude::any::<u8>()
            ], 0..40),
        ) {
            let mut bytes = vec![0, op];
            bytes.extend_from_slice(&body);
            match decode(&bytes) {
                Ok(p) => { let _ = p.info().to_string(); }
                Err(m) => proptest::prop_assert!(m.offset <= bytes.len()),
            }
        }
    }
}
