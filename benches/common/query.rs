//! The set-up of the benchmarks that work on the server's state without the socket: a region
//! on a frozen clock (most of them), a query request context, and for those that run whole
//! requests (`ec2`, `describe_1000`, `describe_asg_1000`) one request through decode and
//! `server::respond` as `server::call` does it and a walk over every page of a paginated call.

use std::sync::Arc;

use updraft::Config;
use updraft::context::RequestContext;
use updraft::protocol::Protocol;
use updraft::protocol::models;
use updraft::protocol::render;
use updraft::server;
use updraft::state::{AppState, Scope};

/// A server state on a frozen clock (no controller moves) and its region (account
/// 000000000000, us-east-1) with the default VPC and images made.
pub fn frozen_region() -> (Arc<AppState>, Scope) {
    let state = AppState::new(Config {
        time_scale: 0.0,
        ..Config::default()
    });
    let scope = Scope::new("000000000000", "us-east-1");
    state
        .stores
        .with(&scope, |s| s.ec2.ensure_defaults(&scope, &state));
    (state, scope)
}

/// The context of a query (awsQuery) call of `service`.
pub fn query_ctx(scope: &Scope, service: &'static str, operation: &str) -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        scope: scope.clone(),
        service,
        operation: operation.into(),
        protocol: Protocol::Query,
        access_key_id: None,
    }
}

/// One request of parameters `form` through decode and `server::respond` in the context's
/// protocol; the body of its 200 answer.
pub fn respond_form(state: &AppState, ctx: &RequestContext, form: &[(String, String)]) -> Vec<u8> {
    let service = models::by_name(ctx.service).expect("registered");
    let operation = service.operation(&ctx.operation).expect("modelled");
    let input = render::decode_input(service, ctx.protocol, operation, form, &[]).expect("decodes");
    let rendered =
        server::respond(state, ctx, service, ctx.protocol, operation, input).expect("answers");
    assert_eq!(rendered.status, 200);
    rendered.body
}

/// [`respond_form`] of a form-encoded body, parsed first as the server does.
pub fn respond_body(state: &AppState, ctx: &RequestContext, body: &str) -> Vec<u8> {
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    respond_form(state, ctx, &form)
}

/// Every page of a paginated call: `page` sends one request, given the previous answer's
/// `<token>` value (none for the first page), and returns the answer's XML. Returns (pages,
/// bytes, occurrences of `<item>`).
pub fn walk_pages(
    token: &str,
    item: &str,
    mut page: impl FnMut(Option<&str>) -> Vec<u8>,
) -> (usize, usize, usize) {
    let (open, close, item) = (
        format!("<{token}>"),
        format!("</{token}>"),
        format!("<{item}>"),
    );
    let (mut pages, mut bytes, mut listed) = (0, 0, 0);
    let mut next: Option<String> = None;
    loop {
        let out = page(next.as_deref());
        let text = std::str::from_utf8(&out).expect("utf-8");
        pages += 1;
        bytes += out.len();
        listed += text.matches(&item).count();
        next = text
            .split_once(&open)
            .and_then(|(_, rest)| rest.split_once(&close))
            .map(|(t, _)| t.to_owned());
        if next.is_none() {
            return (pages, bytes, listed);
        }
    }
}
