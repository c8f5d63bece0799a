//! Serves container logs to the master over QUIC (channel LOGS): a one-shot read of the log
//! file, or (`follow`) the current content followed by new lines as the container writes them,
//! until it stops running.

#[allow(unused_imports)] // ContainerRunning: used by follow (in progress)
use super::agent::{ContainerRunning, LogPath, NodeAgent};
use super::runtime::read_log;
use crate::protocol::{LogRequest, LogResponse};
use actix::Addr;

/// Largest log reply sent over the wire (the frame limit is larger).
const MAX_LOG_REPLY: u64 = 8 * 1024 * 1024;

/// Answers one log request from the master.
pub(crate) async fn serve_log(
    agent: Addr<NodeAgent>,
    mut stream: capstan_transport::IncomingStream,
) {
    let reply = match stream.recv::<LogRequest>().await {
        Ok(Some(req)) => match agent.send(LogPath(req.clone())).await {
            Ok(Some(path)) => {
                let tail = (req.tail_lines > 0).then_some(req.tail_lines as usize);
                let limit = req.limit_bytes.clamp(1, MAX_LOG_REPLY) as usize;
                let read = tokio::task::spawn_blocking(move || {
                    read_log(&path, tail, req.previous, req.timestamps, limit)
                })
                .await;
                match read {
                    Ok(Ok(bytes)) => LogResponse::Data(bytes),
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                        LogResponse::NotFound(if req.previous {
                            format!(
                                "previous terminated container \"{}\" in pod \"{}\" not found",
                                req.container, req.name
                            )
                        } else {
                            format!(
                                "container \"{}\" in pod \"{}\" has no log yet",
                                req.container, req.name
                            )
                        })
                    }
                    Ok(Err(e)) => LogResponse::NotFound(format!("reading the log: {e}")),
                    Err(e) => LogResponse::NotFound(format!("reading the log: {e}")),
                }
            }
            Ok(None) => LogResponse::NotFound(format!(
                "container \"{}\" is not valid for pod \"{}\" on this node",
                req.container, req.name
            )),
            Err(e) => LogResponse::NotFound(format!("node agent unavailable: {e}")),
        },
        _ => return,
    };
    let _ = stream.respond(&reply).await;
}
