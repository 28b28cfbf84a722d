//! `updraft`: parse the configuration, start logging, bind, serve until SIGINT or SIGTERM.

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use updraft::Config;

fn main() -> std::process::ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Two worker threads are plenty for an emulator and keep idle memory small.
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
        match updraft::run(listener, config, shutdown_signal()).await {
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
