//! 32 concurrent EC2 clients: instance ids stay unique and counts consistent.

use std::collections::HashSet;

use crate::ec2::frozen_server;
use updraft::services::ec2::images;

/// 32 clients at once, each launching two instances and terminating one, over raw ec2 forms.
#[test]
fn ec2_concurrent_clients_keep_ids_unique_and_counts_consistent() {
    let server = frozen_server();
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let launched: Vec<(Vec<String>, u16)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|n| {
                let (server, ami) = (&server, &ami);
                s.spawn(move || {
                    let run = server.form(&format!(
                        "Action=RunInstances&Version=2016-11-15&ImageId={ami}&MinCount=2&MaxCount=2\
                         &TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=client\
                         &TagSpecification.1.Tag.1.Value=c{n}"
                    ));
                    assert_eq!(run.status, 200, "{}", run.text());
                    let ids = instance_ids(&run.text());
                    let term = server.form(&format!(
                        "Action=TerminateInstances&Version=2016-11-15&InstanceId.1={}",
                        ids[0]
                    ));
                    (ids, term.status)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<String> = launched.iter().flat_map(|(ids, _)| ids.clone()).collect();
    assert!(
        launched
            .iter()
            .all(|(ids, status)| ids.len() == 2 && *status == 200)
    );
    assert_eq!(all.len(), 64);
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        64,
        "no duplicate ids"
    );
    let listed = server
        .form("Action=DescribeInstances&Version=2016-11-15")
        .text();
    let listed_ids = instance_ids(&listed);
    assert_eq!(
        listed_ids.iter().collect::<HashSet<_>>(),
        all.iter().collect::<HashSet<_>>()
    );
    let count = |state: &str| listed.matches(&format!("<name>{state}</name>")).count();
    assert_eq!(
        (count("pending"), count("shutting-down")),
        (32, 32),
        "no lost updates"
    );
    let ips: HashSet<&str> = listed
        .split("<privateIpAddress>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    assert_eq!(ips.len(), 64, "every instance has its own private address");
}

fn instance_ids(xml: &str) -> Vec<String> {
    let mut ids: Vec<String> = xml
        .split("<instanceId>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_owned)
        .collect();
    ids.dedup();
    ids
}
