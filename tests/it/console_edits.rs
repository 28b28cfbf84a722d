//! The console's live refresh leaves alone a form the user is editing (dom.js `keepEdits` /
//! `editing`, shared by the Auto Scaling group, launch template and Classic ELB pages), in a
//! real headless Chromium. On a launch template's page: untouched, the versions table follows
//! the CLI by itself; once a pick is made in the new-version form (a select's change, no
//! focus needed) a version the CLI adds does not redraw the page under the user; submitting
//! redraws it from the API, and the fresh form follows the CLI again.

use serde_json::json;

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::console_asg::cli;
use crate::webdriver::Browser;

/// A new version of template `id` from version 1 with instance type `ty`.
fn add_version(s: &TestServer, id: &str, ty: &str) {
    cli(
        s,
        &[
            "ec2",
            "create-launch-template-version",
            "--launch-template-id",
            id,
            "--source-version",
            "1",
            "--launch-template-data",
            &format!("{{\"InstanceType\":\"{ty}\"}}"),
        ],
    );
}

fn row(n: u32) -> String {
    format!("#lt-versions tr[data-id=\"{n}\"]")
}

#[test]
fn console_live_refresh_leaves_an_edited_form_alone() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("form-edits") else {
        return;
    };
    let created = cli(
        &s,
        &[
            "ec2",
            "create-launch-template",
            "--launch-template-name",
            "keep",
            "--launch-template-data",
            "{\"InstanceType\":\"t2.micro\"}",
        ],
    );
    let id = created["LaunchTemplate"]["LaunchTemplateId"]
        .as_str()
        .unwrap()
        .to_owned();
    open(&b, &s, "en", &format!("/asg/lts/{id}"));
    b.find("#ltv-form");

    // Untouched, the page follows the CLI.
    add_version(&s, &id, "t3.micro");
    b.wait_text(&row(2), "t3.micro");

    // A pick makes the form the user's: the change notice of the next version leaves it be.
    b.choose("#ltv-form select[name=InstanceType]", &["m5.large"]);
    add_version(&s, &id, "t2.small");
    // The notice (120 ms after the write), its trailing one (900 ms later) and the page's
    // refresh (150 ms after each) have all come and gone.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let picked = b.js(
        "return document.querySelector('#ltv-form select[name=InstanceType]').value;",
        json!([]),
    );
    assert_eq!(picked, "m5.large");
    assert_eq!(b.find_now(&row(3)), None, "redrawn under an edited form");
    b.screenshot("1-kept");

    // Submitting redraws from the API: the CLI's version and the form's.
    b.click("#ltv-submit");
    b.wait_text(&row(4), "m5.large");
    b.wait_text(&row(3), "t2.small");
    // The fresh form is nobody's yet: the page follows the CLI again.
    add_version(&s, &id, "t3.small");
    b.wait_text(&row(5), "t3.small");
    b.screenshot("2-followed");
    b.assert_no_errors();
}
