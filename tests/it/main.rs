//! The one integration-test binary: real servers on 127.0.0.1:0, real clients.

mod admin;
mod auth;
mod cli;
mod cloudwatch;
mod cloudwatch_alarms;
mod common;
mod dataplane;
mod ec2;
mod ec2_errors;
mod ec2_filters;
mod ec2_metrics;
mod ec2_more;
mod elb;
mod elb_api;
mod elbv2;
mod elbv2_traffic;
mod readme;
mod sigv4_suite;
mod sns;
mod sns_http;
mod vectors_json;
mod vectors_xml;
mod wire;
