//! The one integration-test binary: real servers on 127.0.0.1:0, real clients.

mod admin;
mod auth;
mod autoscaling;
mod autoscaling_chapter;
mod autoscaling_core;
mod autoscaling_ext;
mod cli;
mod cloudwatch;
mod cloudwatch_alarms;
mod common;
mod ec2;
mod ec2_errors;
mod ec2_filters;
mod ec2_metrics;
mod ec2_more;
mod readme;
mod sigv4_suite;
mod sns;
mod sns_http;
mod vectors_json;
mod vectors_xml;
mod wire;
