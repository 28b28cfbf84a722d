//! The credentials sheet: `credentials.csv` (one row per person, for scripts and mail merges)
//! and `cards.html` (one printable card per person: account, key, secret, the console address
//! and the CLI settings, to cut out and hand round). Both hold secrets, so they are written
//! readable by their owner only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Member, Role, Roster};

/// What every card shares.
#[derive(Debug, Clone)]
pub struct Room<'a> {
    /// The address students type (`http://10.0.0.5:4566`).
    pub url: &'a str,
    /// The region on the cards.
    pub region: &'a str,
    /// The admin token, printed on the teacher's card only.
    pub admin_token: &'a str,
}

/// The files written.
#[derive(Debug, Clone)]
pub struct Written {
    /// `…/credentials.csv`.
    pub csv: PathBuf,
    /// `…/cards.html`.
    pub html: PathBuf,
}

/// Write both files into `dir` (created if missing).
pub fn write(dir: &Path, roster: &Roster, room: &Room<'_>) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let csv = dir.join("credentials.csv");
    let html = dir.join("cards.html");
    write_private(&csv, &to_csv(roster, room))?;
    write_private(&html, &to_html(roster, room))?;
    Ok(Written { csv, html })
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    // The mode applies only to a new file: an older sheet goes first (absent is fine).
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

fn console_url(room: &Room<'_>, member: &Member) -> String {
    let page = if member.role == Role::Teacher {
        "teacher/"
    } else {
        ""
    };
    format!("{}/_updraft/console/{page}", room.url.trim_end_matches('/'))
}

/// The CSV: a header, then the teacher and each student.
pub fn to_csv(roster: &Roster, room: &Room<'_>) -> String {
    let mut out = String::from(
        "role,name,account_id,aws_access_key_id,aws_secret_access_key,region,endpoint_url,console_url\n",
    );
    for m in &roster.members {
        // Keys, secrets and URLs hold no commas or quotes; the fields need no quoting.
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            m.role.as_str(),
            m.name,
            m.account,
            m.access_key_id,
            m.secret,
            room.region,
            room.url,
            console_url(room, m)
        );
    }
    out
}

/// Escape text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn card(out: &mut String, m: &Member, room: &Room<'_>) {
    let (url, region) = (esc(room.url), esc(room.region));
    let (key, secret) = (esc(&m.access_key_id), esc(&m.secret));
    let class = m.role.as_str();
    let _ = write!(
        out,
        "<section class=\"card {class}\"><h2>{name} <small>{role}</small></h2><dl>\
         <dt>Account ID / 계정 ID</dt><dd>{account}</dd>\
         <dt>Access key ID / 액세스 키 ID</dt><dd><code>{key}</code></dd>\
         <dt>Secret access key / 보안 액세스 키</dt><dd><code>{secret}</code></dd>\
         <dt>Console / 콘솔</dt><dd><code>{console}</code></dd>",
        name = esc(&m.name),
        role = class,
        account = esc(&m.account),
        console = esc(&console_url(room, m)),
    );
    if m.role == Role::Teacher {
        let _ = write!(
            out,
            "<dt>Admin token (updraft stress, scripts)</dt><dd><code>{}</code></dd>",
            esc(room.admin_token)
        );
    }
    let _ = write!(
        out,
        "</dl><pre>aws configure set aws_access_key_id {key}\n\
         aws configure set aws_secret_access_key {secret}\n\
         aws configure set region {region}\n\
         export AWS_ENDPOINT_URL={url}\n\n\
         # or / 또는\n\
         export AWS_ACCESS_KEY_ID={key}\n\
         export AWS_SECRET_ACCESS_KEY={secret}\n\
         export AWS_DEFAULT_REGION={region}</pre></section>\n"
    );
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1cm}\
.cards{display:grid;grid-template-columns:repeat(2,1fr);gap:8mm}\
.card{border:1px dashed #555;padding:5mm;break-inside:avoid;font-size:10pt}\
.card h2{margin:0 0 3mm;font-size:13pt}.card.teacher{border:2px solid #b00}\
dt{font-weight:600;margin-top:2mm}dd{margin:0}code,pre{font-size:9pt;word-break:break-all}\
pre{white-space:pre-wrap;background:#f4f4f4;padding:2mm}\
@media print{.intro{display:none}}";

/// The printable page of cards.
pub fn to_html(roster: &Roster, room: &Room<'_>) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Updraft classroom credentials</title><style>{STYLE}</style></head><body>\
         <p class=\"intro\">Updraft classroom at <code>{url}</code>: {n} students and the \
         teacher. Print, cut along the dashed lines, hand one card to each student. \
         The teacher's card (red) stays with the teacher.</p><div class=\"cards\">\n",
        url = esc(room.url),
        n = roster.students().count(),
    );
    for m in &roster.members {
        card(&mut out, m, room);
    }
    out.push_str("</div></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_gets_a_row_and_a_card() {
        let roster = Roster::generate(2);
        let room = Room {
            url: "http://10.1.2.3:4566",
            region: "ap-northeast-2",
            admin_token: "tok<en>",
        };
        let csv = to_csv(&roster, &room);
        assert_eq!(csv.lines().count(), 4);
        let student = &roster.members[1];
        assert!(csv.contains(&format!(
            "student,student01,100000000001,{},{},ap-northeast-2,http://10.1.2.3:4566,http://10.1.2.3:4566/_updraft/console/\n",
            student.access_key_id, student.secret
        )));
        let html = to_html(&roster, &room);
        assert_eq!(html.matches("<section class=\"card").count(), 3);
        assert!(html.contains(&student.secret) && html.contains("tok&lt;en&gt;"));
        assert_eq!(
            html.matches("tok&lt;en&gt;").count(),
            1,
            "the token is on the teacher's card only"
        );
        assert!(html.contains("/_updraft/console/teacher/"));
    }
}
