//! Golden bytes of the EC2 network operations (key pairs, security groups and their rules,
//! route tables, internet gateways, tags, Availability Zones, account attributes), errors
//! included, on the same deterministic server as `golden`: recorded in `tests/golden-ec2-network/`
//! when these operations moved from value trees to typed outputs, so any later change of how
//! they are built cannot change a byte unnoticed. Re-record with `golden`'s command.

use crate::golden::{Step, check, form};

#[test]
fn ec2_network_responses_match_the_recorded_bytes() {
    check("golden-ec2-network", &steps);
}

/// An OpenSSH ED25519 public key (a fixed one) and a 1024-bit RSA one, base64 for
/// ImportKeyPair, are inline in the steps below.
fn steps() -> Vec<Step> {
    vec![
        Step {
            capture: &[("vpc", "<vpcId>", "</vpcId>", 0)],
            ..form("vpcs", "Action=DescribeVpcs&Version=2016-11-15")
        },
        form(
            "acct",
            "Action=DescribeAccountAttributes&Version=2016-11-15",
        ),
        form(
            "acct1",
            "Action=DescribeAccountAttributes&Version=2016-11-15&AttributeName.1=default-vpc",
        ),
        form(
            "azs",
            "Action=DescribeAvailabilityZones&Version=2016-11-15&ZoneName.1=us-east-1b",
        ),
        form(
            "azs-f",
            "Action=DescribeAvailabilityZones&Version=2016-11-15&Filter.1.Name=zone-id&Filter.1.Value.1=use1-az3",
        ),
        form(
            "azs-err",
            "Action=DescribeAvailabilityZones&Version=2016-11-15&ZoneName.1=bogus",
        ),
        form(
            "imp-ed",
            "Action=ImportKeyPair&Version=2016-11-15&KeyName=k1&PublicKeyMaterial=c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUFBQkFnTUVCUVlIQ0FrS0N3d05EZzhRRVJJVEZCVVdGeGdaR2hzY0hSNGYgbWU%3D&TagSpecification.1.ResourceType=key-pair&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b",
        ),
        form(
            "imp-rsa",
            "Action=ImportKeyPair&Version=2016-11-15&KeyName=k2&PublicKeyMaterial=c3NoLXJzYSBBQUFBQjNOemFDMXljMkVBQUFBREFRQUJBQUFBZ1FEZkxTK05HMnhMTGxvM0RaNFR5YWEwQWN1cDZHYUFHRkpEZTBGbHhGRnNBajVUc1MzSDBadkNCSjUvd0lRL3BvbVhrZ3lrTWNpeG9FcEhSOHR5cjJtRlBGNGJMblFuNWNIVzhPeGo0aFlxcVVoZnJhV21RWnE4aU5DNXVLczY3N1kycW5yeVFQbFFrUVpWSGpINm9xdG5pNjBwQWt3RUluRXhDM0djTGh4Ylh3PT0gcm9vdEB2bQo%3D",
        ),
        form(
            "imp-dup",
            "Action=ImportKeyPair&Version=2016-11-15&KeyName=k2&PublicKeyMaterial=c3NoLXJzYSBBQUFBQjNOemFDMXljMkVBQUFBREFRQUJBQUFBZ1FEZkxTK05HMnhMTGxvM0RaNFR5YWEwQWN1cDZHYUFHRkpEZTBGbHhGRnNBajVUc1MzSDBadkNCSjUvd0lRL3BvbVhrZ3lrTWNpeG9FcEhSOHR5cjJtRlBGNGJMblFuNWNIVzhPeGo0aFlxcVVoZnJhV21RWnE4aU5DNXVLczY3N1kycW5yeVFQbFFrUVpWSGpINm9xdG5pNjBwQWt3RUluRXhDM0djTGh4Ylh3PT0gcm9vdEB2bQo%3D",
        ),
        form(
            "imp-bad",
            "Action=ImportKeyPair&Version=2016-11-15&KeyName=k3&PublicKeyMaterial=Zm9v",
        ),
        form(
            "dkp-pub",
            "Action=DescribeKeyPairs&Version=2016-11-15&IncludePublicKey=true",
        ),
        form(
            "dkp",
            "Action=DescribeKeyPairs&Version=2016-11-15&Filter.1.Name=key-type&Filter.1.Value.1=rsa",
        ),
        form(
            "dkp-err",
            "Action=DescribeKeyPairs&Version=2016-11-15&KeyName.1=nope",
        ),
        form(
            "del-kp",
            "Action=DeleteKeyPair&Version=2016-11-15&KeyName=k1",
        ),
        form(
            "del-kp-none",
            "Action=DeleteKeyPair&Version=2016-11-15&KeyName=none",
        ),
        form(
            "del-kp-err",
            "Action=DeleteKeyPair&Version=2016-11-15&KeyPairId=key-0123456789abcdef0",
        ),
        Step {
            capture: &[("sg", "<groupId>", "</groupId>", 0)],
            ..form(
                "csg",
                "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=g1&GroupDescription=d1&VpcId={vpc}&TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key=t&TagSpecification.1.Tag.1.Value=u",
            )
        },
        Step {
            capture: &[("sg2", "<groupId>", "</groupId>", 0)],
            ..form(
                "csg2",
                "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=g2&GroupDescription=d2",
            )
        },
        form(
            "csg-dup",
            "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=g2&GroupDescription=d2",
        ),
        form(
            "auth-in",
            "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8&IpPermissions.1.IpRanges.1.Description=ssh&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=::/0&IpPermissions.1.PrefixListIds.1.PrefixListId=pl-12345678&IpPermissions.2.IpProtocol=-1&IpPermissions.2.UserIdGroupPairs.1.GroupId={sg2}&IpPermissions.2.UserIdGroupPairs.1.Description=peer",
        ),
        Step {
            capture: &[("rule", "<securityGroupRuleId>", "</securityGroupRuleId>", 0)],
            ..form(
                "auth-out",
                "Action=AuthorizeSecurityGroupEgress&Version=2016-11-15&GroupId={sg}&IpPermissions.1.IpProtocol=udp&IpPermissions.1.FromPort=53&IpPermissions.1.ToPort=53&IpPermissions.1.IpRanges.1.CidrIp=1.1.1.1/32",
            )
        },
        form(
            "auth-dup",
            "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId={sg}&IpProtocol=tcp&FromPort=22&ToPort=22&CidrIp=10.0.0.0/8",
        ),
        form(
            "auth-legacy",
            "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupName=g2&IpProtocol=tcp&FromPort=80&ToPort=81&CidrIp=0.0.0.0/0",
        ),
        form("dsg", "Action=DescribeSecurityGroups&Version=2016-11-15"),
        form(
            "dsg-page",
            "Action=DescribeSecurityGroups&Version=2016-11-15&MaxResults=5&Filter.1.Name=ip-permission.protocol&Filter.1.Value.1=tcp",
        ),
        form(
            "dsg-err",
            "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-0123456789abcdef0",
        ),
        form(
            "dsgr",
            "Action=DescribeSecurityGroupRules&Version=2016-11-15&Filter.1.Name=group-id&Filter.1.Value.1={sg}",
        ),
        form(
            "dsgr-id",
            "Action=DescribeSecurityGroupRules&Version=2016-11-15&SecurityGroupRuleId.1={rule}",
        ),
        form(
            "rev-in",
            "Action=RevokeSecurityGroupIngress&Version=2016-11-15&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8",
        ),
        form(
            "rev-out",
            "Action=RevokeSecurityGroupEgress&Version=2016-11-15&GroupId={sg}&SecurityGroupRuleId.1={rule}",
        ),
        form(
            "rev-err",
            "Action=RevokeSecurityGroupEgress&Version=2016-11-15&GroupId={sg}&SecurityGroupRuleId.1={rule}",
        ),
        form(
            "del-sg2",
            "Action=DeleteSecurityGroup&Version=2016-11-15&GroupId={sg2}",
        ),
        form(
            "del-sg",
            "Action=DeleteSecurityGroup&Version=2016-11-15&GroupId={sg}",
        ),
        form(
            "del-sg-name",
            "Action=DeleteSecurityGroup&Version=2016-11-15&GroupName=g2",
        ),
        form(
            "cvpc",
            "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.9.0.0/16",
        ),
        form("drt", "Action=DescribeRouteTables&Version=2016-11-15"),
        form(
            "drt-f",
            "Action=DescribeRouteTables&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc}&MaxResults=5",
        ),
        form(
            "drt-err",
            "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-0123456789abcdef0",
        ),
        form("digw", "Action=DescribeInternetGateways&Version=2016-11-15"),
        form(
            "digw-err",
            "Action=DescribeInternetGateways&Version=2016-11-15&InternetGatewayId.1=igw-0123456789abcdef0",
        ),
        form(
            "ctag",
            "Action=CreateTags&Version=2016-11-15&ResourceId.1={vpc}&Tag.1.Key=Name&Tag.1.Value=main&Tag.2.Key=empty",
        ),
        form(
            "ctag-err",
            "Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-0123456789abcdef0&Tag.1.Key=x",
        ),
        form(
            "ctag-aws",
            "Action=CreateTags&Version=2016-11-15&ResourceId.1={vpc}&Tag.1.Key=aws:x",
        ),
        form("dtag", "Action=DescribeTags&Version=2016-11-15"),
        form(
            "dtag-page",
            "Action=DescribeTags&Version=2016-11-15&MaxResults=5&Filter.1.Name=resource-type&Filter.1.Value.1=vpc",
        ),
        form(
            "deltag",
            "Action=DeleteTags&Version=2016-11-15&ResourceId.1={vpc}&Tag.1.Key=Name",
        ),
        form(
            "dtag2",
            "Action=DescribeTags&Version=2016-11-15&Filter.1.Name=resource-id&Filter.1.Value.1={vpc}",
        ),
        form("dry", "Action=DescribeTags&Version=2016-11-15&DryRun=true"),
        form(
            "drt2",
            "Action=DescribeRouteTables&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc}",
        ),
    ]
}
