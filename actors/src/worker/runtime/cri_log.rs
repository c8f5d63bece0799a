//! Container logs in the CRI format kubelet reads: one entry per line,
//! `<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n`, where `P` marks a piece of a line
//! longer than [`MAX_LINE`] and `F` the piece that ends it.
//!
//! Writing: each output pipe has a pump ([`pump`]) that cuts its bytes into entries with a
//! [`LineSplitter`]; one writer task per container ([`write_log`]) owns the file, so the two
//! streams never interleave inside an entry, and rotates it to `<path>.1` before it would pass
//! its size limit. Reading: [`read_log`].

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use capstan_core::time::Timestamp;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// The longest piece of a line one entry carries (kubelet's and containerd's limit).
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Bytes the writer gathers from queued entries before one write.
const WRITE_BATCH: usize = 64 * 1024;

/// Which pipe an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogStream {
    /// The container's standard output.
    Stdout,
    /// The container's standard error.
    Stderr,
}

impl LogStream {
    fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        }
    }
}

/// One piece of output bound for the log file.
#[derive(Debug)]
pub(crate) struct LogEntry {
    /// When the pump read it.
    pub at: SystemTime,
    /// Its pipe.
    pub stream: LogStream,
    /// `true` for a `P` piece (the line goes on in the next entry of this stream).
    pub partial: bool,
    /// The content, without the newline.
    pub bytes: Vec<u8>,
}

impl LogEntry {
    /// Appends the entry's CRI line to `out`.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(rfc3339_nano(self.at).as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.stream.as_str().as_bytes());
        out.extend_from_slice(if self.partial { b" P " } else { b" F " });
        out.extend_from_slice(&self.bytes);
        out.push(b'\n');
    }
}

/// Formats `at` as RFC 3339 with nine fractional digits in UTC, like kubelet:
/// `2026-11-26T11:01:15.123456789Z`.
pub(crate) fn rfc3339_nano(at: SystemTime) -> String {
    let (secs, nanos) = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(_) => (0, 0),
    };
    let whole = Timestamp(secs).to_rfc3339();
    let base = whole.strip_suffix('Z').unwrap_or(&whole);
    format!("{base}.{nanos:09}Z")
}

/// Cuts a byte stream into log entries: whole lines, and lines longer than [`MAX_LINE`] into
/// `P` pieces of that size followed by an `F` piece.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Feeds bytes in; returns the `(partial, content)` entries they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<(bool, Vec<u8>)> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            let rest = &self.pending[start..];
            // A line of exactly MAX_LINE bytes plus its newline is still one F entry.
            let window = &rest[..rest.len().min(MAX_LINE + 1)];
            if let Some(i) = window.iter().position(|&b| b == b'\n') {
                out.push((false, rest[..i].to_vec()));
                start += i + 1;
            } else if rest.len() > MAX_LINE {
                out.push((true, rest[..MAX_LINE].to_vec()));
                start += MAX_LINE;
            } else {
                break;
            }
        }
        self.pending.drain(..start);
        out
    }

    /// The stream ended: an unterminated last line becomes a final `F` entry.
    pub fn finish(&mut self) -> Option<(bool, Vec<u8>)> {
        if self.pending.is_empty() {
            None
        } else {
            Some((false, std::mem::take(&mut self.pending)))
        }
    }
}

/// Reads one of a container's pipes to its end, sending entries to the writer. Keeps draining
/// (and dropping) output when the writer is gone, so the container never blocks on a full pipe.
pub(crate) async fn pump<R: AsyncRead + Unpin>(
    mut reader: R,
    stream: LogStream,
    tx: mpsc::Sender<LogEntry>,
) {
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 32 * 1024];
    let mut writer_gone = false;
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!(stream = stream.as_str(), error = %e, "reading container output failed");
                break;
            }
        };
        let at = SystemTime::now();
        for (partial, bytes) in splitter.push(&buf[..n]) {
            if !writer_gone {
                let entry = LogEntry {
                    at,
                    stream,
                    partial,
                    bytes,
                };
                writer_gone = tx.send(entry).await.is_err();
            }
        }
    }
    if let (Some((partial, bytes)), false) = (splitter.finish(), writer_gone) {
        let entry = LogEntry {
            at: SystemTime::now(),
            stream,
            partial,
            bytes,
        };
        let _ = tx.send(entry).await;
    }
}

/// The path of the rotated (previous) log next to `path`: `<path>.1`.
pub(crate) fn rotated_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".1");
    PathBuf::from(s)
}

/// Owns a container's log file: writes entries as they come, in batches, and rotates the file
/// to `<path>.1` before an entry would take it past `max_bytes` (`0`: never). A file always
/// takes at least one entry, so one entry longer than the limit still lands. Ends when both
/// pumps have ended. An I/O failure is logged once and the output dropped, never stalling the
/// container.
pub(crate) async fn write_log(
    file: std::fs::File,
    mut size: u64,
    path: PathBuf,
    max_bytes: u64,
    mut rx: mpsc::Receiver<LogEntry>,
) {
    let mut file = Some(tokio::fs::File::from_std(file));
    let mut buf = Vec::with_capacity(WRITE_BATCH);
    let mut warned = false;
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(entry) = next {
            let start = buf.len();
            entry.encode(&mut buf);
            let len = (buf.len() - start) as u64;
            if max_bytes > 0 && size > 0 && size + len > max_bytes {
                let line = buf.split_off(start);
                flush(&mut file, &mut buf, &path, &mut warned).await;
                file = rotate(&path, &mut warned).await;
                size = 0;
                buf = line;
            }
            size += len;
            next = if buf.len() < WRITE_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        flush(&mut file, &mut buf, &path, &mut warned).await;
    }
}

async fn flush(
    file: &mut Option<tokio::fs::File>,
    buf: &mut Vec<u8>,
    path: &Path,
    warned: &mut bool,
) {
    if let Some(f) = file.as_mut() {
        let written = match f.write_all(buf).await {
            Ok(()) => f.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            warn_once(warned, path, &e);
        }
    }
    buf.clear();
}

async fn rotate(path: &Path, warned: &mut bool) -> Option<tokio::fs::File> {
    if let Err(e) = tokio::fs::rename(path, rotated_path(path)).await {
        warn_once(warned, path, &e);
    }
    let opened = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .await;
    match opened {
        Ok(f) => Some(f),
        Err(e) => {
            warn_once(warned, path, &e);
            None
        }
    }
}

fn warn_once(warned: &mut bool, path: &Path, e: &io::Error) {
    if !*warned {
        *warned = true;
        tracing::warn!(path = %path.display(), error = %e, "container log write failed; output dropped");
    }
}

/// One CRI entry, parsed (also used by the worker's log follower).
pub(crate) struct ParsedEntry<'a> {
    pub timestamp: &'a [u8],
    pub stream: &'a [u8],
    pub partial: bool,
    pub content: &'a [u8],
}

/// `<timestamp> <stdout|stderr> <P|F>[:flags] <content>`; `None` for a line not in CRI format.
pub(crate) fn parse_entry(line: &[u8]) -> Option<ParsedEntry<'_>> {
    let mut parts = line.splitn(4, |&b| b == b' ');
    let timestamp = parts.next()?;
    let stream = parts.next()?;
    let tag = parts.next()?;
    let content = parts.next().unwrap_or(&[]);
    if timestamp.is_empty() || !(stream == b"stdout" || stream == b"stderr") {
        return None;
    }
    // Tags may carry more flags after ':' in future CRI versions; the first is P or F.
    let partial = match tag.split(|&b| b == b':').next() {
        Some(b"P") => true,
        Some(b"F") => false,
        _ => return None,
    };
    Some(ParsedEntry {
        timestamp,
        stream,
        partial,
        content,
    })
}

/// Reads a container log: last `tail_lines` lines (None = all) of the current file (or the
/// rotated/previous one with `previous`), with or without the timestamp prefixes.
///
/// Lines are logical lines: `P` pieces are joined with the `F` piece of the same stream that
/// ends them. With `timestamps` a line reads `<timestamp> <content>` (the first piece's time, as
/// `kubectl logs --timestamps` shows it); without, just the content. Lines not in CRI format
/// pass through as they are. The output is then cut after `max_bytes` bytes (`limitBytes`
/// semantics: the start of the selection is kept). A missing file is an `io::ErrorKind::NotFound`
/// error (e.g. no previous log).
pub fn read_log(
    path: &Path,
    tail_lines: Option<usize>,
    previous: bool,
    timestamps: bool,
    max_bytes: usize,
) -> io::Result<Vec<u8>> {
    let file = if previous {
        rotated_path(path)
    } else {
        path.to_path_buf()
    };
    let raw = std::fs::read(file)?;
    let mut lines = assemble_lines(&raw, timestamps);
    if let Some(n) = tail_lines {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(&line);
        if out.len() >= max_bytes {
            break;
        }
    }
    out.truncate(max_bytes);
    Ok(out)
}

/// Turns a CRI log file into logical lines, each ending in `\n`.
fn assemble_lines(raw: &[u8], timestamps: bool) -> VecDeque<Vec<u8>> {
    // A partial line per stream: (first piece's timestamp, content so far).
    let mut pending: [Option<(Vec<u8>, Vec<u8>)>; 2] = [None, None];
    let mut lines = VecDeque::new();
    let finish = |ts: &[u8], content: &[u8]| {
        let mut line = Vec::with_capacity(ts.len() + content.len() + 2);
        if timestamps {
            line.extend_from_slice(ts);
            line.push(b' ');
        }
        line.extend_from_slice(content);
        line.push(b'\n');
        line
    };
    for raw_line in raw.split_inclusive(|&b| b == b'\n') {
        let raw_line = raw_line.strip_suffix(b"\n").unwrap_or(raw_line);
        let Some(entry) = parse_entry(raw_line) else {
            let mut line = raw_line.to_vec();
            line.push(b'\n');
            lines.push_back(line);
            continue;
        };
        let slot = &mut pending[usize::from(entry.stream == b"stderr")];
        let (ts, mut content) = slot
            .take()
            .unwrap_or_else(|| (entry.timestamp.to_vec(), Vec::new()));
        content.extend_from_slice(entry.content);
        if entry.partial {
            *slot = Some((ts, content));
        } else {
            lines.push_back(finish(&ts, &content));
        }
    }
    // Pieces whose F never came (the container was killed mid-line): still output.
    for (ts, content) in pending.into_iter().flatten() {
        lines.push_back(finish(&ts, &content));
    }
    lines
}
