//! Classroom mode: one server for a room. `updraft classroom --students 30` (or
//! `--classroom 30` on the server's own flags) turns signature verification on, makes one
//! account per student and one for the teacher, each with a random access key and secret, and
//! writes the credentials sheet (CSV and printable cards, see [`sheets`]).
//!
//! Who may do what (enforced in `admin::auth`): students act only in their own account (the
//! API keeps accounts apart once signatures are verified) and may stress only their own
//! instances; what changes the room's world (reset, the clock, anyone's stress, the SNS inbox,
//! the teacher board, lab progress) needs the teacher: the teacher's key signing the admin
//! request (the console does that), or the admin token printed on the teacher's card (for
//! `updraft stress` and scripts).

pub mod activity;
pub mod board;
pub mod sheets;

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::state::IdGen;

/// The classroom flags (flattened into [`Config`]).
#[derive(Debug, Clone, clap::Args)]
pub struct ClassroomArgs {
    /// Classroom mode with this many students (1–500): one account each plus the teacher's,
    /// signature verification on, a credentials sheet written to --classroom-out.
    /// `updraft classroom --students N` says the same.
    #[arg(long = "classroom", env = "UPDRAFT_CLASSROOM", value_name = "STUDENTS",
          value_parser = clap::value_parser!(u16).range(1..=500))]
    pub students: Option<u16>,

    /// Classroom mode: the folder the credentials sheet (credentials.csv, cards.html) is
    /// written to.
    #[arg(
        long = "classroom-out",
        env = "UPDRAFT_CLASSROOM_OUT",
        default_value = "classroom"
    )]
    pub out: PathBuf,

    /// Classroom mode: the address students type, printed on the cards (default: the listen
    /// address, with this machine's host name when listening on every interface).
    #[arg(long = "public-url", env = "UPDRAFT_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Teacher board: a student with no API write for this many (real) minutes, lab not
    /// finished, is highlighted as stuck (0: never).
    #[arg(
        long = "stuck-minutes",
        env = "UPDRAFT_STUCK_MINUTES",
        default_value_t = 10
    )]
    pub stuck_minutes: u32,

    /// The accounts and keys (made by [`setup`], not a flag).
    #[arg(skip)]
    pub roster: Option<Arc<Roster>>,
}

impl Default for ClassroomArgs {
    fn default() -> Self {
        Self {
            students: None,
            out: PathBuf::from("classroom"),
            public_url: None,
            stuck_minutes: 10,
            roster: None,
        }
    }
}

/// A teacher or a student.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// May change the room's world and see every student.
    Teacher,
    /// Acts in their own account only.
    Student,
}

impl Role {
    /// As written on the sheet.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Teacher => "teacher",
            Role::Student => "student",
        }
    }
}

/// One person's account and key.
#[derive(Clone)]
pub struct Member {
    /// Teacher or student.
    pub role: Role,
    /// `teacher`, `student01`, `student02`…
    pub name: String,
    /// The 12-digit account id.
    pub account: String,
    /// `AKIA…`, 20 characters.
    pub access_key_id: String,
    /// 40 random characters.
    pub secret: String,
}

impl std::fmt::Debug for Member {
    // Secrets stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("role", &self.role)
            .field("name", &self.name)
            .field("account", &self.account)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The teacher (first) and the students, with the admin token given to the teacher.
#[derive(Debug, Clone)]
pub struct Roster {
    /// Teacher first, then students in order.
    pub members: Vec<Member>,
}

/// The teacher's account: easy to tell from the students' on a sheet.
pub const TEACHER_ACCOUNT: &str = "900000000000";

/// Student `n`'s account (1-based): `100000000001`, `100000000002`…
pub fn student_account(n: u16) -> String {
    format!("{:012}", 100_000_000_000u64 + u64::from(n))
}

impl Roster {
    /// A roster of `students` students and a teacher, with fresh random keys.
    pub fn generate(students: u16) -> Self {
        let ids = IdGen::default();
        let member = |role, name: String, account: String| Member {
            role,
            name,
            account,
            access_key_id: ids.access_key("AKIA", 20),
            secret: ids.secret(40),
        };
        let mut members = vec![member(
            Role::Teacher,
            "teacher".into(),
            TEACHER_ACCOUNT.into(),
        )];
        members.extend(
            (1..=students)
                .map(|n| member(Role::Student, format!("student{n:02}"), student_account(n))),
        );
        Self { members }
    }

    /// The member whose access key this is.
    pub fn by_key(&self, access_key_id: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.access_key_id == access_key_id)
    }

    /// The teacher.
    pub fn teacher(&self) -> &Member {
        &self.members[0]
    }

    /// The students, in order.
    pub fn students(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.role == Role::Student)
    }

    /// Whether `account` is the teacher's.
    pub fn is_teacher(&self, account: &str) -> bool {
        self.teacher().account == account
    }
}

/// Turn `--classroom N` into a classroom: the roster, signatures verified, only the roster's
/// keys known (the default `test:test` pair would be an unnamed way in), and an admin token
/// for the teacher's card when none was given.
pub fn setup(config: &mut Config) {
    let Some(students) = config.classroom.students else {
        return;
    };
    config.classroom.roster = Some(Arc::new(Roster::generate(students)));
    config.verify_signatures = true;
    if config.credentials == crate::config::Credentials(vec![("test".into(), "test".into())]) {
        config.credentials = crate::config::Credentials(Vec::new());
    }
    if config.admin_token().is_none() {
        config.admin_token = Some(IdGen::default().secret(32).replace(['+', '/'], "x"));
    }
}

/// The address on the cards: `--public-url`, else the listen address, with this machine's
/// host name in place of an unspecified address (0.0.0.0 is not somewhere a browser can go).
pub fn public_url(config: &Config, addr: std::net::SocketAddr) -> String {
    if let Some(url) = &config.classroom.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    if addr.ip().is_unspecified() {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        return format!("http://{host}:{}", addr.port());
    }
    format!("http://{addr}")
}

/// Write the sheets for a server listening on `addr` and say where everything is (for stdout).
pub fn announce(
    config: &Config,
    roster: &Roster,
    addr: std::net::SocketAddr,
) -> std::io::Result<String> {
    let url = public_url(config, addr);
    let room = sheets::Room {
        url: &url,
        region: &config.default_region,
        admin_token: config.admin_token().unwrap_or_default(),
    };
    let written = sheets::write(&config.classroom.out, roster, &room)?;
    let reach = if addr.ip().is_unspecified() {
        "WARNING: every network interface: anyone who can reach this machine can reach the server"
    } else if addr.ip().is_loopback() {
        "loopback only: students on other machines cannot reach it (use --listen 0.0.0.0:4566)"
    } else {
        "one network interface"
    };
    let abs = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    Ok(format!(
        "Updraft classroom: {n} students and a teacher, signatures verified\n\
         \x20 listening on   {addr} ({reach})\n\
         \x20 students open  {url}/_updraft/console/\n\
         \x20 teacher board  {url}/_updraft/console/teacher/\n\
         \x20 credentials    {csv}\n\
         \x20 cards to print {html}\n\
         \x20 The teacher's card holds the teacher's key and the admin token: keep it.\n",
        n = roster.students().count(),
        csv = abs(&written.csv).display(),
        html = abs(&written.html).display(),
    ))
}

/// `updraft classroom --students N [--out DIR] [server flags…]` as the server's own flags
/// (`--classroom N --classroom-out DIR …`); other argument lists are returned unchanged.
pub fn rewrite_subcommand(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).and_then(|a| a.to_str()) != Some("classroom") {
        return args;
    }
    let mut out = vec![args[0].clone()];
    for arg in args.into_iter().skip(2) {
        let renamed = match arg.to_str() {
            Some("--students") => "--classroom".into(),
            Some("--out") => "--classroom-out".into(),
            Some(s) if s.starts_with("--students=") => {
                s.replacen("--students", "--classroom", 1).into()
            }
            Some(s) if s.starts_with("--out=") => s.replacen("--out", "--classroom-out", 1).into(),
            _ => arg,
        };
        out.push(renamed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roster_has_a_teacher_and_numbered_students_with_distinct_keys() {
        let r = Roster::generate(3);
        assert_eq!(r.members.len(), 4);
        assert_eq!(r.teacher().account, TEACHER_ACCOUNT);
        let accounts: Vec<_> = r.students().map(|m| m.account.as_str()).collect();
        assert_eq!(accounts, ["100000000001", "100000000002", "100000000003"]);
        let mut keys: Vec<_> = r.members.iter().map(|m| &m.access_key_id).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 4);
        assert!(
            r.members
                .iter()
                .all(|m| m.secret.len() == 40 && m.access_key_id.len() == 20)
        );
        assert!(!format!("{r:?}").contains(&r.teacher().secret));
        let k = &r.members[2].access_key_id;
        assert_eq!(r.by_key(k).unwrap().name, "student02");
        assert!(r.is_teacher(TEACHER_ACCOUNT) && !r.is_teacher("100000000001"));
    }

    #[test]
    fn the_subcommand_reads_as_server_flags() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let c = crate::config::from_args(
            rewrite_subcommand(args(&[
                "updraft",
                "classroom",
                "--students",
                "5",
                "--out=/tmp/x",
            ])),
            None,
        )
        .unwrap();
        assert_eq!(c.classroom.students, Some(5));
        assert_eq!(c.classroom.out, PathBuf::from("/tmp/x"));
        let mut c = c;
        setup(&mut c);
        assert!(c.verify_signatures && c.admin_token().is_some());
        assert!(c.credentials.0.is_empty());
        assert_eq!(c.classroom.roster.unwrap().members.len(), 6);
        let plain = args(&["updraft", "--listen", "127.0.0.1:1"]);
        assert_eq!(rewrite_subcommand(plain.clone()), plain);
        assert!(crate::config::from_args(args(&["updraft", "--classroom", "0"]), None).is_err());
    }
}
