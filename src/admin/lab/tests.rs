//! Lab files: every embedded one reads; problems are placed on their line; the check language,
//! references and the form encoding; a check evaluated against real state.

use serde_json::json;

use super::*;
use crate::config::Config;
use crate::protocol::Protocol;
use crate::protocol::query::FormFlavor;

#[test]
fn every_embedded_lab_reads() {
    for (file, text) in FILES {
        let lab = load(file, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!lab.steps.is_empty(), "{file}");
        for s in &lab.steps {
            assert!(s.page.starts_with("#/"), "{file} {}", s.id);
        }
    }
    check_embedded().expect("embedded labs");
    assert_eq!(labs().len(), FILES.len());
}

const GOOD: &str = "id: t
title: {en: T, ko: T}
intro: {en: I, ko: I}
steps:
  - id: one
    title: {en: A, ko: A}
    why: {en: W, ko: W}
    page: \"#/elb\"
    do:
      - call: elb CreateLoadBalancer
        params: {LoadBalancerName: x, Listeners: [{Protocol: HTTP, LoadBalancerPort: 80, InstancePort: 80}]}
    check:
      - call: elb DescribeLoadBalancers
        items: LoadBalancerDescriptions
        where: ListenerDescriptions.Listener.LoadBalancerPort == 80
        found: LoadBalancerName
";

/// `GOOD` with `from` replaced by `to`: the problem `load` reports.
fn problem(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    load("labs/t.yaml", &GOOD.replacen(from, to, 1)).expect_err("refused")
}

#[test]
fn problems_are_reported_with_file_and_line() {
    load("labs/t.yaml", GOOD).expect("the good file reads");
    assert_eq!(
        problem("    page:", "    pgae:"),
        "labs/t.yaml:8: unknown field `pgae` in a step (allowed: id, title, why, page, cli, do, check, after)"
    );
    let e = problem("LoadBalancerPort == 80\n", "LoadBalancerPort === 80\n");
    assert!(e.starts_with("labs/t.yaml:15: where `ListenerDescriptions.Listener.LoadBalancerPort === 80` does not parse"), "{e}");
    let e = problem(
        "where: ListenerDescriptions",
        "where: (ListenerDescriptions",
    );
    assert!(
        e.starts_with("labs/t.yaml:15: ") && e.contains("expected `)`"),
        "{e}"
    );
    assert_eq!(
        problem("elb DescribeLoadBalancers", "elb DescribeLoadBalancer"),
        "labs/t.yaml:13: elb has no implemented operation `DescribeLoadBalancer`"
    );
    assert_eq!(
        problem("elb DescribeLoadBalancers", "elb DeleteLoadBalancer"),
        "labs/t.yaml:13: a check only reads, and `DeleteLoadBalancer` writes"
    );
    let e = problem("{LoadBalancerName: x,", "{LoadBalancerNam: x,");
    assert!(
        e.starts_with("labs/t.yaml:11: params has no member `LoadBalancerNam`"),
        "{e}"
    );
    assert_eq!(
        problem("LoadBalancerPort: 80,", "LoadBalancerPort: eighty,"),
        "labs/t.yaml:11: LoadBalancerPort must be a number, not `eighty`"
    );
    assert_eq!(
        problem(
            "{LoadBalancerName: x,",
            "{LoadBalancerName: \"${nothing}\","
        ),
        "labs/t.yaml:11: `nothing` is used before a lookup or an earlier check saves it"
    );
    assert_eq!(
        problem("title: {en: T, ko: T}", "title: {en: T}"),
        "labs/t.yaml:2: title needs `ko`"
    );
    assert!(problem("steps:", "steps: [").starts_with("labs/t.yaml:"));
}

#[test]
fn the_check_language() {
    let vars: expr::Vars = [("elb".to_owned(), vec!["web".to_owned()])].into();
    let group = json!({"Name": "g", "LoadBalancerNames": ["old", "web"], "MaxSize": 3,
        "Instances": [{"LifecycleState": "InService"}, {"LifecycleState": "Pending"}]});
    let holds = |src: &str| expr::parse(src).unwrap().holds(&group, &vars);
    assert!(holds("LoadBalancerNames == $elb"));
    assert!(!holds("LoadBalancerNames == $missing"));
    assert!(holds(
        "count(Instances[LifecycleState == 'InService']) == 1"
    ));
    assert!(holds("MaxSize >= 2 and not MaxSize > 3"));
    assert!(holds("Name == 'x' or Instances.LifecycleState has 'Pend'"));
    assert!(!holds("count(Instances) < 2"));
    assert!(expr::parse("a ==").is_err());
    assert!(expr::parse("a b").is_err());
}

#[test]
fn references_fill_in_and_splice() {
    let vars: expr::Vars = [("ids".to_owned(), vec!["i-1".to_owned(), "i-2".to_owned()])].into();
    let v = json!({"One": "${ids}", "Two": "${ids[1]}", "All": "${ids,}",
        "List": [{"InstanceId": "${ids*}"}], "Plain": ["${ids*}"]});
    assert_eq!(
        wire::fill(&v, &vars).unwrap(),
        json!({"One": "i-1", "Two": "i-2", "All": "i-1,i-2",
            "List": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}], "Plain": ["i-1", "i-2"]})
    );
    assert_eq!(wire::fill(&json!("${none}"), &vars), Err("none".to_owned()));
}

#[test]
fn calls_are_written_as_the_clients_write_them() {
    let elb = crate::protocol::models::by_name("elb").unwrap();
    let op = elb.operation("RegisterInstancesWithLoadBalancer").unwrap();
    let form = wire::encode(
        elb.model(),
        op.input.as_ref(),
        &json!({"LoadBalancerName": "x", "Instances": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]}),
        FormFlavor::Query,
    );
    assert_eq!(
        form,
        vec![
            ("LoadBalancerName".to_owned(), "x".to_owned()),
            ("Instances.member.1.InstanceId".to_owned(), "i-1".to_owned()),
            ("Instances.member.2.InstanceId".to_owned(), "i-2".to_owned()),
        ]
    );
    let ec2 = crate::protocol::models::by_name("ec2").unwrap();
    let op = ec2.operation("RunInstances").unwrap();
    let form = wire::encode(
        ec2.model(),
        op.input.as_ref(),
        &json!({"ImageId": "ami-1", "MinCount": 1, "SecurityGroupIds": ["sg-1"]}),
        FormFlavor::Ec2,
    );
    assert!(
        form.contains(&("SecurityGroupId.1".to_owned(), "sg-1".to_owned())),
        "{form:?}"
    );
    assert!(
        form.contains(&("MinCount".to_owned(), "1".to_owned())),
        "{form:?}"
    );
    // What the encoder writes, the server's decoder reads back.
    let pairs: Vec<(String, String)> = form;
    let back = crate::protocol::query::decode_form(
        ec2.model(),
        op.input.as_ref(),
        &pairs,
        FormFlavor::Ec2,
    )
    .unwrap();
    assert_eq!(back["SecurityGroupIds"], json!(["sg-1"]));
}

#[test]
fn a_step_turns_green_with_what_it_found_and_is_recorded_once() {
    let state = AppState::new(Config {
        time_scale: 0.0,
        ..Config::default()
    });
    let lab = &labs()[0];
    let scope = Scope::new("123456789012", "ap-northeast-1");
    let before = eval::status(&state, lab, &scope);
    assert_eq!(before["steps"][0]["done"], json!(false));
    let ctx = crate::context::RequestContext {
        request_id: "t".into(),
        scope: scope.clone(),
        service: "ec2",
        operation: "CreateKeyPair".into(),
        protocol: Protocol::Ec2,
        access_key_id: None,
    };
    crate::services::dispatch(&ctx, &state, json!({"KeyName": "my-own-name"})).unwrap();
    let after = eval::status(&state, lab, &scope);
    assert_eq!(after["steps"][0]["done"], json!(true));
    assert_eq!(after["steps"][0]["found"], json!(["my-own-name"]));
    let first = after["steps"][0]["first_done"].clone();
    state.clock.advance(60.0);
    let again = eval::status(&state, lab, &scope);
    assert_eq!(again["steps"][0]["first_done"], first);
    let p = progress(&state, "123456789012");
    assert_eq!(p["steps_done"], json!(1));
    assert_eq!(p["lab"], json!(lab.id));
    assert_eq!(p["current_step"]["id"], json!(lab.steps[1].id));
    assert_eq!(p["last_change"], first);
    // The second step's "do it for me" names what it needs.
    let call = eval::resolve_call(&state, lab, 1, 1, &scope).unwrap_err();
    assert!(call.contains("`new_sg`"), "{call}");
    let call = eval::resolve_call(&state, lab, 1, 0, &scope).unwrap();
    assert_eq!(
        call["form"],
        json!([
            ["GroupDescription", "web server"],
            ["GroupName", "launch-wizard-1"]
        ])
    );
}
