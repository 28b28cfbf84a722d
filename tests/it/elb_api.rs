//! Classic ELB control plane through the pinned aws CLI: defaults, validation and the errors
//! AWS answers, listeners, attributes, policies, tags, zones and subnets, security groups and
//! deletion.

use serde_json::Value;

use crate::common::TestServer;
use crate::elb::{get, ok};

fn fails(server: &TestServer, args: &[&str], code: &str) -> String {
    let r = server.aws(args);
    assert_eq!(r.error_code(), code, "{args:?}: {}", r.stderr);
    r.stderr
}

pub fn create(server: &TestServer, name: &str, listener_port: &str) -> Value {
    ok(
        server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            name,
            "--listeners",
            &format!(
                "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort={listener_port}"
            ),
            "--availability-zones",
            "us-east-1a",
        ],
    )
}

fn describe(server: &TestServer, name: &str) -> Value {
    ok(
        server,
        &[
            "elb",
            "describe-load-balancers",
            "--load-balancer-names",
            name,
        ],
    )["LoadBalancerDescriptions"][0]
        .clone()
}

#[test]
fn defaults_validation_and_errors_as_aws_answers() {
    let server = TestServer::start();
    let dns = create(&server, "web", "8080")["DNSName"].clone();
    let lb = describe(&server, "web");
    assert_eq!(lb["HealthCheck"]["Target"], "TCP:8080");
    assert_eq!(
        (
            &lb["HealthCheck"]["Interval"],
            &lb["HealthCheck"]["Timeout"],
            &lb["HealthCheck"]["UnhealthyThreshold"],
            &lb["HealthCheck"]["HealthyThreshold"]
        ),
        (
            &Value::from(30),
            &Value::from(5),
            &Value::from(2),
            &Value::from(10)
        )
    );
    assert_eq!(lb["AvailabilityZones"][0], "us-east-1a");
    assert!(lb["Subnets"][0].as_str().unwrap().starts_with("subnet-"));
    assert!(lb["VPCId"].as_str().unwrap().starts_with("vpc-"));
    assert!(lb["SecurityGroups"][0].as_str().unwrap().starts_with("sg-"));
    assert_eq!(lb["SourceSecurityGroup"]["GroupName"], "default");
    let attrs = ok(
        &server,
        &[
            "elb",
            "describe-load-balancer-attributes",
            "--load-balancer-name",
            "web",
        ],
    )["LoadBalancerAttributes"]
        .clone();
    assert_eq!(attrs["CrossZoneLoadBalancing"]["Enabled"], false);
    assert_eq!(attrs["ConnectionDraining"]["Enabled"], false);
    assert_eq!(attrs["ConnectionDraining"]["Timeout"], 300);
    assert_eq!(attrs["ConnectionSettings"]["IdleTimeout"], 60);
    assert_eq!(attrs["AccessLog"]["Enabled"], false);

    // Same configuration again: the same load balancer; another one: refused.
    assert_eq!(create(&server, "web", "8080")["DNSName"], dns);
    let msg = fails(
        &server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "web",
            "--listeners",
            "Protocol=HTTP,LoadBalancerPort=80,InstancePort=9090",
            "--availability-zones",
            "us-east-1a",
        ],
        "DuplicateLoadBalancerName",
    );
    assert!(
        msg.contains("Load Balancer named 'web' already exists"),
        "{msg}"
    );
    let msg = fails(
        &server,
        &[
            "elb",
            "describe-load-balancers",
            "--load-balancer-names",
            "nope",
        ],
        "LoadBalancerNotFound",
    );
    assert!(
        msg.contains("There is no ACTIVE Load Balancer named 'nope'"),
        "{msg}"
    );
    fails(
        &server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "bad_name",
            "--listeners",
            "Protocol=HTTP,LoadBalancerPort=80,InstancePort=80",
            "--availability-zones",
            "us-east-1a",
        ],
        "ValidationError",
    );
    fails(
        &server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "nozones",
            "--listeners",
            "Protocol=HTTP,LoadBalancerPort=80,InstancePort=80",
        ],
        "ValidationError",
    );
    fails(
        &server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "udp",
            "--listeners",
            "Protocol=UDP,LoadBalancerPort=53,InstancePort=53",
            "--availability-zones",
            "us-east-1a",
        ],
        "UnsupportedProtocol",
    );

    // Health checks are validated and nothing changes when they are wrong (botocore itself
    // refuses values below the model's minimums).
    for hc in [
        "Target=HTTP:80,Interval=30,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=10",
        "Target=TCP:80,Interval=30,Timeout=30,UnhealthyThreshold=2,HealthyThreshold=10",
        "Target=TCP:80,Interval=30,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=11",
    ] {
        fails(
            &server,
            &[
                "elb",
                "configure-health-check",
                "--load-balancer-name",
                "web",
                "--health-check",
                hc,
            ],
            "ValidationError",
        );
    }
    assert_eq!(
        describe(&server, "web")["HealthCheck"]["Target"],
        "TCP:8080"
    );

    fails(
        &server,
        &[
            "elb",
            "register-instances-with-load-balancer",
            "--load-balancer-name",
            "web",
            "--instances",
            "i-0123456789abcdef0",
        ],
        "InvalidInstance",
    );
    assert_eq!(describe(&server, "web")["Instances"], Value::Array(vec![]));

    let limits = ok(&server, &["elb", "describe-account-limits"]);
    assert_eq!(limits["Limits"][0]["Name"], "classic-load-balancers");

    // Deleted: gone from the API and from the data plane; deleting again is fine.
    ok(
        &server,
        &["elb", "delete-load-balancer", "--load-balancer-name", "web"],
    );
    ok(
        &server,
        &["elb", "delete-load-balancer", "--load-balancer-name", "web"],
    );
    fails(
        &server,
        &[
            "elb",
            "describe-load-balancers",
            "--load-balancer-names",
            "web",
        ],
        "LoadBalancerNotFound",
    );
    let r = get(server.addr, dns.as_str().unwrap(), "/", &[]);
    assert_eq!(r.status, 503);
    assert!(r.body.contains("No load balancer answers"), "{}", r.body);
}

#[test]
fn listeners_attributes_policies_tags_zones_and_groups() {
    let server = TestServer::start();
    create(&server, "app", "80");
    let lb = &["--load-balancer-name", "app"];
    let with = |args: &[&'static str]| -> Vec<&str> {
        let mut v: Vec<&str> = args.to_vec();
        v.extend_from_slice(lb);
        v
    };
    ok(
        &server,
        &with(&[
            "elb",
            "create-load-balancer-listeners",
            "--listeners",
            "Protocol=TCP,LoadBalancerPort=8443,InstanceProtocol=TCP,InstancePort=443",
        ]),
    );
    fails(
        &server,
        &with(&[
            "elb",
            "create-load-balancer-listeners",
            "--listeners",
            "Protocol=HTTP,LoadBalancerPort=80,InstancePort=81",
        ]),
        "DuplicateListener",
    );
    assert_eq!(
        describe(&server, "app")["ListenerDescriptions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    ok(
        &server,
        &with(&[
            "elb",
            "delete-load-balancer-listeners",
            "--load-balancer-ports",
            "8443",
        ]),
    );
    assert_eq!(
        describe(&server, "app")["ListenerDescriptions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let modified = ok(
        &server,
        &with(&[
            "elb",
            "modify-load-balancer-attributes",
            "--load-balancer-attributes",
            r#"{"CrossZoneLoadBalancing":{"Enabled":true},"ConnectionDraining":{"Enabled":true,"Timeout":60},"ConnectionSettings":{"IdleTimeout":120}}"#,
        ]),
    );
    assert_eq!(
        modified["LoadBalancerAttributes"]["CrossZoneLoadBalancing"]["Enabled"],
        true
    );
    assert_eq!(
        modified["LoadBalancerAttributes"]["ConnectionDraining"]["Timeout"],
        60
    );
    assert_eq!(
        modified["LoadBalancerAttributes"]["ConnectionSettings"]["IdleTimeout"],
        120
    );
    fails(
        &server,
        &with(&[
            "elb",
            "modify-load-balancer-attributes",
            "--load-balancer-attributes",
            r#"{"ConnectionDraining":{"Enabled":true,"Timeout":0}}"#,
        ]),
        "ValidationError",
    );

    // Policies.
    let types = ok(&server, &["elb", "describe-load-balancer-policy-types"]);
    assert!(
        types["PolicyTypeDescriptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["PolicyTypeName"] == "LBCookieStickinessPolicyType")
    );
    fails(
        &server,
        &[
            "elb",
            "describe-load-balancer-policy-types",
            "--policy-type-names",
            "NoSuchType",
        ],
        "PolicyTypeNotFound",
    );
    ok(
        &server,
        &with(&[
            "elb",
            "create-app-cookie-stickiness-policy",
            "--policy-name",
            "app-sticky",
            "--cookie-name",
            "SESSION",
        ]),
    );
    fails(
        &server,
        &with(&[
            "elb",
            "create-app-cookie-stickiness-policy",
            "--policy-name",
            "app-sticky",
            "--cookie-name",
            "SESSION",
        ]),
        "DuplicatePolicyName",
    );
    fails(
        &server,
        &with(&[
            "elb",
            "create-load-balancer-policy",
            "--policy-name",
            "x",
            "--policy-type-name",
            "NoSuchType",
        ]),
        "PolicyTypeNotFound",
    );
    ok(
        &server,
        &with(&[
            "elb",
            "create-load-balancer-policy",
            "--policy-name",
            "proxy",
            "--policy-type-name",
            "ProxyProtocolPolicyType",
            "--policy-attributes",
            "AttributeName=ProxyProtocol,AttributeValue=true",
        ]),
    );
    fails(
        &server,
        &with(&[
            "elb",
            "set-load-balancer-policies-of-listener",
            "--load-balancer-port",
            "80",
            "--policy-names",
            "missing",
        ]),
        "PolicyNotFound",
    );
    ok(
        &server,
        &with(&[
            "elb",
            "set-load-balancer-policies-of-listener",
            "--load-balancer-port",
            "80",
            "--policy-names",
            "app-sticky",
        ]),
    );
    ok(
        &server,
        &with(&[
            "elb",
            "set-load-balancer-policies-for-backend-server",
            "--instance-port",
            "80",
            "--policy-names",
            "proxy",
        ]),
    );
    fails(
        &server,
        &with(&[
            "elb",
            "delete-load-balancer-policy",
            "--policy-name",
            "app-sticky",
        ]),
        "InvalidConfigurationRequest",
    );
    let d = describe(&server, "app");
    assert_eq!(
        d["Policies"]["AppCookieStickinessPolicies"][0]["CookieName"],
        "SESSION"
    );
    assert_eq!(d["Policies"]["OtherPolicies"][0], "proxy");
    assert_eq!(d["BackendServerDescriptions"][0]["PolicyNames"][0], "proxy");
    let p = ok(
        &server,
        &with(&[
            "elb",
            "describe-load-balancer-policies",
            "--policy-names",
            "proxy",
        ]),
    );
    assert_eq!(
        p["PolicyDescriptions"][0]["PolicyAttributeDescriptions"][0]["AttributeValue"],
        "true"
    );

    // Tags.
    ok(
        &server,
        &[
            "elb",
            "add-tags",
            "--load-balancer-names",
            "app",
            "--tags",
            "Key=env,Value=dev",
            "Key=team,Value=web",
        ],
    );
    ok(
        &server,
        &[
            "elb",
            "remove-tags",
            "--load-balancer-names",
            "app",
            "--tags",
            "team",
        ],
    );
    let tags = ok(
        &server,
        &["elb", "describe-tags", "--load-balancer-names", "app"],
    );
    assert_eq!(
        tags["TagDescriptions"][0]["Tags"],
        serde_json::json!([{ "Key": "env", "Value": "dev" }])
    );

    // Zones, subnets, security groups.
    let z = ok(
        &server,
        &with(&[
            "elb",
            "enable-availability-zones-for-load-balancer",
            "--availability-zones",
            "us-east-1b",
        ]),
    );
    assert_eq!(
        z["AvailabilityZones"],
        serde_json::json!(["us-east-1a", "us-east-1b"])
    );
    assert_eq!(
        describe(&server, "app")["Subnets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let z = ok(
        &server,
        &with(&[
            "elb",
            "disable-availability-zones-for-load-balancer",
            "--availability-zones",
            "us-east-1a",
        ]),
    );
    assert_eq!(z["AvailabilityZones"], serde_json::json!(["us-east-1b"]));
    fails(
        &server,
        &with(&[
            "elb",
            "disable-availability-zones-for-load-balancer",
            "--availability-zones",
            "us-east-1b",
        ]),
        "ValidationError",
    );
    let subnets = ok(
        &server,
        &[
            "ec2",
            "describe-subnets",
            "--filters",
            "Name=availability-zone,Values=us-east-1c",
        ],
    );
    let subnet = subnets["Subnets"][0]["SubnetId"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = ok(
        &server,
        &[
            "elb",
            "attach-load-balancer-to-subnets",
            "--load-balancer-name",
            "app",
            "--subnets",
            &subnet,
        ],
    );
    assert_eq!(s["Subnets"].as_array().unwrap().len(), 2);
    ok(
        &server,
        &[
            "elb",
            "detach-load-balancer-from-subnets",
            "--load-balancer-name",
            "app",
            "--subnets",
            &subnet,
        ],
    );
    fails(
        &server,
        &with(&[
            "elb",
            "attach-load-balancer-to-subnets",
            "--subnets",
            "subnet-00000000000000000",
        ]),
        "SubnetNotFound",
    );
    fails(
        &server,
        &with(&[
            "elb",
            "apply-security-groups-to-load-balancer",
            "--security-groups",
            "sg-00000000000000000",
        ]),
        "InvalidSecurityGroup",
    );
}
