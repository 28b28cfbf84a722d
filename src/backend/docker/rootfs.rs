//! The default AMI: a root filesystem around the host's static busybox, made in memory as a tar
//! and imported into the engine (no registry needed), and the files placed into an instance
//! before its first start.
//!
//! The image's PID 1 is [`INIT`], a busybox `sh` script that, on every boot, prints
//! `updraft: boot N finished` once the instance is up (the backend waits for that line), and on
//! the first boot of each instance runs its user data with the output on the console.

use std::io;
use std::path::Path;

/// Where an instance's files live inside its container.
pub fn instance_dir(instance_id: &str) -> String {
    format!("/var/lib/updraft/instance/{instance_id}")
}

/// The console line that says boot `n` is done.
pub fn boot_marker(n: u32) -> String {
    format!("updraft: boot {n} finished")
}

/// PID 1 of the busybox image (run as `/bin/busybox sh /sbin/updraft-init`).
pub const INIT: &str = r#"#!/bin/sh
# Updraft's init for its busybox AMIs: PID 1 of every instance container.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
id=${UPDRAFT_INSTANCE_ID:-unknown}
dir=/var/lib/updraft/instance/$id
mkdir -p "$dir" /tmp /var/www
boot=$(( $(cat "$dir/boots" 2>/dev/null || echo 0) + 1 ))
echo "$boot" > "$dir/boots"
echo "Updraft busybox init: boot $boot of $id ($UPDRAFT_INSTANCE_TYPE in $UPDRAFT_AZ)"
[ -f /var/www/index.html ] || echo "Hello from $id in $UPDRAFT_AZ" > /var/www/index.html
if [ -f "$dir/user-data" ] && [ ! -f "$dir/user-data.done" ]; then
  : > "$dir/user-data.done"
  echo "updraft: running user data"
  sh "$dir/user-data" 2>&1
  echo "updraft: user data finished with status $?"
fi
# The default web server; when user data already serves :80, this one cannot bind and quits.
httpd -p 80 -h /var/www 2>/dev/null
echo "updraft: boot $boot finished"
trap 'echo "updraft: shutting down"; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"#;

fn dir(b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(mode);
    h.set_size(0);
    h.set_mtime(0);
    b.append_data(&mut h, path, io::empty())
}

fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, data: &[u8]) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(mode);
    h.set_size(data.len() as u64);
    h.set_mtime(0);
    b.append_data(&mut h, path, data)
}

fn symlink(b: &mut tar::Builder<Vec<u8>>, path: &str, target: &str) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_mode(0o777);
    h.set_size(0);
    h.set_mtime(0);
    b.append_link(&mut h, path, target)
}

/// The applets a busybox binary offers, as full paths (`/bin/sh`, `/usr/sbin/httpd`, ...).
fn applets(busybox: &Path) -> Vec<String> {
    let listed = std::process::Command::new(busybox)
        .arg("--list-full")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut out: Vec<String> = listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(".."))
        .map(|l| format!("/{}", l.trim_start_matches('/')))
        .collect();
    // A busybox that cannot list itself still gets the shell and what init uses.
    for needed in [
        "/bin/sh",
        "/bin/sleep",
        "/bin/mkdir",
        "/bin/cat",
        "/usr/sbin/httpd",
    ] {
        if !out.iter().any(|a| a == needed) {
            out.push(needed.to_owned());
        }
    }
    out
}

/// The busybox root filesystem as an uncompressed tar.
pub fn busybox_rootfs(busybox: &Path) -> Result<Vec<u8>, String> {
    let binary = std::fs::read(busybox).map_err(|e| {
        format!(
            "cannot read busybox at {} ({e}); install Debian's busybox-static or point \
             --busybox at a static busybox",
            busybox.display()
        )
    })?;
    let build = || -> io::Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        for (d, mode) in [
            ("bin", 0o755),
            ("sbin", 0o755),
            ("usr", 0o755),
            ("usr/bin", 0o755),
            ("usr/sbin", 0o755),
            ("etc", 0o755),
            ("root", 0o700),
            ("home", 0o755),
            ("tmp", 0o1777),
            ("var", 0o755),
            ("var/www", 0o755),
            ("var/lib", 0o755),
            ("var/lib/updraft", 0o755),
            ("run", 0o755),
            ("proc", 0o555),
            ("sys", 0o555),
            ("dev", 0o755),
        ] {
            dir(&mut b, d, mode)?;
        }
        file(&mut b, "bin/busybox", 0o755, &binary)?;
        for applet in applets(busybox) {
            if applet != "/bin/busybox" {
                symlink(&mut b, applet.trim_start_matches('/'), "/bin/busybox")?;
            }
        }
        file(&mut b, "sbin/updraft-init", 0o755, INIT.as_bytes())?;
        file(
            &mut b,
            "etc/passwd",
            0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )?;
        file(&mut b, "etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n")?;
        file(
            &mut b,
            "etc/os-release",
            0o644,
            b"NAME=\"Updraft busybox\"\nID=updraft-busybox\nPRETTY_NAME=\"Updraft busybox (a stand-in for the AMI)\"\n",
        )?;
        b.into_inner()
    };
    build().map_err(|e| format!("cannot build the busybox root filesystem: {e}"))
}

/// The tar placed at `/` of an instance before its first start: its user-data script.
pub fn user_data_archive(instance_id: &str, script: &str) -> Result<Vec<u8>, String> {
    let build = || -> io::Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        let d = instance_dir(instance_id);
        let d = d.trim_start_matches('/');
        let mut parts = String::new();
        for segment in d.split('/') {
            if !parts.is_empty() {
                parts.push('/');
            }
            parts.push_str(segment);
            dir(&mut b, &parts, 0o755)?;
        }
        file(&mut b, &format!("{d}/user-data"), 0o755, script.as_bytes())?;
        b.into_inner()
    };
    build().map_err(|e| format!("cannot pack the user data: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar_bytes: &[u8]) -> Vec<String> {
        let mut a = tar::Archive::new(tar_bytes);
        a.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn rootfs_has_busybox_its_applets_and_init() {
        // Any readable file stands in for the binary; its applet list then falls back.
        let t = busybox_rootfs(Path::new("/bin/sh")).unwrap();
        let n = names(&t);
        for want in [
            "bin/busybox",
            "bin/sh",
            "usr/sbin/httpd",
            "sbin/updraft-init",
            "tmp",
        ] {
            assert!(
                n.iter().any(|x| x.trim_end_matches('/') == want),
                "{want}: {n:?}"
            );
        }
        let err = busybox_rootfs(Path::new("/nonexistent/busybox")).unwrap_err();
        assert!(err.contains("busybox-static"), "{err}");
    }

    #[test]
    fn user_data_goes_into_the_instance_dir() {
        let t = user_data_archive("i-1", "#!/bin/sh\necho hi\n").unwrap();
        let n = names(&t);
        assert_eq!(n.last().unwrap(), "var/lib/updraft/instance/i-1/user-data");
        assert!(INIT.contains(&instance_dir("$id").replace("/$id", "/")));
        assert!(INIT.contains("updraft: boot $boot finished"));
        assert_eq!(boot_marker(2), "updraft: boot 2 finished");
    }
}
