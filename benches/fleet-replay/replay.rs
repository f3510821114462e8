//! A replay Docker engine for fleet benchmarks: many unix sockets, each answering the Engine API
//! requests `dockproof collect` makes with documents recorded from a real engine.
//!
//! ```text
//! fleet-replay SNAPSHOT SOCKET_DIR ENGINES CONTAINERS
//! ```
//!
//! The recording is a snapshot written by `dockproof collect` (its `engine` section holds the
//! engine's own answers to /version, /info and the inspect calls; `samples/*.snapshot.json` came
//! from Docker Engine 20.10). Engine `i` listens on `SOCKET_DIR/engine-<i>.sock`, calls itself
//! `replay-<i>` in /info, and serves CONTAINERS containers cloned from the recorded ones under
//! new ids and names. Answers are serialised once at start and shared by every engine, so the
//! replay's memory does not grow with the number of engines. It prints `ready` on stdout once
//! every socket listens and runs until killed.
//!
//! HTTP is answered by hand (request line, headers ignored, `Content-Length` bodies, keep-alive):
//! the Engine API requests here are bodiless GETs, and this keeps hyper's server feature out of
//! the build of the tool itself.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

/// Every answer one engine gives, by path (without the API version prefix or the query).
struct Answers {
    fixed: HashMap<String, Arc<Vec<u8>>>,
    info: Value,
}

fn body(v: &Value) -> Arc<Vec<u8>> {
    Arc::new(serde_json::to_vec(v).expect("JSON values serialise"))
}

fn load(snapshot: &Value, containers: usize) -> Answers {
    let engine = &snapshot["engine"];
    let mut fixed = HashMap::new();
    let templates = engine["containers"]
        .as_array()
        .expect("snapshot has containers");
    assert!(!templates.is_empty(), "the recording has no container");
    let mut listed = Vec::with_capacity(containers);
    for i in 0..containers {
        let mut c = templates[i % templates.len()].clone();
        let base = c["Name"]
            .as_str()
            .unwrap_or("/c")
            .trim_start_matches('/')
            .to_string();
        let id = hex::encode(Sha256::digest(format!("{base}-{i}")));
        c["Id"] = json!(id);
        c["Name"] = json!(format!("/{base}-{i:05}"));
        listed.push(json!({
            "Id": id,
            "Names": [c["Name"]],
            "Image": c["Config"]["Image"],
            "ImageID": c["Image"],
            "Command": "",
            "Created": 0,
            "State": c["State"]["Status"],
            "Status": "",
            "Labels": c["Config"]["Labels"],
        }));
        fixed.insert(format!("/containers/{id}/json"), body(&c));
    }
    fixed.insert("/containers/json".into(), body(&Value::Array(listed)));

    let mut images = Vec::new();
    for image in engine["images"].as_array().into_iter().flatten() {
        let mut doc = image.clone();
        let history = doc
            .as_object_mut()
            .and_then(|m| m.remove("History"))
            .unwrap_or(json!([]));
        let id = doc["Id"].as_str().unwrap_or_default().to_string();
        images.push(json!({
            "Id": id, "ParentId": "", "RepoTags": doc["RepoTags"], "RepoDigests": doc["RepoDigests"],
            "Created": 0, "Size": doc["Size"], "SharedSize": -1, "Labels": {}, "Containers": -1,
        }));
        fixed.insert(format!("/images/{id}/json"), body(&doc));
        fixed.insert(format!("/images/{id}/history"), body(&history));
    }
    fixed.insert("/images/json".into(), body(&Value::Array(images)));

    let networks = engine["networks"].as_array().cloned().unwrap_or_default();
    for n in &networks {
        if let Some(id) = n["Id"].as_str() {
            fixed.insert(format!("/networks/{id}"), body(n));
        }
    }
    fixed.insert("/networks".into(), body(&Value::Array(networks)));
    let volumes = engine["volumes"].as_array().cloned().unwrap_or_default();
    fixed.insert(
        "/volumes".into(),
        body(&json!({"Volumes": volumes, "Warnings": []})),
    );
    fixed.insert("/plugins".into(), body(&json!([])));
    fixed.insert("/version".into(), body(&engine["version"]));
    let mut info = engine["info"].clone();
    info["Containers"] = json!(containers);
    info["ContainersRunning"] = json!(containers);
    info["ContainersStopped"] = json!(0);
    Answers { fixed, info }
}

/// The path without `/vX.Y` and without the query.
fn route(target: &str) -> &str {
    let path = target.split('?').next().unwrap_or_default();
    match path.strip_prefix("/v") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            rest.find('/').map_or(path, |i| &rest[i..])
        }
        _ => path,
    }
}

async fn serve(mut stream: UnixStream, answers: Arc<Answers>, info: Arc<Vec<u8>>) {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let mut words = head.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let path = route(target);
        let (status, payload) = match path {
            "/_ping" => ("200 OK", Arc::new(b"OK".to_vec())),
            "/info" => ("200 OK", info.clone()),
            p => match answers.fixed.get(p) {
                Some(b) => ("200 OK", b.clone()),
                None => (
                    "404 Not Found",
                    body(&json!({"message": format!("no such object: {p}")})),
                ),
            },
        };
        let close = head.to_ascii_lowercase().contains("connection: close");
        let header = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n\
             Content-Length: {}\r\n{}\r\n",
            payload.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        let sent = async {
            stream.write_all(header.as_bytes()).await?;
            if method != "HEAD" {
                stream.write_all(&payload).await?;
            }
            stream.flush().await
        };
        if sent.await.is_err() || close {
            return;
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: fleet-replay SNAPSHOT SOCKET_DIR ENGINES CONTAINERS");
        std::process::exit(2);
    }
    let snapshot: Value = serde_json::from_slice(
        &std::fs::read(&args[1]).unwrap_or_else(|e| panic!("{}: {e}", args[1])),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", args[1]));
    let dir = PathBuf::from(&args[2]);
    let engines: usize = args[3].parse().expect("ENGINES is a number");
    let containers: usize = args[4].parse().expect("CONTAINERS is a number");
    let answers = Arc::new(load(&snapshot, containers));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        for e in 0..engines {
            let path = dir.join(format!("engine-{e}.sock"));
            let _ = std::fs::remove_file(&path);
            let listener =
                UnixListener::bind(&path).unwrap_or_else(|err| panic!("{path:?}: {err}"));
            let mut info = answers.info.clone();
            info["Name"] = json!(format!("replay-{e}"));
            info["ID"] = json!(format!("REPLAY:{e:04}"));
            let info = body(&info);
            let answers = answers.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, answers.clone(), info.clone()));
                }
            });
        }
        println!("ready");
        std::future::pending::<()>().await;
    });
}
