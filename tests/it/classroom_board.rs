//! The teacher board in a real headless Chromium: three students (each with their own key,
//! through the `aws` CLI) do different amounts of the chapter; the teacher, signed in with the
//! teacher's key, sees each one's counts, peeks at one student's resources and sets the room's
//! clock; a student signed in to the console is refused the board and the clock. Screenshots
//! target/screenshots/teacher-*.png.

use serde_json::json;

use crate::classroom::{admin_as, aws_as, classroom, run_instance};
use crate::console::open;
use crate::webdriver::Browser;

fn ok(r: (bool, serde_json::Value, String)) -> serde_json::Value {
    assert!(r.0, "{}", r.2);
    r.1
}

fn sign_in(b: &Browser, member: &updraft::classroom::Member) {
    b.find("#signin-submit");
    b.type_into("#ak", &member.access_key_id);
    b.type_into("#sk", &member.secret);
    b.click("#signin-submit");
    b.wait_text("#account", &member.account);
}

#[test]
fn teacher_board_shows_each_students_progress_in_a_browser() {
    let _turn = crate::webdriver::turn();
    let (s, roster) = classroom(3);
    let [teacher, one, two, three] = [0, 1, 2, 3].map(|i| &roster.members[i]);
    // Student one: an instance. Student two: two instances, a load balancer, a group and an
    // alarm in ALARM. Student three: nothing yet.
    run_instance(&s, one);
    for _ in 0..2 {
        run_instance(&s, two);
    }
    let url = &s.url;
    ok(aws_as(
        url,
        two,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "exampleelb",
            "--listeners",
            "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80",
            "--availability-zones",
            "ap-northeast-2a",
        ],
    ));
    let ami = ok(aws_as(
        url,
        two,
        &["ec2", "describe-images", "--owners", "amazon"],
    ))["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(aws_as(
        url,
        two,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "lc",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
        ],
    ));
    ok(aws_as(
        url,
        two,
        &[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            "g",
            "--launch-configuration-name",
            "lc",
            "--min-size",
            "0",
            "--max-size",
            "3",
            "--availability-zones",
            "ap-northeast-2a",
        ],
    ));
    ok(aws_as(
        url,
        two,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "AutoScaling-Add-Alarm",
            "--namespace",
            "AWS/EC2",
            "--metric-name",
            "CPUUtilization",
            "--statistic",
            "Average",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "0",
            "--comparison-operator",
            "GreaterThanOrEqualToThreshold",
            // Whatever the evaluator sees after the clock moves (a datapoint, or none yet),
            // the alarm stays in ALARM, so the board's count does not race the evaluation.
            "--treat-missing-data",
            "breaching",
        ],
    ));
    ok(aws_as(
        url,
        two,
        &[
            "cloudwatch",
            "set-alarm-state",
            "--alarm-name",
            "AutoScaling-Add-Alarm",
            "--state-value",
            "ALARM",
            "--state-reason",
            "test",
        ],
    ));
    // Boot the instances: the teacher moves the frozen clock.
    let (status, _) = admin_as(
        &s,
        Some(teacher),
        "POST",
        "/_updraft/clock",
        Some(json!({"advance_seconds": 30})),
    );
    assert_eq!(status, 200);

    let (Some(t), Some(student)) = (Browser::start("teacher"), Browser::start("teacher-student"))
    else {
        return;
    };
    open(&t, &s, "en", "/signin");
    sign_in(&t, teacher);
    t.goto(&format!("{url}/_updraft/console/teacher/"));
    let count = |b: &Browser, account: &str, what: &str| {
        b.text(&format!("tr[data-id='{account}'] [data-count={what}]"))
    };
    t.wait("student two's two running instances", |b| {
        (count(b, &two.account, "instances_running") == "2").then_some(())
    });
    assert_eq!(count(&t, &one.account, "instances_running"), "1");
    assert_eq!(count(&t, &three.account, "instances_running"), "0");
    for (what, n) in [
        ("load_balancers", "1"),
        ("groups", "1"),
        ("alarms_in_alarm", "1"),
    ] {
        assert_eq!(count(&t, &two.account, what), n, "{what}");
        assert_eq!(count(&t, &one.account, what), "0", "{what}");
    }
    // Nobody opened a lab yet: every student is at step 0 of the chapter's lab.
    let lab = t.text(&format!("tr[data-id='{}'] [data-lab]", one.account));
    assert!(lab.starts_with("0/16"), "lab progress cell: {lab}");
    assert!(
        t.text(&format!("tr[data-id='{}'] [data-idle]", three.account))
            .contains("no change yet")
    );
    t.screenshot("board");
    t.click(&format!("button[data-peek='{}']", two.account));
    t.wait_text("#teacher-peek", "exampleelb");
    t.wait_text("#teacher-peek", "AutoScaling-Add-Alarm");
    assert!(!t.text("#teacher-peek").contains(&one.account));
    t.screenshot("peek");
    // The room's clock: the teacher sets 10x from the workshop bar.
    t.click("button[data-speed='10']");
    let scale = || s.http("GET", "/_updraft/clock", &[], b"").json()["scale"].as_f64();
    t.wait("the clock at 10x", |_| {
        (scale() == Some(10.0)).then_some(())
    });
    t.choose("#lang", &["ko"]);
    t.wait_text("#main h1", "강사 보드");
    t.wait_text(
        &format!("tr[data-id='{}'] [data-idle]", three.account),
        "아직 변경 없음",
    );
    t.screenshot("board-ko");
    t.assert_no_errors();

    // A student: the board and the clock are the teacher's.
    open(&student, &s, "en", "/signin");
    sign_in(&student, one);
    student.goto(&format!("{url}/_updraft/console/#/teacher"));
    student.wait_text("#teacher-refused", "TeacherOnly");
    assert!(
        student
            .text("#main")
            .contains("Only the teacher's credentials")
    );
    student.screenshot("student-refused");
    student.click("button[data-speed='60']");
    student.wait_text("#workshop .error", "TeacherOnly");
    assert_eq!(scale(), Some(10.0));
}
