//! The state file's edges: unreadable files refused and untouched, `--reset-state`, a SIGKILL
//! after a write, and snapshots moved between servers with `updraft state save/load`.

use std::process::Command;
use std::time::Duration;

use crate::persist::{Node, READ_EVERYTHING, assert_world_is_whole, build_world, temp_dir};

const FILE: &str = "updraft-state.bin";

fn key_names(n: &Node) -> Vec<String> {
    let mut names: Vec<String> = n.aws(&["ec2", "describe-key-pairs"])["KeyPairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["KeyName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn corrupt_and_newer_files_are_refused_and_left_untouched() {
    let dir = temp_dir("refused");
    let d = dir.to_str().unwrap();
    let n = Node::start(&["--state-dir", d]);
    n.aws(&["ec2", "create-key-pair", "--key-name", "k1"]);
    n.stop();
    let path = dir.join(FILE);
    let good = std::fs::read(&path).unwrap();

    // A damaged byte in the body.
    let mut damaged = good.clone();
    let at = damaged.len() - 20;
    damaged[at] ^= 0x5a;
    std::fs::write(&path, &damaged).unwrap();
    let err = Node::try_start(&["--state-dir", d])
        .err()
        .expect("a corrupt file stops the start");
    assert!(
        err.contains(path.to_str().unwrap()) && err.contains("corrupt"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        damaged,
        "the file is left as it was"
    );

    // Truncated.
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    let err = Node::try_start(&["--state-dir", d])
        .err()
        .expect("a truncated file stops the start");
    assert!(err.contains("truncated"), "{err}");

    // From a newer Updraft.
    let text = String::from_utf8_lossy(&good).into_owned();
    let header_end = text.find("}\n").unwrap() + 2;
    let ours = format!("\"format\":{}", updraft::state::persist::format::FORMAT);
    let newer_header = text[..header_end].replacen(&ours, "\"format\":7", 1);
    let mut newer = newer_header.into_bytes();
    newer.extend_from_slice(&good[header_end..]);
    std::fs::write(&path, &newer).unwrap();
    let err = Node::try_start(&["--state-dir", d])
        .err()
        .expect("a newer file stops the start");
    assert!(
        err.contains("newer Updraft") && err.contains(path.to_str().unwrap()),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), newer);

    // --reset-state moves it aside and starts empty; the good file loads again.
    let n = Node::start(&["--state-dir", d, "--reset-state"]);
    assert!(key_names(&n).is_empty());
    n.stop();
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".reset-"))
        .collect();
    assert_eq!(aside.len(), 1, "the old file was moved aside");
    assert_eq!(std::fs::read(aside[0].path()).unwrap(), newer);
    std::fs::write(&path, &good).unwrap();
    let n = Node::start(&["--state-dir", d]);
    assert_eq!(key_names(&n), ["k1"]);
    n.stop();
}

#[test]
fn a_sigkill_a_second_after_a_write_loses_nothing() {
    let dir = temp_dir("sigkill");
    let d = dir.to_str().unwrap();
    let n = Node::start(&["--state-dir", d]);
    n.aws(&["ec2", "create-key-pair", "--key-name", "before-kill"]);
    n.aws(&["sns", "create-topic", "--name", "kept"]);
    std::thread::sleep(Duration::from_millis(1600));
    n.kill();
    let n = Node::start(&["--state-dir", d]);
    assert_eq!(key_names(&n), ["before-kill"]);
    let topics = n.aws(&["sns", "list-topics"]);
    assert!(topics.to_string().contains(":kept"), "{topics}");
    // An admin reset empties what is kept too.
    assert_eq!(n.http("POST", "/_updraft/reset", b"").status, 200);
    std::thread::sleep(Duration::from_millis(1600));
    n.kill();
    let n = Node::start(&["--state-dir", d]);
    assert!(key_names(&n).is_empty(), "the reset was written");
    n.stop();
}

#[test]
fn without_a_state_dir_nothing_is_written_and_nothing_is_kept() {
    let n = Node::start(&[]);
    n.aws(&["ec2", "create-key-pair", "--key-name", "gone"]);
    n.stop();
    let n = Node::start(&[]);
    assert!(key_names(&n).is_empty());
    n.stop();
}

fn updraft(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("UPDRAFT_ADMIN_TOKEN")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_snapshot_saved_on_one_server_loads_on_another() {
    let dir = temp_dir("snapshot");
    let file = dir.join("world.bin");
    let f = file.to_str().unwrap();
    let a = Node::start(&["--time-scale", "0"]);
    build_world(&a);
    let before = a.boto3(READ_EVERYTHING);
    assert_world_is_whole(&before);
    let (ok, out) = updraft(&["state", "save", f, "--endpoint", &a.url]);
    assert!(ok, "{out}");
    a.stop();

    let b = Node::start(&["--time-scale", "0", "--admin-token", "s3cret"]);
    b.aws(&["ec2", "create-key-pair", "--key-name", "replaced"]);
    // The admin rules apply: no token, no snapshot.
    let (ok, out) = updraft(&["state", "load", f, "--endpoint", &b.url]);
    assert!(!ok && out.contains("401"), "{out}");
    assert_eq!(b.http("GET", "/_updraft/state", b"").status, 401);
    // A file that is not a snapshot is refused and changes nothing.
    std::fs::write(dir.join("junk.bin"), b"hello").unwrap();
    let junk = dir.join("junk.bin");
    let (ok, out) = updraft(&[
        "state",
        "load",
        junk.to_str().unwrap(),
        "--endpoint",
        &b.url,
        "--admin-token",
        "s3cret",
    ]);
    assert!(
        !ok && out.contains("400") && out.contains("not an Updraft state snapshot"),
        "{out}"
    );
    assert_eq!(key_names(&b), ["replaced"]);

    let (ok, out) = updraft(&[
        "state",
        "load",
        f,
        "--endpoint",
        &b.url,
        "--admin-token",
        "s3cret",
    ]);
    assert!(ok, "{out}");
    let after = b.boto3(READ_EVERYTHING);
    for (key, value) in before.as_object().unwrap() {
        assert_eq!(&after[key], value, "{key} differs on the second server");
    }
    assert_eq!(
        key_names(&b),
        ["chapter-key"],
        "replace mode drops what was there"
    );
    b.stop();
}

#[test]
fn one_account_merges_into_a_server_and_keeps_the_others() {
    let a = Node::start(&[]);
    let ours = ["--region", "us-east-1"];
    let as_account = |n: &Node, account: &str, args: &[&str]| {
        let out = Command::new("aws")
            .args(["--endpoint-url", &n.url, "--output", "json"])
            .args(ours)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", account)
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    as_account(
        &a,
        "111111111111",
        &["ec2", "create-key-pair", "--key-name", "alice"],
    );
    as_account(
        &a,
        "222222222222",
        &["ec2", "create-key-pair", "--key-name", "bob"],
    );
    let one = a.http("GET", "/_updraft/state?account=111111111111", b"");
    assert_eq!(one.status, 200);
    assert_eq!(a.http("GET", "/_updraft/state?account=12", b"").status, 400);
    a.stop();

    let b = Node::start(&[]);
    as_account(
        &b,
        "333333333333",
        &["ec2", "create-key-pair", "--key-name", "carol"],
    );
    let r = b.http("POST", "/_updraft/state?mode=merge", &one.body);
    assert_eq!(r.status, 200, "{}", r.text());
    let keys = |account: &str| {
        as_account(
            &b,
            account,
            &["ec2", "describe-key-pairs", "--query", "KeyPairs[].KeyName"],
        )
    };
    assert!(keys("111111111111").contains("alice"));
    assert!(
        !keys("222222222222").contains("bob"),
        "only the saved account came along"
    );
    assert!(
        keys("333333333333").contains("carol"),
        "merge keeps the other accounts"
    );
    assert_eq!(
        b.http("POST", "/_updraft/state?mode=sideways", &one.body)
            .status,
        400
    );
    b.stop();
}
