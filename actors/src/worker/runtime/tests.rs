//! Runtime tests of the pure parts (line splitting, log parsing, /proc parsing). The process
//! runtime itself is tested on real processes under real shims in the root package's
//! `tests/process_runtime.rs` (it needs the `capstan` binary for `capstan shim`).

use super::cri_log::{LineSplitter, MAX_LINE};
use super::proc_stats::parse_stat;
use super::*;

#[test]
fn splitter_cuts_long_lines_into_pieces() {
    let mut s = LineSplitter::default();
    assert_eq!(s.push(b"ab"), []);
    assert_eq!(
        s.push(b"c\nd\n\ne"),
        [
            (false, b"abc".to_vec()),
            (false, b"d".to_vec()),
            (false, Vec::new())
        ]
    );
    assert_eq!(s.finish(), Some((false, b"e".to_vec())));
    assert_eq!(s.finish(), None);

    let mut exact = vec![b'x'; MAX_LINE];
    exact.push(b'\n');
    assert_eq!(
        s.push(&exact),
        [(false, vec![b'x'; MAX_LINE])],
        "exactly 16 KiB is one line"
    );

    let long = vec![b'y'; MAX_LINE * 2 + 5];
    let pieces = s.push(&long);
    assert_eq!(
        pieces,
        [(true, vec![b'y'; MAX_LINE]), (true, vec![b'y'; MAX_LINE])]
    );
    assert_eq!(s.push(b"\n"), [(false, vec![b'y'; 5])]);
}

#[test]
fn read_log_joins_partials_per_stream_and_passes_junk_through() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.log");
    let raw = "2026-01-01T00:00:00.000000001Z stdout P hel\n\
               2026-01-01T00:00:00.000000002Z stderr F err\n\
               2026-01-01T00:00:00.000000003Z stdout F lo world\n\
               not a cri line\n\
               2026-01-01T00:00:00.000000004Z stdout F \n\
               2026-01-01T00:00:00.000000005Z stderr P cut";
    std::fs::write(&path, raw).unwrap();
    let plain = read_log(&path, None, false, false, usize::MAX).unwrap();
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        "err\nhello world\nnot a cri line\n\ncut\n"
    );
    let stamped = read_log(&path, Some(2), false, true, usize::MAX).unwrap();
    assert_eq!(
        String::from_utf8(stamped).unwrap(),
        "2026-01-01T00:00:00.000000004Z \n2026-01-01T00:00:00.000000005Z cut\n"
    );
    std::fs::write(&path, b"\xff\xfe binary\n").unwrap();
    assert_eq!(
        read_log(&path, None, false, false, 100).unwrap(),
        b"\xff\xfe binary\n"
    );
}

#[test]
fn proc_stat_parsing_survives_odd_names() {
    let line = "4242 (we ird) name)) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 \
                5000 1000000 250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
    let stat = parse_stat(line).expect("parses");
    assert_eq!(stat.state, b'S');
    assert_eq!(stat.pgrp, 4242);
    assert_eq!(stat.cpu_ticks, 7 + 3 + 2 + 1);
    assert_eq!(stat.rss_pages, 250);
    assert_eq!(parse_stat("garbage"), None);
    assert_eq!(parse_stat("1 (x) S 1"), None);
    assert_eq!(parse_stat(""), None);
}

#[test]
fn exit_statuses_decode_like_kubelet() {
    use std::os::unix::process::ExitStatusExt;
    let code = shim::exit_code(std::process::ExitStatus::from_raw(3 << 8));
    assert_eq!(code, (3, None));
    let killed = shim::exit_code(std::process::ExitStatus::from_raw(9));
    assert_eq!(killed, (137, Some(9)));
}
