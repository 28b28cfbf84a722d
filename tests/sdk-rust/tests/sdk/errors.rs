//! Typed errors: each service's error reaches the SDK as its code (`.code()`) and, where the
//! model has a shape for it, as the modelled variant. CloudWatch's goes through rpc-v2-cbor.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use updraft_sdk_tests::Clients;

use crate::common::TestServer;

#[tokio::test]
async fn errors_arrive_typed_in_every_service() {
    let server = TestServer::start();
    let c = Clients::new(&server.url, "test");

    // EC2 models no error shapes: the code is all there is.
    let e = c
        .ec2
        .describe_instances()
        .instance_ids("i-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidInstanceID.NotFound"), "{e:?}");
    assert_eq!(
        e.message(),
        Some("The instance ID 'i-0123456789abcdef0' does not exist")
    );
    c.ec2
        .create_key_pair()
        .key_name("sdk-errors")
        .send()
        .await
        .expect("key pair");
    let e = c
        .ec2
        .create_key_pair()
        .key_name("sdk-errors")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidKeyPair.Duplicate"), "{e:?}");

    // Auto Scaling (query/XML): modelled faults.
    let ami = c
        .ssm
        .get_parameter()
        .name("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
        .send()
        .await
        .expect("public parameter")
        .parameter
        .and_then(|p| p.value)
        .expect("value");
    let lc = || {
        c.autoscaling
            .create_launch_configuration()
            .launch_configuration_name("sdk-errors-lc")
            .image_id(&ami)
            .instance_type("t3.micro")
    };
    lc().send().await.expect("launch configuration");
    let e = lc().send().await.unwrap_err();
    assert_eq!(e.code(), Some("AlreadyExists"), "{e:?}");
    assert!(e.as_service_error().unwrap().is_already_exists_fault());
    let e = c
        .autoscaling
        .create_launch_configuration()
        .launch_configuration_name("sdk-errors-lc-2")
        .image_id(&ami)
        .instance_type("t3.micro")
        .iam_instance_profile("NoSuchProfile")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"), "{e:?}");

    // CloudWatch (rpc-v2-cbor): the modelled ResourceNotFound, with its 404 in CBOR.
    let e = c
        .cloudwatch
        .set_alarm_state()
        .alarm_name("sdk-no-such-alarm")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFound"), "{e:?}");
    assert!(e.as_service_error().unwrap().is_resource_not_found());
    let last = c.cloudwatch_wire.exchanges().pop().expect("recorded");
    assert_eq!(last.status, 404, "{last:?}");
    assert_eq!(
        last.response_content_type.as_deref(),
        Some("application/cbor")
    );

    // SSM (JSON 1.1), IAM (query), SNS (query), ELB and ELBv2 (query).
    let e = c
        .ssm
        .get_parameter()
        .name("/sdk/no/such/parameter")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ParameterNotFound"), "{e:?}");
    assert!(e.as_service_error().unwrap().is_parameter_not_found());
    let e = c
        .iam
        .get_role()
        .role_name("NoSuchRole")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("NoSuchEntity"), "{e:?}");
    assert!(e.as_service_error().unwrap().is_no_such_entity_exception());
    let e = c
        .sns
        .publish()
        .topic_arn("arn:aws:sns:us-east-1:000000000000:sdk-no-such-topic")
        .message("hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("NotFound"), "{e:?}");
    assert!(e.as_service_error().unwrap().is_not_found_exception());
    let e = c
        .elb
        .describe_load_balancers()
        .load_balancer_names("sdk-no-such-lb")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("LoadBalancerNotFound"), "{e:?}");
    assert!(
        e.as_service_error()
            .unwrap()
            .is_access_point_not_found_exception()
    );
    let e = c
        .elbv2
        .describe_target_groups()
        .names("sdk-no-such-tg")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("TargetGroupNotFound"), "{e:?}");
    assert!(
        e.as_service_error()
            .unwrap()
            .is_target_group_not_found_exception()
    );
}
