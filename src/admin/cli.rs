//! `updraft state save FILE` / `updraft state load FILE`: snapshots of a running server,
//! through `GET` / `POST /_updraft/state` (a plain HTTP/1.1 exchange on loopback or wherever
//! `--endpoint` points).

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `updraft state`: save or load a running server's state.
#[derive(Debug, Parser)]
#[command(name = "updraft state")]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
    /// Where Updraft listens.
    #[arg(
        long,
        global = true,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:4566"
    )]
    endpoint: String,
    /// The server's admin token, when it has one.
    #[arg(
        long,
        global = true,
        env = "UPDRAFT_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// Download the server's state into FILE.
    Save {
        /// The snapshot file to write.
        file: std::path::PathBuf,
        /// Only this account's resources.
        #[arg(long)]
        account: Option<String>,
    },
    /// Load FILE into the server, replacing its state.
    Load {
        /// The snapshot file to read.
        file: std::path::PathBuf,
        /// Replace only the accounts the snapshot holds; keep the others.
        #[arg(long)]
        merge: bool,
    },
}

/// Run `updraft state …` (arguments after `updraft`).
pub fn run(args: impl IntoIterator<Item = String>) -> ExitCode {
    let args = StateArgs::parse_from(args);
    let token = args.admin_token.as_deref().filter(|t| !t.is_empty());
    let outcome = match &args.command {
        StateCommand::Save { file, account } => {
            let path = match account {
                Some(a) => format!("/_updraft/state?account={a}"),
                None => "/_updraft/state".to_owned(),
            };
            request(&args.endpoint, "GET", &path, token, &[]).and_then(|body| {
                std::fs::write(file, &body)
                    .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                Ok(format!("saved {} bytes to {}", body.len(), file.display()))
            })
        }
        StateCommand::Load { file, merge } => std::fs::read(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))
            .and_then(|bytes| {
                let path = if *merge {
                    "/_updraft/state?mode=merge"
                } else {
                    "/_updraft/state"
                };
                let body = request(&args.endpoint, "POST", path, token, &bytes)?;
                Ok(String::from_utf8_lossy(&body).into_owned())
            }),
    };
    match outcome {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("updraft state: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One HTTP/1.1 exchange; the body of a 200 answer, else the error the server gave.
fn request(
    endpoint: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let host = endpoint
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    let token = token
        .map(|t| format!("X-Updraft-Admin-Token: {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{token}\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut response = Vec::new();
    std::net::TcpStream::connect(host)
        .and_then(|mut stream| {
            stream.write_all(head.as_bytes())?;
            stream.write_all(body)?;
            stream.read_to_end(&mut response)
        })
        .map_err(|e| format!("cannot reach {endpoint}: {e}"))?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "the server's answer has no end of headers".to_owned())?;
    let status_line = String::from_utf8_lossy(&response[..split]);
    let answer = response[split + 4..].to_vec();
    if status_line.starts_with("HTTP/1.1 200") {
        Ok(answer)
    } else {
        let first = status_line.lines().next().unwrap_or_default().to_owned();
        Err(format!("{first}: {}", String::from_utf8_lossy(&answer)))
    }
}
