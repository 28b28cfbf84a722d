//! nginx as the reference reverse proxy of the benchmarks: started from the `nginx` on the
//! PATH (Debian's package `nginx`) with a configuration the benchmark writes, in a temporary
//! prefix; stopped on drop. `None` when there is no nginx or it does not come up.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A running nginx.
pub struct Nginx {
    child: std::process::Child,
    dir: std::path::PathBuf,
    /// Where its server listens (127.0.0.1).
    pub addr: SocketAddr,
}

impl Nginx {
    /// nginx with two workers (as Updraft has two worker threads; `PROXY_NGINX_WORKERS` to
    /// vary), keep-alive towards
    /// `backend` (`upstream backend`), and `server` as its one server block, which must
    /// listen on `127.0.0.1:{port}` (`{port}` and `{dir}`, the prefix, are filled in).
    /// `files` are written into the prefix first (certificates).
    pub fn start(
        tag: &str,
        backend: SocketAddr,
        server: &str,
        files: &[(&str, &str)],
    ) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("updraft-{tag}-bench-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("logs")).ok()?;
        for (name, text) in files {
            std::fs::write(dir.join(name), text).ok()?;
        }
        let server = server
            .replace("{port}", &port.to_string())
            .replace("{dir}", &dir.display().to_string());
        let workers: usize = std::env::var("PROXY_NGINX_WORKERS")
            .ok()
            .and_then(|w| w.parse().ok())
            .unwrap_or(2);
        let conf = format!(
            "worker_processes {workers};\n\
             error_log stderr error;\n\
             pid {dir}/nginx.pid;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
               access_log off;\n\
               keepalive_requests 100000000; keepalive_timeout 300s;\n\
               client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;\n\
               upstream backend {{ server {backend}; keepalive 128; keepalive_requests 100000000; }}\n\
               {server}\n\
             }}\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).ok()?;
        let child = std::process::Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut nginx = Self { child, dir, addr };
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline || matches!(nginx.child.try_wait(), Ok(Some(_))) {
                eprintln!("nginx did not start listening; leaving it out");
                drop(nginx);
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(nginx)
    }

    /// The master's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops its workers too (SIGKILL would orphan them).
        let stopped = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
