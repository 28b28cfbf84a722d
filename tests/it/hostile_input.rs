//! Hostile and careless input found by the hardening probe (issue #20): non-finite numbers in
//! every protocol, oversize PutMetricData. Each answers the AWS error a client expects, never
//! a 500, and leaves state untouched.

use crate::common::{HttpResponse, TestServer};

const FORM: (&str, &str) = (
    "Content-Type",
    "application/x-www-form-urlencoded; charset=utf-8",
);

fn xml_field(resp: &HttpResponse, tag: &str) -> String {
    let text = resp.text();
    let open = format!("<{tag}>");
    let start = text
        .find(&open)
        .map(|i| i + open.len())
        .unwrap_or_else(|| panic!("no <{tag}> in {text}"));
    let end = start + text[start..].find(&format!("</{tag}>")).unwrap();
    text[start..end].to_owned()
}

fn form(server: &TestServer, body: &str) -> HttpResponse {
    server.http("POST", "/", &[FORM], body.as_bytes())
}

#[test]
fn non_finite_numbers_in_form_input_are_validation_errors() {
    let server = TestServer::start();
    // Auto Scaling: the probe's seeds, plus the spellings a float parser also accepts. (No
    // AWS text for this case was found; the message checked here is Updraft's own.)
    let asg = [
        "Action=ExecutePolicy&Version=2011-01-01&PolicyName=p&MetricValue=Infinity",
        "Action=ExecutePolicy&Version=2011-01-01&PolicyName=p&BreachThreshold=NaN",
        "Action=ExecutePolicy&Version=2011-01-01&PolicyName=p&MetricValue=-inf",
        "Action=ExecutePolicy&Version=2011-01-01&PolicyName=p&MetricValue=1e309",
        "Action=PutScalingPolicy&Version=2011-01-01&AutoScalingGroupName=g&PolicyName=p&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity&StepAdjustments.member.1.ScalingAdjustment=1&StepAdjustments.member.1.MetricIntervalLowerBound=NaN",
        "Action=PutScalingPolicy&Version=2011-01-01&AutoScalingGroupName=g&PolicyName=p&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity&StepAdjustments.member.1.ScalingAdjustment=1&StepAdjustments.member.1.MetricIntervalUpperBound=nan",
        "Action=PutScalingPolicy&Version=2011-01-01&AutoScalingGroupName=g&PolicyName=p&PolicyType=TargetTrackingScaling&TargetTrackingConfiguration.TargetValue=inf&TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType=ASGAverageCPUUtilization",
    ];
    for body in asg {
        let resp = form(&server, body);
        assert_eq!(resp.status, 400, "{body}: {}", resp.text());
        assert_eq!(xml_field(&resp, "Code"), "ValidationError", "{body}");
        assert!(
            xml_field(&resp, "Message").contains("is invalid. Expected a finite number."),
            "{body}: {}",
            resp.text()
        );
    }
    let resp = form(&server, asg[0]);
    assert!(
        xml_field(&resp, "Message").contains("Value (Infinity) for parameter MetricValue"),
        "{}",
        resp.text()
    );

    // EC2: instance requirements carry doubles.
    let ec2 = "Action=CreateLaunchTemplate&Version=2016-11-15&LaunchTemplateName=lt-nan&LaunchTemplateData.InstanceRequirements.VCpuCount.Min=1&LaunchTemplateData.InstanceRequirements.MemoryMiB.Min=512&LaunchTemplateData.InstanceRequirements.MemoryGiBPerVCpu.Min=Infinity";
    let resp = form(&server, ec2);
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert_eq!(xml_field(&resp, "Code"), "InvalidParameterValue");
    let listed = form(
        &server,
        "Action=DescribeLaunchTemplates&Version=2016-11-15&LaunchTemplateName.1=lt-nan",
    );
    assert_ne!(listed.status, 200, "the refused template must not exist");

    // CloudWatch over the query protocol keeps its own wording, list positions included.
    let cw = "Action=PutMetricData&Version=2010-08-01&Namespace=Hostile&MetricData.member.1.MetricName=m&MetricData.member.1.Values.member.1=1&MetricData.member.1.Counts.member.1=NaN";
    let resp = form(&server, cw);
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert_eq!(xml_field(&resp, "Code"), "InvalidParameterValue");
    assert_eq!(
        xml_field(&resp, "Message"),
        "The value NaN for parameter MetricData.member.1.Counts.member.1 is invalid."
    );
    // Byte for byte what AWS answered boto3 for a NaN value (quoted in getmoto/moto#3880 and
    // sj26/sidekiq-cloudwatchmetrics#16).
    let resp = form(
        &server,
        "Action=PutMetricData&Version=2010-08-01&Namespace=Hostile&MetricData.member.1.MetricName=m&MetricData.member.1.Value=NaN",
    );
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert_eq!(xml_field(&resp, "Code"), "InvalidParameterValue");
    assert_eq!(
        xml_field(&resp, "Message"),
        "The value NaN for parameter MetricData.member.1.Value is invalid."
    );
}

#[test]
fn non_finite_numbers_in_json_and_cbor_are_refused() {
    let server = TestServer::start();
    let json = server.http(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "GraniteServiceVersion20100801.PutMetricData"),
            ("x-amzn-query-mode", "true"),
        ],
        br#"{"Namespace":"Hostile","MetricData":[{"MetricName":"m","Values":[1],"Counts":["Infinity"]}]}"#,
    );
    assert_eq!(json.status, 400, "{}", json.text());
    assert_eq!(
        json.header("x-amzn-query-error"),
        Some("InvalidParameterValue;Sender")
    );
    assert_eq!(
        json.json()["message"],
        "The value Infinity for parameter MetricData.member.1.Counts.member.1 is invalid."
    );

    // The same datum in CBOR, with a real IEEE NaN as the count.
    let mut body = Vec::new();
    let mut e = minicbor::Encoder::new(&mut body);
    e.map(2)
        .unwrap()
        .str("Namespace")
        .unwrap()
        .str("Hostile")
        .unwrap();
    e.str("MetricData")
        .unwrap()
        .array(1)
        .unwrap()
        .map(3)
        .unwrap();
    e.str("MetricName").unwrap().str("m").unwrap();
    e.str("Values").unwrap().array(1).unwrap().f64(1.0).unwrap();
    e.str("Counts")
        .unwrap()
        .array(1)
        .unwrap()
        .f64(f64::NAN)
        .unwrap();
    let cbor = server.http(
        "POST",
        "/service/GraniteServiceVersion20100801/operation/PutMetricData",
        &[
            ("Content-Type", "application/cbor"),
            ("Smithy-Protocol", "rpc-v2-cbor"),
            ("x-amzn-query-mode", "true"),
        ],
        &body,
    );
    assert_eq!(cbor.status, 400);
    assert_eq!(
        cbor.header("x-amzn-query-error"),
        Some("InvalidParameterValue;Sender")
    );

    // Nothing was stored.
    let listed = server.aws(&["cloudwatch", "list-metrics", "--namespace", "Hostile"]);
    assert_eq!(listed.json()["Metrics"], serde_json::json!([]));
}

/// A PutMetricData form body of `datums` datums, each with a dimension value of `pad` bytes.
fn put_metric_data_form(datums: usize, pad: usize) -> String {
    let value = "v".repeat(pad);
    let mut body = String::from("Action=PutMetricData&Version=2010-08-01&Namespace=Big");
    for i in 1..=datums {
        body.push_str(&format!(
            "&MetricData.member.{i}.MetricName=m{i}&MetricData.member.{i}.Value={i}&MetricData.member.{i}.Dimensions.member.1.Name=d&MetricData.member.{i}.Dimensions.member.1.Value={value}"
        ));
    }
    body
}

#[test]
fn put_metric_data_over_one_megabyte_is_request_entity_too_large() {
    let server = TestServer::start();
    let over = put_metric_data_form(1000, 1000);
    assert!(over.len() > 1_048_576);
    let resp = form(&server, &over);
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(xml_field(&resp, "Code"), "RequestEntityTooLarge");
    assert_eq!(
        xml_field(&resp, "Message"),
        format!("Request size {} exceeded 1048576 bytes", over.len())
    );
    // Gzip does not get around it: the limit is on the body as decoded.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, over.as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    assert!(compressed.len() < 1_048_576);
    let resp = server.http(
        "POST",
        "/",
        &[FORM, ("Content-Encoding", "gzip")],
        &compressed,
    );
    assert_eq!(resp.status, 413, "{}", resp.text());

    // JSON and CBOR are held to the same limit.
    let datums: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                r#"{{"MetricName":"j{i}","Value":1,"Dimensions":[{{"Name":"d","Value":"{}"}}]}}"#,
                "v".repeat(1100)
            )
        })
        .collect();
    let json_body = format!(
        r#"{{"Namespace":"Big","MetricData":[{}]}}"#,
        datums.join(",")
    );
    let resp = server.http(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            (
                "X-Amz-Target",
                "GraniteServiceVersion20100801.PutMetricData",
            ),
            ("x-amzn-query-mode", "true"),
        ],
        json_body.as_bytes(),
    );
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(
        resp.header("x-amzn-query-error"),
        Some("RequestEntityTooLarge;Sender")
    );

    // At the limits (1000 datums, under 1 MB) it is stored; one datum more is AWS's 400.
    let under = put_metric_data_form(1000, 870);
    assert!(under.len() <= 1_048_576, "{}", under.len());
    assert_eq!(form(&server, &under).status, 200);
    let too_many = form(&server, &put_metric_data_form(1001, 1));
    assert_eq!(too_many.status, 400);
    assert_eq!(
        xml_field(&too_many, "Message"),
        "The collection MetricData must not have a size greater than 1000."
    );
    let listed = server.aws(&["cloudwatch", "list-metrics", "--namespace", "Big"]);
    assert_eq!(listed.json()["Metrics"].as_array().unwrap().len(), 1000);
}
