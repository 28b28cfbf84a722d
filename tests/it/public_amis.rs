//! `--public-amis FILE`: suites written against other emulators' fixed AMI ids (moto's
//! `ami-12c6146b`, LocalStack's `ami-df5de72bdb3b`) run unchanged, and a bad file stops the
//! start naming its line.

use std::process::Command;

use updraft::Config;
use updraft::services::ec2::public_amis;

use crate::common::{BOTO3_PRELUDE, TestServer};

const FILE: &str = "# AMI ids other emulators hand out\n\
{\"id\": \"ami-12c6146b\", \"name\": \"moto-default\", \"owner\": \"amazon\"}\n\
\n\
{\"id\": \"ami-df5de72bdb3b\", \"name\": \"localstack-ubuntu\", \"owner\": \"123456789012\", \"architecture\": \"arm64\", \"platform\": \"linux\"}\n\
{\"id\": \"ami-0a1b2c3d\", \"name\": \"windows-server\", \"platform\": \"windows\", \"description\": \"a Windows image\"}\n";

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("updraft-public-amis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn public_amis_launch_and_describe_like_the_catalogue() {
    let path = write("good.jsonl", FILE);
    let server = TestServer::with_config(Config {
        public_amis: Some(public_amis::load(path.to_str().unwrap()).unwrap()),
        ..Config::default()
    });
    // The CLI, as a suite written for moto would call it.
    let run = server
        .aws(&[
            "ec2",
            "run-instances",
            "--image-id",
            "ami-12c6146b",
            "--instance-type",
            "t2.micro",
            "--count",
            "1",
        ])
        .json();
    assert_eq!(run["Instances"][0]["ImageId"], "ami-12c6146b");
    let images = server
        .aws(&["ec2", "describe-images", "--image-ids", "ami-12c6146b"])
        .json();
    let image = &images["Images"][0];
    assert_eq!(image["Name"], "moto-default");
    assert_eq!(image["OwnerId"], "137112412989");
    assert_eq!(image["ImageOwnerAlias"], "amazon");
    assert_eq!(image["Public"], true);
    assert_eq!(image["State"], "available");

    let script = format!(
        "{BOTO3_PRELUDE}\n\
         out = {{}}\n\
         for region in ['us-east-1', 'eu-west-1']:\n\
         \x20   ec2 = client('ec2', region=region)\n\
         \x20   i = ec2.run_instances(ImageId='ami-df5de72bdb3b', InstanceType='t3.micro', MinCount=1, MaxCount=1)['Instances'][0]\n\
         \x20   out[region] = i['ImageId']\n\
         ec2 = client('ec2')\n\
         out['ls'] = ec2.describe_images(ImageIds=['ami-df5de72bdb3b'])['Images'][0]\n\
         out['win'] = ec2.describe_images(Filters=[{{'Name': 'name', 'Values': ['windows-server']}}])['Images']\n\
         out['owned'] = [i['ImageId'] for i in ec2.describe_images(Owners=['123456789012'])['Images']]\n\
         w = ec2.run_instances(ImageId='ami-0a1b2c3d', InstanceType='t3.micro', MinCount=1, MaxCount=1)['Instances'][0]\n\
         out['win_run'] = w\n\
         l = ec2.run_instances(ImageId='ami-df5de72bdb3b', InstanceType='t3.micro', MinCount=1, MaxCount=1)['Instances'][0]\n\
         described = ec2.describe_instances(InstanceIds=[w['InstanceId'], l['InstanceId']])['Reservations']\n\
         out['described'] = {{x['ImageId']: x for r in described for x in r['Instances']}}\n\
         out['amazon'] = [i['ImageId'] for i in ec2.describe_images(Owners=['amazon'])['Images']]\n\
         print(json.dumps(out, default=str))"
    );
    let out = server.boto3(&script);
    assert_eq!(out["us-east-1"], "ami-df5de72bdb3b", "{out}");
    assert_eq!(out["eu-west-1"], "ami-df5de72bdb3b", "{out}");
    assert_eq!(out["ls"]["Architecture"], "arm64");
    assert_eq!(out["ls"]["OwnerId"], "123456789012");
    assert!(out["ls"].get("ImageOwnerAlias").is_none(), "{out}");
    assert!(out["ls"].get("Platform").is_none(), "{out}");
    let win = &out["win"][0];
    assert_eq!(win["ImageId"], "ami-0a1b2c3d");
    assert_eq!(win["Platform"], "windows");
    assert_eq!(win["PlatformDetails"], "Windows");
    assert_eq!(win["Description"], "a Windows image");
    assert_eq!(out["owned"], serde_json::json!(["ami-df5de72bdb3b"]));
    // Instances carry their image's platform and architecture, in RunInstances' answer and in
    // DescribeInstances; `UsageOperation` is the Windows billing code
    // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/billing-info-fields.html).
    for windows in [&out["win_run"], &out["described"]["ami-0a1b2c3d"]] {
        assert_eq!(windows["Platform"], "windows", "{windows}");
        assert_eq!(windows["PlatformDetails"], "Windows", "{windows}");
        assert_eq!(windows["UsageOperation"], "RunInstances:0002", "{windows}");
    }
    let linux = &out["described"]["ami-df5de72bdb3b"];
    assert!(linux.get("Platform").is_none(), "{linux}");
    assert_eq!(linux["PlatformDetails"], "Linux/UNIX", "{linux}");
    assert_eq!(linux["UsageOperation"], "RunInstances", "{linux}");
    assert_eq!(linux["Architecture"], "arm64", "{linux}");
    let amazon = out["amazon"].as_array().unwrap();
    assert!(amazon.contains(&"ami-12c6146b".into()), "{out}");
    // The catalogue's own images stay first: clients pick `Images[0]`.
    assert_ne!(amazon[0], "ami-12c6146b");
}

#[test]
fn a_bad_public_amis_file_stops_the_start_naming_the_line() {
    let path = write(
        "bad.jsonl",
        "{\"id\": \"ami-12c6146b\"}\n# fine so far\n{\"id\": \"ami-12c6146b\", \"platform\": \"macos\"}\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["--listen", "127.0.0.1:0", "--public-amis"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{} line 3: platform \"macos\"", path.display())),
        "{stderr}"
    );
    // The variable works the same way.
    let out = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["--listen", "127.0.0.1:0"])
        .env(
            "UPDRAFT_PUBLIC_AMIS",
            path.parent().unwrap().join("missing.jsonl"),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
