//! Classroom mode: `updraft classroom --students N` writes a credentials sheet whose keys work
//! with the real `aws` CLI, each in its own account; students cannot see each other's
//! resources nor call the teacher's admin endpoints (admin requests signed by botocore's own
//! SigV4 signer, as the console signs them); the teacher can.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft::Config;
use updraft::classroom::Member;

use crate::common::TestServer;

/// Run the `aws` CLI at `url` as `member`.
pub fn aws_as(url: &str, member: &Member, args: &[&str]) -> (bool, Value, String) {
    let out = Command::new("aws")
        .args([
            "--endpoint-url",
            url,
            "--output",
            "json",
            "--region",
            "ap-northeast-2",
        ])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", &member.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &member.secret)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_PAGER", "")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("the aws CLI runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.success(),
        value,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An admin request signed with `member`'s key by botocore's SigV4 signer (signing name
/// `updraft`): (status, JSON body).
pub fn admin_as(
    s: &TestServer,
    member: Option<&Member>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let script = r#"
import json, os, sys, urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url = os.environ["ENDPOINT"] + os.environ["ADMIN_PATH"]
body = os.environ.get("ADMIN_BODY") or None
headers = {"Content-Type": "application/json"} if body else {}
req = AWSRequest(method=os.environ["ADMIN_METHOD"], url=url, data=body, headers=headers)
if os.environ.get("KEY"):
    SigV4Auth(Credentials(os.environ["KEY"], os.environ["SECRET"]), "updraft", "ap-northeast-2").add_auth(req)
p = req.prepare()
data = p.body.encode() if isinstance(p.body, str) else p.body
r = urllib.request.Request(p.url, data=data, headers=dict(p.headers), method=p.method)
try:
    resp = urllib.request.urlopen(r)
    status, text = resp.status, resp.read()
except urllib.error.HTTPError as e:
    status, text = e.code, e.read()
try:
    value = json.loads(text)
except Exception:
    value = text.decode()
print(json.dumps({"status": status, "body": value}))
"#;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let (key, secret) = member.map_or(("", ""), |m| (&m.access_key_id, &m.secret));
    let out = s.boto3_with_env(
        script,
        &[
            ("ADMIN_PATH", path),
            ("ADMIN_METHOD", method),
            ("ADMIN_BODY", &body),
            ("KEY", key),
            ("SECRET", secret),
        ],
    );
    (out["status"].as_u64().unwrap() as u16, out["body"].clone())
}

/// A classroom server of `students` students on 127.0.0.1:0, clock frozen.
pub fn classroom(students: u16) -> (TestServer, std::sync::Arc<updraft::classroom::Roster>) {
    let mut config = Config {
        time_scale: 0.0,
        ..Config::default()
    };
    config.classroom.students = Some(students);
    updraft::classroom::setup(&mut config);
    let roster = config.classroom.roster.clone().unwrap();
    (TestServer::with_config(config), roster)
}

/// Run one instance as `member`; its id.
pub fn run_instance(s: &TestServer, member: &Member) -> String {
    let (ok, images, err) = aws_as(
        &s.url,
        member,
        &["ec2", "describe-images", "--owners", "amazon"],
    );
    assert!(ok, "{err}");
    let ami = images["Images"][0]["ImageId"].as_str().unwrap().to_owned();
    let (ok, run, err) = aws_as(
        &s.url,
        member,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
        ],
    );
    assert!(ok, "{err}");
    run["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn classroom_start_writes_sheets_whose_keys_name_their_accounts() {
    let out = std::env::temp_dir().join(format!("updraft-classroom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out); // left from an earlier run, or absent
    let mut child = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args([
            "classroom",
            "--students",
            "3",
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "0",
        ])
        .arg("--out")
        .arg(&out)
        .env("RUST_LOG", "warn")
        .env_remove("UPDRAFT_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the updraft binary runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !printed.contains("cards to print") && Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => printed.push_str(&format!("{line}\n")),
            _ => break,
        }
    }
    let addr = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("listening on"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned);
    let Some(addr) = addr else {
        let _ = child.kill(); // failing anyway
        panic!("no listen address in:\n{printed}");
    };
    let url = format!("http://{addr}");
    assert!(printed.contains("loopback only"), "{printed}");
    assert!(
        printed.contains(&format!("{url}/_updraft/console/teacher/")),
        "{printed}"
    );
    let csv = std::fs::read_to_string(out.join("credentials.csv")).unwrap();
    let html = std::fs::read_to_string(out.join("cards.html")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 4, "{csv}");
    let mut accounts = Vec::new();
    for row in &rows {
        let member = Member {
            role: updraft::classroom::Role::Student,
            name: row[1].into(),
            account: row[2].into(),
            access_key_id: row[3].into(),
            secret: row[4].into(),
        };
        assert!(html.contains(&member.secret) && html.contains(&member.access_key_id));
        let (ok, id, err) = aws_as(&url, &member, &["sts", "get-caller-identity"]);
        assert!(ok, "{}: {err}", member.name);
        assert_eq!(id["Account"], member.account, "{}", member.name);
        accounts.push(member.account.clone());
        let wrong = Member {
            secret: "not-the-secret".into(),
            ..member
        };
        let (ok, _, err) = aws_as(&url, &wrong, &["sts", "get-caller-identity"]);
        assert!(!ok && err.contains("SignatureDoesNotMatch"), "{err}");
    }
    assert_eq!(rows[0][0], "teacher");
    accounts.sort();
    accounts.dedup();
    assert_eq!(accounts.len(), 4);
    // The usual test:test pair is no way in to a classroom.
    let anon = Member {
        role: updraft::classroom::Role::Student,
        name: "x".into(),
        account: String::new(),
        access_key_id: "test".into(),
        secret: "test".into(),
    };
    let (ok, _, err) = aws_as(&url, &anon, &["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("InvalidClientTokenId"), "{err}");
    let _ = child.kill(); // the server runs until stopped
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn classroom_students_are_apart_and_only_the_teacher_changes_the_world() {
    let (s, roster) = classroom(2);
    let (teacher, one, two) = (&roster.members[0], &roster.members[1], &roster.members[2]);
    let mine = run_instance(&s, one);
    // Another student's instance does not exist for this one.
    let (ok, _, err) = aws_as(
        &s.url,
        two,
        &["ec2", "describe-instances", "--instance-ids", &mine],
    );
    assert!(!ok && err.contains("InvalidInstanceID.NotFound"), "{err}");
    let (ok, listed, err) = aws_as(&s.url, two, &["ec2", "describe-instances"]);
    assert!(ok, "{err}");
    assert_eq!(listed["Reservations"], json!([]));

    let stress = format!("/_updraft/instances/{mine}/stress");
    let cpu = Some(json!({"cpu_percent": 90}));
    // The other student: not found for stress, refused for the teacher's endpoints.
    assert_eq!(admin_as(&s, Some(two), "POST", &stress, cpu.clone()).0, 404);
    for (method, path, body) in [
        ("POST", "/_updraft/reset", None),
        (
            "POST",
            "/_updraft/clock",
            Some(json!({"advance_seconds": 60})),
        ),
        ("GET", "/_updraft/classroom/board", None),
        (
            "GET",
            &format!("/_updraft/classroom/peek?account={}", one.account),
            None,
        ),
        (
            "GET",
            &format!("/_updraft/lab/progress?account={}", one.account),
            None,
        ),
        ("GET", "/_updraft/sns/inbox", None),
    ] {
        let (status, answer) = admin_as(&s, Some(two), method, path, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(answer["code"], "TeacherOnly");
    }
    // Unsigned: 401; a wrong secret: 403.
    assert_eq!(admin_as(&s, None, "POST", "/_updraft/reset", None).0, 401);
    let forged = Member {
        secret: "forged".into(),
        ..teacher.clone()
    };
    let (status, answer) = admin_as(&s, Some(&forged), "POST", "/_updraft/reset", None);
    assert_eq!(
        (status, answer["code"].as_str()),
        (403, Some("SignatureDoesNotMatch"))
    );
    // The owner may stress their own instance.
    let (status, answer) = admin_as(&s, Some(one), "POST", &stress, cpu.clone());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["cpu_percent"], 90.0);

    // The teacher, signed: the clock, anyone's stress, the board, a peek.
    let (status, clock) = admin_as(
        &s,
        Some(teacher),
        "POST",
        "/_updraft/clock",
        Some(json!({"scale": 10})),
    );
    assert_eq!(
        (status, clock["scale"].as_f64()),
        (200, Some(10.0)),
        "{clock}"
    );
    let (status, _) = admin_as(
        &s,
        Some(teacher),
        "POST",
        &stress,
        Some(json!({"cpu_percent": 0})),
    );
    assert_eq!(status, 200);
    let (status, board) = admin_as(&s, Some(teacher), "GET", "/_updraft/classroom/board", None);
    assert_eq!(status, 200, "{board}");
    let rows = board["students"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["account"], one.account.as_str());
    assert_eq!(rows[0]["active"], true);
    assert_eq!(rows[1]["active"], false);
    let (status, peek) = admin_as(
        &s,
        Some(teacher),
        "GET",
        &format!("/_updraft/classroom/peek?account={}", one.account),
        None,
    );
    assert_eq!(status, 200, "{peek}");
    assert_eq!(peek["instances"][0]["id"], mine.as_str());
    assert_eq!(peek["instances"][0]["region"], "ap-northeast-2");
    let (status, _) = admin_as(
        &s,
        Some(teacher),
        "GET",
        "/_updraft/classroom/peek?account=123456789012",
        None,
    );
    assert_eq!(status, 404);
    // The admin token on the teacher's card works too (for `updraft stress` and scripts).
    let token = s.state.config.admin_token().unwrap().to_owned();
    let reset = s.http(
        "POST",
        "/_updraft/reset",
        &[("X-Updraft-Admin-Token", &token)],
        b"",
    );
    assert_eq!(reset.status, 200, "{}", reset.text());
    let (ok, listed, err) = aws_as(&s.url, one, &["ec2", "describe-instances"]);
    assert!(ok, "{err}");
    assert_eq!(listed["Reservations"], json!([]));
    // A reset forgets resources, not the room: the students' keys still work.
    let (ok, id, err) = aws_as(&s.url, two, &["sts", "get-caller-identity"]);
    assert!(ok && id["Account"] == two.account.as_str(), "{err}");
}
