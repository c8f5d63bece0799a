//! Serves container logs to the master over QUIC (channel LOGS): a one-shot read of the log
//! file, or (`follow`) the current content followed by new lines as the container writes them,
//! until it stops running.
//!
//! Following reads the CRI log file the container's writer task owns (see `runtime::cri_log`):
//! it polls the file every [`POLL_EVERY`] for appended bytes, renders complete lines the way
//! `read_log` does ([`LineAssembler`]), and follows the file across rotation (renamed to
//! `<path>.1`, a new one created: a new inode) and truncation (it shrank). It ends with
//! [`LogChunk::End`] once the container has been reported not running on two checks in a row,
//! at least [`SETTLE`] after the stream started, having drained what is left; or at once when
//! the master stops reading (the HTTP client went away).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::agent::{ContainerRunning, LogPath, NodeAgent};
use super::runtime::{parse_entry, read_log};
use crate::protocol::{LogChunk, LogRequest, LogResponse};
use actix::Addr;
use capstan_transport::{IncomingStream, Responder};

/// Largest log reply sent over the wire (the frame limit is larger).
const MAX_LOG_REPLY: u64 = 8 * 1024 * 1024;

/// How often a followed log file is checked for new bytes.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// A just-started container's reported status may lag: a follow does not end before this.
const SETTLE: Duration = Duration::from_secs(1);

/// Most bytes read from the log file in one go while following.
const READ_CAP: usize = 1024 * 1024;

/// Most bytes of log text in one [`LogChunk::Data`] frame.
const CHUNK_MAX: usize = 256 * 1024;

/// The longest piece of a line one CRI entry carries (as the writer cuts them).
#[cfg(test)]
const MAX_LINE: usize = 16 * 1024;

/// Answers one log request from the master: a [`LogResponse`], or with `follow` a series of
/// [`LogChunk`]s.
pub(crate) async fn serve_log(agent: Addr<NodeAgent>, mut stream: IncomingStream) {
    let req = match stream.recv::<LogRequest>().await {
        Ok(Some(req)) => req,
        _ => return,
    };
    if req.follow {
        follow_log(agent, req, stream.into_responder()).await;
        return;
    }
    let reply = match agent.send(LogPath(req.clone())).await {
        Ok(Some(path)) => {
            let tail = (req.tail_lines > 0).then_some(req.tail_lines as usize);
            let limit = req.limit_bytes.clamp(1, MAX_LOG_REPLY) as usize;
            let read = tokio::task::spawn_blocking(move || {
                read_log(&path, tail, req.previous, req.timestamps, limit)
            })
            .await;
            match read {
                Ok(Ok(bytes)) => LogResponse::Data(bytes),
                Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => {
                    LogResponse::NotFound(no_log_message(&req))
                }
                Ok(Err(e)) => LogResponse::NotFound(format!("reading the log: {e}")),
                Err(e) => LogResponse::NotFound(format!("reading the log: {e}")),
            }
        }
        Ok(None) => LogResponse::NotFound(not_here_message(&req)),
        Err(e) => LogResponse::NotFound(format!("node agent unavailable: {e}")),
    };
    let _ = stream.respond(&reply).await;
}

fn no_log_message(req: &LogRequest) -> String {
    if req.previous {
        format!(
            "previous terminated container \"{}\" in pod \"{}\" not found",
            req.container, req.name
        )
    } else {
        format!(
            "container \"{}\" in pod \"{}\" has no log yet",
            req.container, req.name
        )
    }
}

fn not_here_message(req: &LogRequest) -> String {
    format!(
        "container \"{}\" is not valid for pod \"{}\" on this node",
        req.container, req.name
    )
}

/// Sends one chunk, then the end of the stream; errors mean the master is gone: nothing to do.
async fn answer_once(mut responder: Responder, chunk: LogChunk) {
    if responder.send(&chunk).await.is_ok() {
        let _ = responder.finish().await;
    }
}

/// Answers a followed log request. `previous` is not followed (it has ended): its log comes as
/// one chunk, then [`LogChunk::End`]. `limit_bytes` bounds the whole stream (`0`: no bound).
async fn follow_log(agent: Addr<NodeAgent>, req: LogRequest, mut responder: Responder) {
    let started = Instant::now();
    let path = match agent.send(LogPath(req.clone())).await {
        Ok(Some(path)) => path,
        Ok(None) => {
            return answer_once(responder, LogChunk::NotFound(not_here_message(&req))).await
        }
        Err(e) => {
            let msg = format!("node agent unavailable: {e}");
            return answer_once(responder, LogChunk::NotFound(msg)).await;
        }
    };
    let tail = (req.tail_lines > 0).then_some(req.tail_lines as usize);
    if req.previous {
        let limit = match req.limit_bytes {
            0 => MAX_LOG_REPLY,
            n => n.min(MAX_LOG_REPLY),
        } as usize;
        let read =
            tokio::task::spawn_blocking(move || read_log(&path, tail, true, req.timestamps, limit))
                .await;
        let chunk = match read {
            Ok(Ok(bytes)) => LogChunk::Data(bytes),
            Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => {
                LogChunk::NotFound(no_log_message(&req))
            }
            Ok(Err(e)) => LogChunk::NotFound(format!("reading the log: {e}")),
            Err(e) => LogChunk::NotFound(format!("reading the log: {e}")),
        };
        let end = matches!(chunk, LogChunk::Data(_));
        if responder.send(&chunk).await.is_ok()
            && (!end || responder.send(&LogChunk::End).await.is_ok())
        {
            let _ = responder.finish().await;
        }
        return;
    }
    let opened = tokio::task::spawn_blocking(move || FileFollower::open(path)).await;
    let follower = match opened {
        Ok(Ok(f)) => f,
        Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => {
            return answer_once(responder, LogChunk::NotFound(no_log_message(&req))).await
        }
        Ok(Err(e)) => {
            let msg = format!("reading the log: {e}");
            return answer_once(responder, LogChunk::NotFound(msg)).await;
        }
        Err(e) => {
            let msg = format!("reading the log: {e}");
            return answer_once(responder, LogChunk::NotFound(msg)).await;
        }
    };
    // Accept the stream at once: reading a long log for its tail may take a while.
    if responder.send(&LogChunk::Data(Vec::new())).await.is_err() {
        return;
    }
    let mut out = Output {
        responder,
        budget: match req.limit_bytes {
            0 => u64::MAX,
            n => n,
        },
    };
    let stopped = out.responder.stopped();
    tokio::pin!(stopped);
    let mut follower = Some(follower);
    let mut asm = LineAssembler::new(req.timestamps);
    // With tailLines, the current content's lines are held (the last N) until it is all read.
    let mut tail_lines: Option<(usize, VecDeque<Vec<u8>>)> = tail.map(|n| (n, VecDeque::new()));
    let key = format!("{}/{}", req.namespace, req.name);
    let mut not_running = 0u32;
    loop {
        let Some((bytes, more)) = poll(&mut follower).await else {
            let _ = out
                .responder
                .send(&LogChunk::NotFound("reading the log failed".into()))
                .await;
            return;
        };
        let mut lines = asm.push(&bytes);
        if let Some((n, held)) = tail_lines.as_mut() {
            held.extend(lines.drain(..));
            let excess = held.len().saturating_sub(*n);
            held.drain(..excess);
            if !more {
                lines = held.drain(..).collect();
                tail_lines = None;
            }
        }
        match out.send_lines(lines).await {
            Flow::Go => {}
            Flow::LimitReached => return out.end().await,
            Flow::Gone => return,
        }
        if more {
            continue;
        }
        if tail_lines.is_none() && started.elapsed() >= SETTLE {
            let running = agent
                .send(ContainerRunning {
                    key: key.clone(),
                    container: req.container.clone(),
                })
                .await
                .unwrap_or(false);
            not_running = if running { 0 } else { not_running + 1 };
            if not_running >= 2 {
                // Stopped: what the writer flushed before the exit was reported is all there.
                loop {
                    let Some((bytes, more)) = poll(&mut follower).await else {
                        break;
                    };
                    match out.send_lines(asm.push(&bytes)).await {
                        Flow::Go => {}
                        Flow::LimitReached => return out.end().await,
                        Flow::Gone => return,
                    }
                    if !more {
                        break;
                    }
                }
                if let Flow::Gone = out.send_lines(asm.finish()).await {
                    return;
                }
                return out.end().await;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_EVERY) => {}
            e = &mut stopped => {
                tracing::debug!(pod = %key, container = %req.container, error = %e, "log follower gone");
                return;
            }
        }
    }
}

/// Reads what was appended to the followed file on a blocking thread: `(bytes, more)`, `more`
/// when there is more to read at once. `None` after an I/O error (logged).
async fn poll(follower: &mut Option<FileFollower>) -> Option<(Vec<u8>, bool)> {
    let mut f = follower.take()?;
    let res = tokio::task::spawn_blocking(move || {
        let read = f.read_new();
        (f, read)
    })
    .await;
    match res {
        Ok((f, Ok(read))) => {
            *follower = Some(f);
            Some(read)
        }
        Ok((f, Err(e))) => {
            tracing::warn!(path = %f.path.display(), error = %e, "following a container log failed");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "following a container log failed");
            None
        }
    }
}

enum Flow {
    Go,
    LimitReached,
    Gone,
}

/// The sending side of a followed log: frames of at most [`CHUNK_MAX`] bytes, and the
/// `limitBytes` budget.
struct Output {
    responder: Responder,
    budget: u64,
}

impl Output {
    async fn send_lines(&mut self, lines: Vec<Vec<u8>>) -> Flow {
        let mut buf = Vec::new();
        let mut limit_reached = false;
        for mut line in lines {
            if self.budget == 0 {
                break;
            }
            if line.len() as u64 >= self.budget {
                line.truncate(usize::try_from(self.budget).unwrap_or(usize::MAX));
                limit_reached = true;
            }
            self.budget -= line.len() as u64;
            buf.extend_from_slice(&line);
            if buf.len() >= CHUNK_MAX {
                let data = LogChunk::Data(std::mem::take(&mut buf));
                if self.responder.send(&data).await.is_err() {
                    return Flow::Gone;
                }
            }
            if limit_reached {
                break;
            }
        }
        if !buf.is_empty() && self.responder.send(&LogChunk::Data(buf)).await.is_err() {
            return Flow::Gone;
        }
        if limit_reached || self.budget == 0 {
            Flow::LimitReached
        } else {
            Flow::Go
        }
    }

    async fn end(mut self) {
        if self.responder.send(&LogChunk::End).await.is_ok() {
            let _ = self.responder.finish().await;
        }
    }
}

/// A log file read as it grows, across rotation (the path names a new file) and truncation.
#[derive(Debug)]
struct FileFollower {
    path: PathBuf,
    file: File,
    /// `(device, inode)` of `file`.
    id: (u64, u64),
    /// Bytes of `file` read so far.
    offset: u64,
}

impl FileFollower {
    /// Opens the log at `path` to read it from its start.
    fn open(path: PathBuf) -> io::Result<FileFollower> {
        let file = File::open(&path)?;
        let m = file.metadata()?;
        Ok(FileFollower {
            path,
            file,
            id: (m.dev(), m.ino()),
            offset: 0,
        })
    }

    /// What was appended since the last call (at most [`READ_CAP`] bytes), and whether there is
    /// more to read at once. Once the open file is read to its end and the path names another
    /// file (rotated: the writer renamed this one and created a new one), goes on with the new
    /// file from its start; a file that shrank (truncated) is read again from its start.
    fn read_new(&mut self) -> io::Result<(Vec<u8>, bool)> {
        // Look at the path first: a writer renames its file only after its last write to it,
        // so once the path names another file, reading the open one to its end gets it all.
        let at_path = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        let mut out = Vec::new();
        self.read_some(&mut out)?;
        if out.len() >= READ_CAP {
            return Ok((out, true));
        }
        if at_path.is_some_and(|id| id != self.id) {
            match File::open(&self.path) {
                Ok(file) => {
                    let m = file.metadata()?;
                    self.file = file;
                    self.id = (m.dev(), m.ino());
                    self.offset = 0;
                    self.read_some(&mut out)?;
                }
                // Between the rename and the new file: next time.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        } else if self.file.metadata()?.len() < self.offset {
            self.file.seek(SeekFrom::Start(0))?;
            self.offset = 0;
            self.read_some(&mut out)?;
        }
        let more = out.len() >= READ_CAP;
        Ok((out, more))
    }

    /// Appends up to `READ_CAP - out.len()` bytes from the open file.
    fn read_some(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let want = READ_CAP.saturating_sub(out.len());
        let n = (&mut self.file).take(want as u64).read_to_end(out)?;
        self.offset += n as u64;
        Ok(())
    }
}

/// Content a line being assembled may gather before it is passed on unfinished, so that a
/// container writing one endless line cannot grow a follower's memory without bound.
const MAX_HELD: usize = 1024 * 1024;

/// Turns CRI log bytes that arrive a bit at a time (a followed log file) into the text
/// `read_log` would render for them, as soon as each logical line is complete: a raw line
/// waits for its newline and `P` pieces wait for the `F` piece of their stream.
///
/// A line that grows past [`MAX_HELD`] bytes is passed on in parts (the timestamp prefix before
/// the first one, the newline after the last one).
#[derive(Debug)]
pub(crate) struct LineAssembler {
    timestamps: bool,
    /// Bytes of a raw line whose newline has not arrived.
    raw: Vec<u8>,
    /// Per stream (stdout, stderr): a line in pieces.
    pending: [Option<HeldLine>; 2],
}

#[derive(Debug)]
struct HeldLine {
    /// Its first piece's timestamp.
    timestamp: Vec<u8>,
    /// Content not passed on yet.
    content: Vec<u8>,
    /// Whether a part of it (and its timestamp prefix) was passed on already.
    started: bool,
}

impl LineAssembler {
    /// An assembler; with `timestamps` each line starts with `<timestamp> `.
    pub(crate) fn new(timestamps: bool) -> LineAssembler {
        LineAssembler {
            timestamps,
            raw: Vec::new(),
            pending: [None, None],
        }
    }

    /// Feeds file bytes in; returns the text they complete, one element per complete line (or
    /// part of an overlong line), each line ending in `\n`.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.raw.extend_from_slice(bytes);
        let complete = match self.raw.iter().rposition(|&b| b == b'\n') {
            Some(end) => self.raw.drain(..=end).collect::<Vec<u8>>(),
            None if self.raw.len() > MAX_HELD => {
                // Not CRI (our entries are far shorter): pass it through as it is.
                out.push(std::mem::take(&mut self.raw));
                return out;
            }
            None => return out,
        };
        for raw_line in complete.split_inclusive(|&b| b == b'\n') {
            let raw_line = raw_line.strip_suffix(b"\n").unwrap_or(raw_line);
            self.line(raw_line, &mut out);
        }
        out
    }

    /// The log ended (its container stopped): what is still held comes out, like
    /// `read_log` outputs pieces whose `F` never came.
    pub(crate) fn finish(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if !self.raw.is_empty() {
            let raw = std::mem::take(&mut self.raw);
            self.line(&raw, &mut out);
        }
        for slot in &mut self.pending {
            if let Some(held) = slot.take() {
                out.push(Self::render(self.timestamps, &held, true));
            }
        }
        out
    }

    fn line(&mut self, raw_line: &[u8], out: &mut Vec<Vec<u8>>) {
        let Some(entry) = parse_entry(raw_line) else {
            let mut line = raw_line.to_vec();
            line.push(b'\n');
            out.push(line);
            return;
        };
        let slot = &mut self.pending[usize::from(entry.stream == b"stderr")];
        let mut held = slot.take().unwrap_or_else(|| HeldLine {
            timestamp: entry.timestamp.to_vec(),
            content: Vec::new(),
            started: false,
        });
        held.content.extend_from_slice(entry.content);
        if !entry.partial {
            out.push(Self::render(self.timestamps, &held, true));
        } else if held.content.len() >= MAX_HELD {
            out.push(Self::render(self.timestamps, &held, false));
            held.content.clear();
            held.started = true;
            *slot = Some(held);
        } else {
            *slot = Some(held);
        }
    }

    fn render(timestamps: bool, held: &HeldLine, end: bool) -> Vec<u8> {
        let mut text = Vec::with_capacity(held.timestamp.len() + held.content.len() + 2);
        if timestamps && !held.started {
            text.extend_from_slice(&held.timestamp);
            text.push(b' ');
        }
        text.extend_from_slice(&held.content);
        if end {
            text.push(b'\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn feed_all(asm: &mut LineAssembler, parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            for line in asm.push(p) {
                out.extend_from_slice(&line);
            }
        }
        out
    }

    #[test]
    fn matches_read_log_however_the_bytes_are_cut() {
        let file: &[u8] = b"2026-01-01T00:00:00.000000001Z stdout F one\n\
2026-01-01T00:00:00.000000002Z stdout P tw\n\
2026-01-01T00:00:00.000000003Z stderr F err\n\
2026-01-01T00:00:00.000000004Z stdout F o\n\
not cri at all\n\
2026-01-01T00:00:00.000000005Z stdout F \n";
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        std::fs::write(&path, file).expect("write");
        for timestamps in [false, true] {
            let whole = read_log(&path, None, false, timestamps, usize::MAX).expect("read_log");
            for cut in 1..file.len() {
                let mut asm = LineAssembler::new(timestamps);
                let got = feed_all(&mut asm, &[&file[..cut], &file[cut..]]);
                assert!(
                    asm.finish().is_empty(),
                    "nothing held at the end (cut {cut})"
                );
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&whole),
                    "cut at {cut}, timestamps {timestamps}"
                );
            }
        }
    }

    #[test]
    fn lines_come_out_only_when_complete() {
        let mut asm = LineAssembler::new(false);
        assert!(asm.push(b"2026-01-01T00:00:00Z stdout P ab").is_empty());
        assert!(asm.push(b"c\n").is_empty(), "a P piece waits for its F");
        assert_eq!(
            asm.push(b"2026-01-01T00:00:01Z stdout F de\n2026-01-01T00:00:02Z std"),
            vec![b"abcde\n".to_vec()]
        );
        assert_eq!(
            asm.push(b"out F f\n"),
            vec![b"f\n".to_vec()],
            "a raw line waits for its newline"
        );
    }

    #[test]
    fn finish_outputs_what_is_held() {
        let mut asm = LineAssembler::new(true);
        assert!(asm
            .push(
                b"2026-01-01T00:00:00Z stdout P cut off\n2026-01-01T00:00:01Z stderr F no newline"
            )
            .is_empty());
        let rest = asm.finish();
        assert_eq!(
            rest,
            vec![
                b"2026-01-01T00:00:01Z no newline\n".to_vec(),
                b"2026-01-01T00:00:00Z cut off\n".to_vec()
            ]
        );
        assert!(asm.finish().is_empty());
    }

    #[test]
    fn endless_lines_are_passed_on_in_parts() {
        let mut asm = LineAssembler::new(true);
        let piece = vec![b'x'; MAX_LINE];
        let mut out = Vec::new();
        let pieces = MAX_HELD / MAX_LINE + 2;
        for i in 0..pieces {
            let mut line = format!("2026-01-01T00:00:0{}Z stdout P ", i % 10).into_bytes();
            line.extend_from_slice(&piece);
            line.push(b'\n');
            out.extend(asm.push(&line).into_iter().flatten());
        }
        out.extend(
            asm.push(b"2026-01-01T00:00:09Z stdout F end\n")
                .into_iter()
                .flatten(),
        );
        let mut want = b"2026-01-01T00:00:00Z ".to_vec();
        want.extend(std::iter::repeat_n(b'x', MAX_LINE * pieces));
        want.extend_from_slice(b"end\n");
        assert_eq!(out.len(), want.len());
        assert!(out == want, "one prefix, all content, one newline");
    }

    fn append(path: &std::path::Path, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open for append");
        f.write_all(bytes).expect("append");
    }

    fn read_new(f: &mut FileFollower) -> Vec<u8> {
        let (bytes, more) = f.read_new().expect("read_new");
        assert!(!more, "small reads are complete");
        bytes
    }

    #[test]
    fn the_follower_reads_what_is_appended() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        append(&path, b"one\n");
        let mut f = FileFollower::open(path.clone()).expect("open");
        assert_eq!(read_new(&mut f), b"one\n");
        assert_eq!(read_new(&mut f), b"");
        append(&path, b"tw");
        assert_eq!(read_new(&mut f), b"tw");
        append(&path, b"o\n");
        assert_eq!(read_new(&mut f), b"o\n");
    }

    #[test]
    fn the_follower_drains_a_rotated_file_then_reads_the_new_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        let rotated = dir.path().join("c.log.1");
        append(&path, b"a\n");
        let mut f = FileFollower::open(path.clone()).expect("open");
        assert_eq!(read_new(&mut f), b"a\n");
        // The writer's last bytes, then the rename; the new file is not there yet.
        append(&path, b"b\n");
        std::fs::rename(&path, &rotated).expect("rename");
        assert_eq!(read_new(&mut f), b"b\n");
        append(&path, b"c\n");
        assert_eq!(read_new(&mut f), b"c\n", "the new file, from its start");
        // Again: more in the old file and the new one already there.
        append(&path, b"d\n");
        std::fs::rename(&path, &rotated).expect("rename");
        append(&path, b"e\n");
        assert_eq!(
            read_new(&mut f),
            b"d\ne\n",
            "the old file's rest, then the new one"
        );
        assert_eq!(read_new(&mut f), b"");
    }

    #[test]
    fn the_follower_starts_over_when_the_file_shrinks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        append(&path, b"a long first line\n");
        let mut f = FileFollower::open(path.clone()).expect("open");
        assert_eq!(read_new(&mut f), b"a long first line\n");
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .expect("truncate");
        append(&path, b"x\n");
        assert_eq!(read_new(&mut f), b"x\n");
    }

    #[test]
    fn large_files_are_read_in_bounded_steps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        append(&path, &vec![b'z'; READ_CAP * 2 + 10]);
        let mut f = FileFollower::open(path.clone()).expect("open");
        let mut total = 0;
        let mut steps = 0;
        loop {
            let (bytes, more) = f.read_new().expect("read_new");
            assert!(bytes.len() <= READ_CAP);
            total += bytes.len();
            steps += 1;
            if !more {
                break;
            }
        }
        assert_eq!((total, steps), (READ_CAP * 2 + 10, 3));
    }
}
