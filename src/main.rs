//! `updraft`: parse the configuration, start logging, bind, serve until SIGINT or SIGTERM.
//! `updraft stress <instance-id> <cpu-percent>` sets an instance's stress level on a running
//! server (the admin API's `POST /_updraft/instances/{id}/stress`). `updraft classroom
//! --students N …` starts a classroom server (see `updraft::classroom`).
//! `updraft state save FILE` / `updraft state load FILE` download or load a running server's
//! state (`/_updraft/state`).

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// `updraft stress`: make a simulated instance busy, as `yes > /dev/null` would.
#[derive(Debug, Parser)]
#[command(name = "updraft stress")]
struct StressArgs {
    /// The instance (`i-…`).
    instance_id: String,
    /// Extra CPU load in percent, 0–100; 0 clears it.
    cpu_percent: f64,
    /// Where Updraft listens.
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:4566"
    )]
    endpoint: String,
    /// The server's admin token, when it has one.
    #[arg(long, env = "UPDRAFT_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

fn stress(args: StressArgs) -> std::process::ExitCode {
    use std::io::{Read, Write};
    let host = args
        .endpoint
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = format!("{{\"cpu_percent\": {}}}", args.cpu_percent);
    let token = args
        .admin_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| format!("X-Updraft-Admin-Token: {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /_updraft/instances/{}/stress HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/json\r\n{token}Content-Length: {}\r\n\r\n{body}",
        args.instance_id,
        body.len()
    );
    let mut response = String::new();
    let sent = std::net::TcpStream::connect(&host).and_then(|mut stream| {
        stream.write_all(request.as_bytes())?;
        stream.read_to_string(&mut response)
    });
    if let Err(err) = sent {
        eprintln!("updraft stress: cannot reach {}: {err}", args.endpoint);
        return std::process::ExitCode::FAILURE;
    }
    let ok = response.starts_with("HTTP/1.1 200");
    println!("{}", response.split("\r\n\r\n").nth(1).unwrap_or_default());
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("stress") {
        return stress(StressArgs::parse_from(std::env::args().skip(1)));
    }
    if std::env::args().nth(1).as_deref() == Some("state") {
        return updraft::admin::cli::run(std::env::args().skip(1));
    }
    let ec2_vm_manager = std::env::var("EC2_VM_MANAGER").ok();
    let mut config =
        match updraft::config::from_args(std::env::args_os(), ec2_vm_manager.as_deref()) {
            Ok(c) => c,
            Err(err) => err.exit(),
        };
    updraft::classroom::setup(&mut config);
    if let Some(why) = config.startup_problem() {
        eprintln!("updraft: refusing to start: {why}");
        return std::process::ExitCode::FAILURE;
    }
    if config.classroom.roster.is_none()
        && let Some(warning) = config.startup_warning()
    {
        eprintln!("updraft: warning: {warning}");
    }
    // A lab file with a problem is a broken build, named with its file and line.
    if let Err(why) = updraft::admin::lab::check_embedded() {
        eprintln!("updraft: refusing to start: {why}");
        return std::process::ExitCode::FAILURE;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let persistence = std::env::var("PERSISTENCE").ok();
    if let Some(dir) = config.apply_localstack_persistence(persistence.as_deref()) {
        tracing::info!(state_dir = %dir.display(), "PERSISTENCE=1: keeping state in the default directory");
    }
    if let Err(why) =
        updraft::controllers::sns_http::tls_config(config.sns_https_ca_file.as_deref())
    {
        eprintln!("updraft: --sns-https-ca-file: {why}");
        return std::process::ExitCode::FAILURE;
    }
    // Two worker threads are plenty for the controllers and the accept loop, and keep idle
    // memory small; client connections are served on the connection threads
    // (`--connection-threads`, `server::lanes`).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("updraft: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        // The state directory is read before the port is bound: a file that cannot be loaded
        // stops the start before anything listens.
        let state = updraft::state::AppState::new(config.clone());
        if let Err(err) = updraft::state::persist::disk::open(&state) {
            eprintln!("updraft: {err}");
            return std::process::ExitCode::FAILURE;
        }
        let listener = match TcpListener::bind(config.listen).await {
            Ok(l) => l,
            Err(err) => {
                eprintln!("updraft: cannot listen on {}: {err}", config.listen);
                return std::process::ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().map_or_else(|_| config.listen.to_string(), |a| a.to_string());
        tracing::info!(listen = %addr, time_scale = config.time_scale, instances = ?config.instances,
            verify_signatures = config.verify_signatures, "updraft ready");
        if let (Some(roster), Ok(local)) = (config.classroom.roster.clone(), listener.local_addr()) {
            match updraft::classroom::announce(&config, &roster, local) {
                Ok(text) => println!("{text}"),
                Err(err) => {
                    eprintln!("updraft: cannot write the classroom sheets to {}: {err}",
                        config.classroom.out.display());
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
        match updraft::run_with_state(listener, state, shutdown_signal()).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("updraft: {err}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
