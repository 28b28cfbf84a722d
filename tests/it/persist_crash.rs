//! Crash loop: a mixed mutating load from 8 clients, SIGKILL at a moment that varies, restart,
//! 20 rounds: the state loads every time, every request acknowledged more than a second
//! before the kill is there, and ids stay unique.
//!
//! One Python process drives every round (starting Python and boto3 twice a round cost more
//! than the rounds themselves): it reads commands on stdin and answers on stdout.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::common::BOTO3_PRELUDE;
use crate::persist::{Node, temp_dir};

const ROUNDS: u64 = 20;

/// `check <url>`: one line `CHECK {"names": […], "ids": […], "topics": […]}`.
/// `load <url> <round>`: 8 threads creating key pairs and topics until their requests fail
/// (the server was killed), one line `<epoch> <kind> <name>` per answer.
const DRIVER: &str = r#"
import sys, threading, time
out_lock = threading.Lock()
def out(line):
    with out_lock:
        sys.stdout.write(line + "\n"); sys.stdout.flush()
# botocore clients are thread-safe: one pair per server, made for its check and shared by
# the load's threads (making 16 clients took longer than a round).
made = {}
def clients(url):
    if url not in made:
        cfg = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10,
            max_pool_connections=16)
        made.clear()
        made[url] = [boto3.client(name, endpoint_url=url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test", config=cfg)
            for name in ("ec2", "sns")]
    return made[url]
def work(url, rnd, t):
    ec2, sns = clients(url)
    n = 0
    while True:
        name = "%s-%d-%d" % (rnd, t, n)
        try:
            if n % 2:
                sns.create_topic(Name="t-" + name); kind = "topic"
            else:
                # ed25519: an RSA key takes a debug build a second of CPU to make.
                ec2.create_key_pair(KeyName="k-" + name, KeyType="ed25519"); kind = "key"
        except Exception:
            return
        out("%f %s %s" % (time.time(), kind, name))
        n += 1
        # At most ~80 writes a second in all: every round's check lists everything made so
        # far, and unthrottled rounds made it pages of topics long.
        time.sleep(0.1)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "check":
        ec2, sns = clients(cmd[1])
        pairs = ec2.describe_key_pairs()["KeyPairs"]
        topics = [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
        out("CHECK " + json.dumps({"names": [k["KeyName"] for k in pairs],
            "ids": [k["KeyPairId"] for k in pairs], "topics": topics}))
    elif cmd[0] == "load":
        clients(cmd[1])
        for t in range(8):
            threading.Thread(target=work, args=(cmd[1], cmd[2], t), daemon=True).start()
"#;

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// What the load said it got answers for, per round: (answered at, kind, name).
#[derive(Default)]
struct Answers {
    by_round: HashMap<u64, Vec<(f64, String, String)>>,
}

impl Answers {
    /// Note one load line.
    fn note(&mut self, line: &str) {
        let mut parts = line.split(' ');
        let (Some(t), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return;
        };
        let round: u64 = name.split('-').next().unwrap().parse().unwrap();
        self.by_round.entry(round).or_default().push((
            t.parse().unwrap(),
            kind.to_owned(),
            name.to_owned(),
        ));
    }
}

/// The next `CHECK` answer; load lines read meanwhile go to `answers`.
fn next_check(rx: &Receiver<String>, answers: &mut Answers) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the driver answers the check");
        match line.strip_prefix("CHECK ") {
            Some(json) => return serde_json::from_str(json).unwrap(),
            None => answers.note(&line),
        }
    }
}

#[test]
fn sigkill_under_load_loses_at_most_the_last_second() {
    let started = Instant::now();
    let dir = temp_dir("crash");
    let d = dir.to_str().unwrap();
    let mut driver = Command::new("python3")
        .arg("-c")
        .arg(format!("{BOTO3_PRELUDE}\n{DRIVER}"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut commands = driver.stdin.take().unwrap();
    let stdout = driver.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line); // the receiver stops listening only at the end
        }
    });
    let mut answers = Answers::default();
    let mut killed_at: HashMap<u64, f64> = HashMap::new();
    let mut checked = 0;
    // The last round only checks what the ones before it acknowledged.
    // Where the time goes (printed at the end): start, check, first answer of the load.
    let mut phases = [Duration::ZERO; 3];
    for round in 0..=ROUNDS {
        let t = Instant::now();
        let n = Node::start(&["--state-dir", d]);
        phases[0] += t.elapsed();
        let t = Instant::now();
        writeln!(commands, "check {}", n.url).unwrap();
        let seen = next_check(&rx, &mut answers);
        phases[1] += t.elapsed();
        let names: HashSet<String> = serde_json::from_value(seen["names"].clone()).unwrap();
        let ids: Vec<String> = serde_json::from_value(seen["ids"].clone()).unwrap();
        let topics: HashSet<String> = serde_json::from_value(seen["topics"].clone()).unwrap();
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "round {round}: key pair ids are unique"
        );
        let topic_names: HashSet<&str> = topics
            .iter()
            .map(|arn| arn.rsplit(':').next().unwrap())
            .collect();
        // Everything acknowledged in earlier rounds more than a second before their kill.
        for (r, lines) in &answers.by_round {
            let cut = killed_at[r] - 1.0;
            for (_, kind, name) in lines.iter().filter(|(t, ..)| *t < cut) {
                checked += 1;
                match kind.as_str() {
                    "key" => assert!(
                        names.contains(&format!("k-{name}")),
                        "round {round}: key {name} lost"
                    ),
                    _ => assert!(
                        topic_names.contains(format!("t-{name}").as_str()),
                        "round {round}: topic {name} lost"
                    ),
                }
            }
        }
        if round == ROUNDS {
            n.stop();
            break;
        }
        let t = Instant::now();
        writeln!(commands, "load {} {round}", n.url).unwrap();
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the load starts");
        phases[2] += t.elapsed();
        answers.note(&first);
        // Kill somewhere between 1.3 and 2.1 s into the load.
        std::thread::sleep(Duration::from_millis(1300 + (round * 7919) % 800));
        killed_at.insert(round, wall());
        n.kill();
        std::thread::sleep(Duration::from_millis(100));
        for line in rx.try_iter() {
            answers.note(&line);
        }
        let got = answers.by_round.get(&round).map_or(0, Vec::len);
        assert!(got > 0, "round {round}: the load got no answer");
    }
    drop(commands); // the driver ends at the end of its input
    driver.wait().unwrap();
    reader.join().unwrap();
    assert!(
        checked >= ROUNDS as usize,
        "too little was acknowledged to mean anything: {checked}"
    );
    eprintln!(
        "{ROUNDS} rounds, {checked} acknowledged answers checked, in {:.1} s \
         (starts {:.1} s, checks {:.1} s, loads' first answers {:.1} s)",
        started.elapsed().as_secs_f64(),
        phases[0].as_secs_f64(),
        phases[1].as_secs_f64(),
        phases[2].as_secs_f64()
    );
}
