//! User data → one POSIX shell script, as cloud-init would run it (pure; unit-tested).
//!
//! Formats understood, as on EC2:
//!
//! - a script starting with `#!` (run with its interpreter when the image has it, else `sh`:
//!   the busybox image has no bash, and most `#!/bin/bash` user data is plain sh);
//! - `#cloud-config`: `write_files` (path, content, `encoding: b64`, permissions, append),
//!   `bootcmd` and `runcmd` (strings run by the shell, lists as quoted argv); other keys
//!   (`packages`, `users`, …) are named on the console as not supported here;
//! - multipart MIME (`Content-Type: multipart/mixed`) whose parts are any of the above
//!   (`text/x-shellscript`, `text/cloud-config`, `text/cloud-boothook`), base64 parts included;
//! - anything else is not run (cloud-init ignores it too), with a console line saying so.
//!
//! Order, as cloud-init's stages run them: every `write_files`, then `bootcmd`, then the
//! scripts in the order given, then `runcmd`. Every file the script writes is carried as base64
//! in a here-document, so no user content can end a here-document early or be expanded.

use base64::Engine;
use yaml_rust2::{Yaml, YamlLoader};

/// Where the generated script keeps its part files inside the instance.
const PARTS_DIR: &str = "/var/lib/updraft/parts";

/// The shell script that does what `user_data` asks. `None` when there is nothing to run.
pub fn to_script(user_data: &str) -> Option<String> {
    if user_data.trim().is_empty() {
        return None;
    }
    let mut plan = Plan::default();
    collect(user_data, &mut plan, 0);
    Some(plan.render())
}

/// What the user data asks for, in cloud-init's order.
#[derive(Debug, Default)]
struct Plan {
    files: Vec<WriteFile>,
    bootcmd: Vec<String>,
    scripts: Vec<String>,
    runcmd: Vec<String>,
    notes: Vec<String>,
}

#[derive(Debug, PartialEq)]
struct WriteFile {
    path: String,
    content: Vec<u8>,
    permissions: Option<String>,
    append: bool,
}

fn collect(text: &str, plan: &mut Plan, depth: usize) {
    let trimmed = text.trim_start();
    if trimmed.starts_with("#cloud-config") {
        cloud_config(trimmed, plan);
    } else if trimmed.starts_with("#!") {
        plan.scripts.push(trimmed.to_owned());
    } else if trimmed.starts_with("#cloud-boothook") {
        plan.bootcmd.push(trimmed.to_owned());
    } else if depth < 3
        && let Some(parts) = multipart(text)
    {
        for part in parts {
            collect(&part, plan, depth + 1);
        }
    } else {
        let first = trimmed.lines().next().unwrap_or_default();
        plan.notes.push(format!(
            "user data not run: unknown format (first line {:?})",
            first.chars().take(40).collect::<String>()
        ));
    }
}

/// The bodies of a `multipart/mixed` message, decoded; `None` if `text` is not one.
fn multipart(text: &str) -> Option<Vec<String>> {
    let text = text.replace("\r\n", "\n");
    let (headers, body) = text.split_once("\n\n")?;
    let content_type = header(headers, "content-type")?;
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    let boundary = content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })?;
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in body.split(&delimiter).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
        let (part_headers, part_body) = chunk.split_once("\n\n").unwrap_or(("", chunk));
        let part_body = part_body.strip_suffix('\n').unwrap_or(part_body);
        let encoding = header(part_headers, "content-transfer-encoding").unwrap_or_default();
        let decoded = if encoding.eq_ignore_ascii_case("base64") {
            let compact: String = part_body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?;
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            part_body.to_owned()
        };
        // A part whose type says what it is, even without the leading marker line.
        let kind = header(part_headers, "content-type").unwrap_or_default();
        let kind = kind.split(';').next().unwrap_or_default().trim();
        let decoded = match kind {
            "text/cloud-config" if !decoded.trim_start().starts_with("#cloud-config") => {
                format!("#cloud-config\n{decoded}")
            }
            "text/x-shellscript" if !decoded.trim_start().starts_with("#!") => {
                format!("#!/bin/sh\n{decoded}")
            }
            _ => decoded,
        };
        parts.push(decoded);
    }
    Some(parts)
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn cloud_config(text: &str, plan: &mut Plan) {
    let doc = match YamlLoader::load_from_str(text) {
        Ok(mut docs) if !docs.is_empty() => docs.swap_remove(0),
        Ok(_) => return,
        Err(err) => {
            plan.notes
                .push(format!("cloud-config not run: invalid YAML ({err})"));
            return;
        }
    };
    let Yaml::Hash(map) = &doc else {
        plan.notes
            .push("cloud-config not run: not a mapping".to_owned());
        return;
    };
    for (key, value) in map {
        match key.as_str().unwrap_or_default() {
            "write_files" => {
                for f in value.as_vec().into_iter().flatten() {
                    match write_file(f) {
                        Some(f) => plan.files.push(f),
                        None => plan
                            .notes
                            .push("cloud-config write_files entry without a path".to_owned()),
                    }
                }
            }
            "runcmd" => plan.runcmd.extend(commands(value)),
            "bootcmd" => plan.bootcmd.extend(commands(value)),
            other => plan
                .notes
                .push(format!("cloud-config key {other:?} is not supported here")),
        }
    }
}

fn write_file(entry: &Yaml) -> Option<WriteFile> {
    let path = scalar(&entry["path"])?;
    let content = scalar(&entry["content"]).unwrap_or_default();
    let encoding = scalar(&entry["encoding"]).unwrap_or_default();
    let content = match encoding.as_str() {
        "b64" | "base64" => {
            let compact: String = content.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_else(|_| content.into_bytes())
        }
        _ => content.into_bytes(),
    };
    Some(WriteFile {
        path,
        content,
        permissions: scalar(&entry["permissions"]),
        append: entry["append"].as_bool().unwrap_or(false),
    })
}

/// A YAML scalar as text (`0644` stays `0644` when quoted; plain octal-looking ints too).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `runcmd` / `bootcmd` items as shell lines: strings as they are, lists as quoted argv.
fn commands(value: &Yaml) -> Vec<String> {
    value
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|item| match item {
            Yaml::Array(words) => Some(
                words
                    .iter()
                    .filter_map(scalar)
                    .map(|w| quote(&w))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            other => scalar(other),
        })
        .collect()
}

/// Single-quote a word for sh.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `cat`-free file writing: the bytes travel as base64 in a here-document.
fn emit_file(out: &mut String, path: &str, content: &[u8], append: bool) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let redirect = if append { ">>" } else { ">" };
    let path = quote(path);
    out.push_str(&format!(
        "mkdir -p \"$(dirname {path})\"\nbase64 -d {redirect} {path} <<'UPDRAFT_B64'\n"
    ));
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("UPDRAFT_B64\n");
}

impl Plan {
    fn render(&self) -> String {
        let mut out = String::from(
            "#!/bin/sh\n# Generated by Updraft from the instance's user data.\n\
             run_part() {\n  interp=$(head -n 1 \"$1\" | sed -n 's/^#! *\\([^ ]*\\).*/\\1/p')\n  \
             if [ -n \"$interp\" ] && [ -x \"$interp\" ]; then \"$1\"; else sh \"$1\"; fi\n  \
             status=$?\n  [ \"$status\" = 0 ] || echo \"updraft: $2 exited with status $status\"\n}\n",
        );
        out.push_str(&format!("mkdir -p {PARTS_DIR}\n"));
        for note in &self.notes {
            out.push_str(&format!("echo {}\n", quote(&format!("updraft: {note}"))));
        }
        for f in &self.files {
            emit_file(&mut out, &f.path, &f.content, f.append);
            if let Some(mode) = &f.permissions {
                out.push_str(&format!("chmod {} {}\n", quote(mode), quote(&f.path)));
            }
        }
        let mut n = 0;
        let mut part = |out: &mut String, body: &str, what: &str| {
            n += 1;
            let path = format!("{PARTS_DIR}/part-{n:03}");
            emit_file(out, &path, body.as_bytes(), false);
            out.push_str(&format!(
                "chmod 0755 {path}\nrun_part {path} {}\n",
                quote(what)
            ));
        };
        if !self.bootcmd.is_empty() {
            part(&mut out, &shell_lines(&self.bootcmd), "bootcmd");
        }
        for script in &self.scripts {
            part(&mut out, script, "user data script");
        }
        if !self.runcmd.is_empty() {
            part(&mut out, &shell_lines(&self.runcmd), "runcmd");
        }
        out
    }
}

fn shell_lines(lines: &[String]) -> String {
    let mut s = String::from("#!/bin/sh\n");
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode every base64 here-document of a generated script, in order.
    fn payloads(script: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut lines = script.lines();
        while let Some(l) = lines.next() {
            if l.ends_with("<<'UPDRAFT_B64'") {
                let b64: String = lines.by_ref().take_while(|l| *l != "UPDRAFT_B64").collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap();
                out.push(String::from_utf8(bytes).unwrap());
            }
        }
        out
    }

    #[test]
    fn a_script_runs_as_it_is() {
        let ud = "#!/bin/bash\necho 'hi UPDRAFT_B64'\necho done > /tmp/x\n";
        let s = to_script(ud).unwrap();
        assert_eq!(payloads(&s), [ud]);
        assert!(s.contains("run_part /var/lib/updraft/parts/part-001 'user data script'"));
        assert_eq!(to_script("  \n"), None);
    }

    #[test]
    fn cloud_config_writes_files_then_runs_commands() {
        let ud = "#cloud-config\nwrite_files:\n  - path: /var/www/index.html\n    content: |\n      Hello ELB\n    permissions: '0644'\n  - path: /etc/b\n    encoding: b64\n    content: aGk=\n    append: true\nruncmd:\n  - echo one\n  - [sh, -c, \"echo it's two\"]\npackages: [nginx]\n";
        let s = to_script(ud).unwrap();
        assert_eq!(
            payloads(&s),
            [
                "Hello ELB\n",
                "hi",
                "#!/bin/sh\necho one\n'sh' '-c' 'echo it'\\''s two'\n"
            ]
        );
        assert!(s.contains("base64 -d > '/var/www/index.html'"));
        assert!(s.contains("chmod '0644' '/var/www/index.html'"));
        assert!(s.contains("base64 -d >> '/etc/b'"));
        assert!(s.contains("'updraft: cloud-config key \"packages\" is not supported here'"));
        let runcmd_at = s.find("'runcmd'").unwrap();
        assert!(s.find("/var/www/index.html").unwrap() < runcmd_at);
    }

    #[test]
    fn multipart_parts_are_each_handled() {
        let script = base64::engine::general_purpose::STANDARD.encode("#!/bin/sh\necho b64\n");
        let ud = format!(
            "Content-Type: multipart/mixed; boundary=\"//\"\r\nMIME-Version: 1.0\r\n\r\n\
             --//\r\nContent-Type: text/cloud-config; charset=\"us-ascii\"\r\n\r\n\
             #cloud-config\r\nruncmd:\r\n- echo cc\r\n\r\n\
             --//\r\nContent-Type: text/x-shellscript\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {script}\r\n--//--\r\n"
        );
        let s = to_script(&ud).unwrap();
        assert_eq!(
            payloads(&s),
            ["#!/bin/sh\necho b64\n", "#!/bin/sh\necho cc\n"]
        );
    }

    #[test]
    fn unknown_and_broken_input_is_reported_not_run() {
        let s = to_script("just text").unwrap();
        assert!(s.contains("unknown format"), "{s}");
        assert!(payloads(&s).is_empty());
        let s = to_script("#cloud-config\nruncmd: [unclosed\n").unwrap();
        assert!(s.contains("invalid YAML"), "{s}");
        let s = to_script("#cloud-config\n- a\n").unwrap();
        assert!(s.contains("not a mapping"), "{s}");
    }
}
