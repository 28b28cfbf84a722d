//! DescribeAutoScalingGroups pages through boto3: `MaxRecords` and `NextToken` over filtered
//! groups, and the errors of a bad token, a bad page size and a bad filter (the handler
//! copies out only the page's groups; what a page holds must not depend on that).

use serde_json::json;

use crate::autoscaling_boto3::ASG_PRELUDE;
use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

const PAGES: &str = r#"
out = {}
for n in range(5):
    tags = [{'Key': 'team', 'Value': 'blue' if n % 2 == 0 else 'red', 'PropagateAtLaunch': False}]
    group('pg%d' % n, mn=0, mx=2, desired=0, Tags=tags)
def walk(**kw):
    pages, token = [], None
    while True:
        if token:
            kw['NextToken'] = token
        p = asg.describe_auto_scaling_groups(MaxRecords=2, **kw)
        pages.append([g['AutoScalingGroupName'] for g in p['AutoScalingGroups']])
        token = p.get('NextToken')
        if not token:
            return pages
out['all'] = walk()
out['blue'] = walk(Filters=[{'Name': 'tag:team', 'Values': ['blue']}])
out['named'] = walk(AutoScalingGroupNames=['pg4', 'pg1', 'nope', 'pg3'])
first = asg.describe_auto_scaling_groups(MaxRecords=2)
third = asg.describe_auto_scaling_groups(MaxRecords=1, NextToken=first['NextToken'])['AutoScalingGroups'][0]
out['third'] = [third['AutoScalingGroupName'], [t['Value'] for t in third['Tags']], third['MaxSize']]
out['bad_token'] = err(asg, lambda: asg.describe_auto_scaling_groups(NextToken='not-a-token'))
out['bad_size'] = err(asg, lambda: asg.describe_auto_scaling_groups(MaxRecords=101))
out['bad_filter'] = err(asg, lambda: asg.describe_auto_scaling_groups(Filters=[{'Name': 'colour', 'Values': ['x']}]))
print(json.dumps(out, default=str))
"#;

#[test]
fn asg_groups_page_by_max_records_after_filters() {
    let server = frozen_server();
    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{PAGES}"
    ));
    assert_eq!(out["all"], json!([["pg0", "pg1"], ["pg2", "pg3"], ["pg4"]]));
    assert_eq!(out["blue"], json!([["pg0", "pg2"], ["pg4"]]));
    // Named groups come in the order asked, unknown names left out.
    assert_eq!(out["named"], json!([["pg4", "pg1"], ["pg3"]]));
    // A page of one after a page of two: the third group, whole.
    assert_eq!(out["third"], json!(["pg2", ["blue"], 2]));
    assert_eq!(out["bad_token"]["code"], "ValidationError");
    assert_eq!(
        out["bad_token"]["message"],
        "The token provided is invalid."
    );
    assert_eq!(out["bad_size"]["code"], "ValidationError");
    assert_eq!(
        out["bad_size"]["message"],
        "1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100"
    );
    assert_eq!(out["bad_filter"]["code"], "ValidationError");
    assert_eq!(
        out["bad_filter"]["message"],
        "Filter type colour is not correct. Allowed Filter types are: tag-key tag-value tag:<key> "
    );
}
