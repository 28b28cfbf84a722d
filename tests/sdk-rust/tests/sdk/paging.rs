//! Paginators: the SDK follows Updraft's `NextToken`s to the end, with no page twice, and
//! GetCallerIdentity answers for the key's account.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::InstanceType;
use updraft_sdk_tests::Clients;

use crate::common::TestServer;

const AMI_NAMESPACE: &str = "/aws/service/ami-amazon-linux-latest";

#[tokio::test]
async fn public_ami_parameters_page_through_the_paginator() {
    let server = TestServer::start();
    let c = Clients::new(&server.url, "test");
    let all = |page_size: i32| {
        c.ssm
            .get_parameters_by_path()
            .path(AMI_NAMESPACE)
            .max_results(page_size)
            .into_paginator()
    };
    let mut pages = all(2).send();
    let mut names = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        let page = page.expect("a page");
        let here = page.parameters();
        assert!(
            here.len() <= 2,
            "a page of {} with MaxResults 2",
            here.len()
        );
        names.extend(here.iter().map(|p| p.name().unwrap().to_owned()));
        page_count += 1;
    }
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(
        unique.len(),
        names.len(),
        "a parameter came twice: {names:?}"
    );
    assert!(page_count >= 2, "{page_count} page(s) for {names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with(&format!("{AMI_NAMESPACE}/")))
    );
    assert!(
        names.contains(&format!("{AMI_NAMESPACE}/al2023-ami-kernel-default-x86_64")),
        "{names:?}"
    );
    // Bigger pages give the same set, and every value is an AMI that DescribeImages knows.
    let items: Vec<_> = all(10)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("pages")
        .into_iter()
        .flat_map(|page| page.parameters.unwrap_or_default())
        .collect();
    let again: BTreeSet<&str> = items.iter().map(|p| p.name().unwrap()).collect();
    assert_eq!(again, unique.iter().map(|s| s.as_str()).collect());
    let amis: BTreeSet<String> = items
        .iter()
        .map(|p| p.value().unwrap().to_owned())
        .collect();
    let images = c
        .ec2
        .describe_images()
        .set_image_ids(Some(amis.iter().cloned().collect()))
        .send()
        .await
        .expect("describe images");
    assert_eq!(images.images().len(), amis.len(), "{amis:?}");
}

#[tokio::test]
async fn describe_instances_pages_by_max_results() {
    let server = TestServer::start();
    let c = Clients::new(&server.url, "test");
    let ami = c
        .ssm
        .get_parameter()
        .name(format!("{AMI_NAMESPACE}/al2023-ami-kernel-default-x86_64"))
        .send()
        .await
        .expect("public parameter")
        .parameter
        .and_then(|p| p.value)
        .expect("value");
    let mut launched = BTreeSet::new();
    for _ in 0..3 {
        let run = c
            .ec2
            .run_instances()
            .image_id(&ami)
            .instance_type(InstanceType::T3Micro)
            .min_count(3)
            .max_count(3)
            .send()
            .await
            .expect("run instances");
        launched.extend(
            run.instances()
                .iter()
                .map(|i| i.instance_id().unwrap().to_owned()),
        );
    }
    assert_eq!(launched.len(), 9);
    let pages: Vec<_> = c
        .ec2
        .describe_instances()
        .max_results(5)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("pages");
    let mut seen = Vec::new();
    for page in &pages {
        for r in page.reservations() {
            seen.extend(
                r.instances()
                    .iter()
                    .map(|i| i.instance_id().unwrap().to_owned()),
            );
        }
    }
    assert!(pages.len() >= 2, "{} page(s)", pages.len());
    assert_eq!(seen.len(), 9, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), launched);
}

#[tokio::test]
async fn get_caller_identity_names_the_keys_account() {
    let server = TestServer::start();
    let me = Clients::new(&server.url, "123456789012")
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get caller identity");
    assert_eq!(me.account(), Some("123456789012"));
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:root"));
    assert_eq!(me.user_id(), Some("123456789012"));
    let default = Clients::new(&server.url, "test")
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get caller identity");
    assert_eq!(default.account(), Some("000000000000"));
}
