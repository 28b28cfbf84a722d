//! The one integration-test binary: real servers on 127.0.0.1:0, real clients.

mod admin;
mod auth;
mod cli;
mod common;
mod readme;
mod sigv4_suite;
mod vectors_json;
mod vectors_xml;
mod wire;
