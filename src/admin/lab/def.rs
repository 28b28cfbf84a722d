//! A lab file's shape, read from its YAML tree with every problem placed on its line: unknown
//! fields, checks that do not parse, calls to operations Updraft does not implement or with
//! parameters their model does not have, checks that would write, values used before any
//! lookup or check saves them.

use serde::Serialize;
use serde_json::Value;

use super::expr::{self, Expr, Path};
use super::wire;
use super::yaml::{Kind, Node, Problem};
use crate::protocol::models::{self, ServiceDef};

/// Text in both console languages.
#[derive(Debug, Clone, Serialize)]
pub struct Text {
    /// English.
    pub en: String,
    /// Korean.
    pub ko: String,
}

/// One API call: service, operation and parameters (member names, as boto3 takes them;
/// strings may hold `${name}` references to saved values).
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    /// CLI service name (`ec2`, `elb`…), or `inbox` for the account's own e-mail inbox.
    pub service: &'static str,
    /// Operation, as AWS spells it.
    pub operation: String,
    /// Parameters by member name.
    pub params: Value,
}

/// A probe: a read, the items it selects and what they must satisfy.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// The read.
    pub call: Call,
    /// Where the items are in the answer (default: the answer itself is the one item).
    #[serde(skip)]
    pub items: Option<Path>,
    /// Which items count.
    #[serde(skip)]
    pub filter: Option<Expr>,
    /// What the selection must satisfy (`count` is the number of items).
    #[serde(skip)]
    pub need: Expr,
    /// What to show of each item ("found: exampleelb").
    #[serde(skip)]
    pub found: Option<Path>,
    /// Values kept for later calls and checks: name and path in each item.
    #[serde(skip)]
    pub save: Vec<(String, Path)>,
    /// The check as written, for the page.
    pub text: String,
}

/// One step of a lab.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Stable id (`p1-key-pair`).
    pub id: String,
    /// Short title.
    pub title: Text,
    /// What to do and why.
    pub why: Text,
    /// The console page it happens on (`#/elb`).
    pub page: String,
    /// The equivalent `aws` CLI commands.
    pub cli: Vec<String>,
    /// What "do it for me" calls, in order.
    pub calls: Vec<Call>,
    /// The checks: all must hold.
    pub check: Vec<Probe>,
    /// A step that must be done first for this one to count (the clean-up, whose end state
    /// is also the empty start).
    pub after: Option<String>,
}

/// A whole lab.
#[derive(Debug, Clone, Serialize)]
pub struct Lab {
    /// Stable id (`chapter19`).
    pub id: String,
    /// Title.
    pub title: Text,
    /// What the lab is about.
    pub intro: Text,
    /// Reads that find values the steps use (default subnets, a public AMI).
    #[serde(skip)]
    pub lookups: Vec<Probe>,
    /// The steps in order.
    pub steps: Vec<Step>,
}

fn only(node: &Node, what: &str, allowed: &[&str]) -> Result<(), Problem> {
    for (k, v) in node.entries(what)? {
        if !allowed.contains(&k.as_str()) {
            let line = v.line;
            return Err(Problem::at(
                line,
                format!(
                    "unknown field `{k}` in {what} (allowed: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.kind {
        Kind::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn need<'a>(node: &'a Node, key: &str, what: &str) -> Result<&'a Node, Problem> {
    get(node, key).ok_or_else(|| Problem::at(node.line, format!("{what} needs `{key}`")))
}

fn text(node: &Node, what: &str) -> Result<Text, Problem> {
    only(node, what, &["en", "ko"])?;
    let one = |lang| -> Result<String, Problem> {
        let t = need(node, lang, what)?.text(what)?.trim().to_owned();
        if t.is_empty() {
            return Err(Problem::at(node.line, format!("{what}.{lang} is empty")));
        }
        Ok(t)
    };
    Ok(Text {
        en: one("en")?,
        ko: one("ko")?,
    })
}

/// Names saved so far, while reading the file top to bottom.
#[derive(Default)]
struct Scope {
    saved: Vec<String>,
}

impl Scope {
    fn uses(&self, names: &[String], line: usize) -> Result<(), Problem> {
        match names.iter().find(|n| !self.saved.contains(n)) {
            Some(n) => Err(Problem::at(
                line,
                format!("`{n}` is used before a lookup or an earlier check saves it"),
            )),
            None => Ok(()),
        }
    }
}

fn call(node: &Node, what: &str, read_only: bool, scope: &Scope) -> Result<Call, Problem> {
    let spec = need(node, "call", what)?;
    let line = spec.line;
    let spec = spec.text("call")?;
    let Some((service, operation)) = spec.split_once(' ') else {
        return Err(Problem::at(
            line,
            "call is `service Operation`, e.g. `elb DescribeLoadBalancers`",
        ));
    };
    let operation = operation.trim().to_owned();
    let params = get(node, "params");
    if let Some(p) = params {
        scope.uses(&wire::references(&p.to_json()), p.line)?;
    }
    if service == "updraft" {
        return stress_call(operation, params, read_only, line);
    }
    if service == "inbox" {
        if operation != "List" || !read_only {
            return Err(Problem::at(line, "the inbox offers one read: `inbox List`"));
        }
        return Ok(Call {
            service: "inbox",
            operation,
            params: Value::Object(Default::default()),
        });
    }
    let def: &'static ServiceDef = models::by_name(service)
        .filter(|d| ["ec2", "autoscaling", "elb", "elbv2", "cloudwatch", "sns"].contains(&d.name))
        .ok_or_else(|| {
            Problem::at(
                line,
                format!("no service `{service}` (ec2, autoscaling, elb, elbv2, cloudwatch, sns)"),
            )
        })?;
    let op = def
        .operation(&operation)
        .filter(|_| crate::services::implemented(def.name).contains(&operation.as_str()));
    let Some(op) = op else {
        return Err(Problem::at(
            line,
            format!("{service} has no implemented operation `{operation}`"),
        ));
    };
    if read_only && !crate::server::regions::is_read(&operation) {
        return Err(Problem::at(
            line,
            format!("a check only reads, and `{operation}` writes"),
        ));
    }
    if let Some(p) = params {
        wire::check_params(def.model(), op.input.as_ref(), p)?;
    }
    Ok(Call {
        service: def.name,
        operation,
        params: params.map_or_else(|| Value::Object(Default::default()), Node::to_json),
    })
}

/// `updraft StressInstance` (do-it only): the admin stress knob, the stand-in for running
/// `yes > /dev/null` on the instance.
fn stress_call(
    operation: String,
    params: Option<&Node>,
    read_only: bool,
    line: usize,
) -> Result<Call, Problem> {
    if operation != "StressInstance" || read_only {
        return Err(Problem::at(
            line,
            "updraft offers one call, in `do` only: `updraft StressInstance`",
        ));
    }
    let params = params
        .ok_or_else(|| Problem::at(line, "StressInstance needs InstanceId and CpuPercent"))?;
    let entries = params.entries("params")?;
    for (k, v) in entries {
        if k != "InstanceId" && k != "CpuPercent" {
            return Err(Problem::at(
                v.line,
                format!("StressInstance has no parameter `{k}` (InstanceId, CpuPercent)"),
            ));
        }
    }
    if entries.len() != 2 {
        return Err(Problem::at(
            params.line,
            "StressInstance needs InstanceId and CpuPercent",
        ));
    }
    Ok(Call {
        service: "updraft",
        operation,
        params: params.to_json(),
    })
}

fn expression(node: &Node, what: &str) -> Result<Expr, Problem> {
    let src = node.text(what)?;
    expr::parse(src)
        .map_err(|e| Problem::at(node.line, format!("{what} `{src}` does not parse: {e}")))
}

fn path(node: &Node, what: &str) -> Result<Path, Problem> {
    match expression(node, what)? {
        Expr::Path(p) => Ok(p),
        _ => Err(Problem::at(
            node.line,
            format!("{what} must be a path like `Instances.InstanceId`"),
        )),
    }
}

const PROBE: &[&str] = &["call", "params", "items", "where", "need", "found", "save"];

fn probe(node: &Node, what: &str, scope: &mut Scope) -> Result<Probe, Problem> {
    only(node, what, PROBE)?;
    let call = call(node, what, true, scope)?;
    let items = get(node, "items").map(|n| path(n, "items")).transpose()?;
    let filter = get(node, "where")
        .map(|n| expression(n, "where"))
        .transpose()?;
    let need_expr = match get(node, "need") {
        Some(n) => expression(n, "need")?,
        None => expr::parse("count >= 1").map_err(|e| Problem::at(node.line, e))?,
    };
    for e in filter.iter().chain([&need_expr]) {
        let mut vars = Vec::new();
        e.vars(&mut vars);
        scope.uses(&vars, node.line)?;
    }
    let found = get(node, "found").map(|n| path(n, "found")).transpose()?;
    let mut save = Vec::new();
    if let Some(s) = get(node, "save") {
        for (name, p) in s.entries("save")? {
            save.push((name.clone(), path(p, "a saved value")?));
            scope.saved.push(name.clone());
        }
    }
    let mut text = format!("{} {}", call.service, call.operation);
    for (k, label) in [("items", "items"), ("where", "where"), ("need", "need")] {
        if let Some(n) = get(node, k) {
            text.push_str(&format!(" · {label} {}", n.text(k)?));
        }
    }
    Ok(Probe {
        call,
        items,
        filter,
        need: need_expr,
        found,
        save,
        text,
    })
}

fn step(node: &Node, scope: &mut Scope, ids: &[String]) -> Result<Step, Problem> {
    only(
        node,
        "a step",
        &["id", "title", "why", "page", "cli", "do", "check", "after"],
    )?;
    let id = need(node, "id", "a step")?.text("id")?.to_owned();
    if ids.contains(&id) {
        return Err(Problem::at(
            node.line,
            format!("step id `{id}` is used twice"),
        ));
    }
    let after = match get(node, "after") {
        Some(a) if !ids.iter().any(|i| i == a.text("after").unwrap_or_default()) => {
            return Err(Problem::at(a.line, "after must name an earlier step"));
        }
        Some(a) => Some(a.text("after")?.to_owned()),
        None => None,
    };
    let page = need(node, "page", "a step")?.text("page")?.to_owned();
    if !page.starts_with("#/") {
        return Err(Problem::at(
            node.line,
            "page is a console route like `#/elb`",
        ));
    }
    let cli = match get(node, "cli") {
        Some(c) => c
            .items("cli")?
            .iter()
            .map(|n| n.text("a CLI command").map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let mut check = Vec::new();
    for p in need(node, "check", "a step")?.items("check")? {
        check.push(probe(p, "a check", scope)?);
    }
    let mut calls = Vec::new();
    if let Some(d) = get(node, "do") {
        for c in d.items("do")? {
            only(c, "a call", &["call", "params"])?;
            calls.push(call(c, "a call", false, scope)?);
        }
    }
    Ok(Step {
        id,
        title: text(need(node, "title", "a step")?, "title")?,
        why: text(need(node, "why", "a step")?, "why")?,
        page,
        cli,
        calls,
        check,
        after,
    })
}

/// Read a lab from its YAML text.
pub fn parse(src: &str) -> Result<Lab, Problem> {
    let root = super::yaml::parse(src)?;
    only(
        &root,
        "the lab",
        &["id", "title", "intro", "lookups", "steps"],
    )?;
    let mut scope = Scope::default();
    let mut lookups = Vec::new();
    if let Some(l) = get(&root, "lookups") {
        for p in l.items("lookups")? {
            lookups.push(probe(p, "a lookup", &mut scope)?);
        }
    }
    let mut steps: Vec<Step> = Vec::new();
    for s in need(&root, "steps", "the lab")?.items("steps")? {
        let ids: Vec<String> = steps.iter().map(|s| s.id.clone()).collect();
        steps.push(step(s, &mut scope, &ids)?);
    }
    if steps.is_empty() {
        return Err(Problem::at(root.line, "a lab needs at least one step"));
    }
    Ok(Lab {
        id: need(&root, "id", "the lab")?.text("id")?.to_owned(),
        title: text(need(&root, "title", "the lab")?, "title")?,
        intro: text(need(&root, "intro", "the lab")?, "intro")?,
        lookups,
        steps,
    })
}
