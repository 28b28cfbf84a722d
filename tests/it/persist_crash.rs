//! Crash loop: a mixed mutating load from 8 clients, SIGKILL at a moment that varies, restart:
//! the state loads every time, every request acknowledged more than a second before the kill
//! is there, and ids stay unique.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::BOTO3_PRELUDE;
use crate::persist::{Node, temp_dir};

const ROUNDS: u64 = 8;

/// 8 threads creating key pairs and topics; one line `<epoch> <kind> <name>` per answer.
const LOAD: &str = r#"
import sys, threading, time
def work(t):
    ec2, sns = client("ec2"), client("sns")
    n = 0
    while True:
        name = "%s-%d-%d" % (os.environ["ROUND"], t, n)
        try:
            if n % 2:
                sns.create_topic(Name="t-" + name); kind = "topic"
            else:
                ec2.create_key_pair(KeyName="k-" + name); kind = "key"
        except Exception:
            return
        # One write per line: print() writes text and newline apart, and eight threads
        # interleaved them into names that were never created.
        sys.stdout.write("%f %s %s\n" % (time.time(), kind, name)); sys.stdout.flush()
        n += 1
for t in range(8):
    threading.Thread(target=work, args=(t,), daemon=True).start()
time.sleep(30)
"#;

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn sigkill_under_load_loses_at_most_the_last_second() {
    let dir = temp_dir("crash");
    let d = dir.to_str().unwrap();
    let mut acknowledged: Vec<(f64, String, String)> = Vec::new();
    // The last round only checks what the one before it acknowledged.
    for round in 0..=ROUNDS {
        let n = Node::start(&["--state-dir", d]);
        // Everything acknowledged in earlier rounds (more than a second before their kill).
        let keys = n.boto3(
            r#"print(json.dumps([k["KeyName"] for k in client("ec2").describe_key_pairs()["KeyPairs"]]))"#,
        );
        let ids = n.boto3(
            r#"print(json.dumps([k["KeyPairId"] for k in client("ec2").describe_key_pairs()["KeyPairs"]]))"#,
        );
        let topics = n.boto3(
            r#"print(json.dumps([t["TopicArn"] for p in client("sns").get_paginator("list_topics").paginate() for t in p["Topics"]]))"#,
        );
        let keys: HashSet<String> = serde_json::from_value(keys).unwrap();
        let ids: Vec<String> = serde_json::from_value(ids).unwrap();
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "key pair ids are unique"
        );
        let topics = topics.to_string();
        for (_, kind, name) in &acknowledged {
            match kind.as_str() {
                "key" => assert!(
                    keys.contains(&format!("k-{name}")),
                    "round {round}: key {name} lost"
                ),
                _ => assert!(
                    topics.contains(&format!(":t-{name}\"")),
                    "round {round}: topic {name} lost"
                ),
            }
        }
        if round == ROUNDS {
            n.stop();
            break;
        }
        let mut load = Command::new("python3")
            .arg("-c")
            .arg(format!("{BOTO3_PRELUDE}\n{LOAD}"))
            .env("ENDPOINT", &n.url)
            .env("ROUND", round.to_string())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = load.stdout.take().unwrap();
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
        let mut lines = vec![
            rx.recv_timeout(Duration::from_secs(30))
                .expect("the load starts"),
        ];
        // Kill somewhere between 1.2 and 3.6 s into the load.
        std::thread::sleep(Duration::from_millis(1200 + (round * 7919) % 2400));
        let killed_at = wall();
        n.kill();
        std::thread::sleep(Duration::from_millis(300));
        let _ = load.kill(); // it may have ended already on the refused connections
        load.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        let mut answered = 0;
        for line in &lines {
            let mut parts = line.split(' ');
            let (Some(t), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            answered += 1;
            let t: f64 = t.parse().unwrap();
            if t < killed_at - 1.0 {
                acknowledged.push((t, kind.to_owned(), name.to_owned()));
            }
        }
        assert!(answered > 0, "round {round}: the load got no answer");
    }
    assert!(
        acknowledged.len() >= ROUNDS as usize,
        "too little was acknowledged to mean anything: {}",
        acknowledged.len()
    );
}
