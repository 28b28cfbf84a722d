//! A YAML document as a tree whose every node knows its line, so that a lab file's problems
//! are reported as `file:line: problem`. Built from yaml-rust2's event parser (its `Yaml`
//! tree drops positions). Anchors and aliases are refused: a lab file has no use for them
//! and they would hide where a value came from.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One node: a scalar, a sequence or a mapping, with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Line of the node's first character.
    pub line: usize,
    /// What it holds.
    pub kind: Kind,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar's text; `plain` is false for quoted and block scalars (always strings).
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys in file order.
    Map(Vec<(String, Node)>),
}

/// A parse problem: line and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem at `line`.
    pub fn at(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

enum Open {
    Seq(usize, Vec<Node>),
    Map(usize, Vec<(String, Node)>, Option<(String, usize)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    problem: Option<Problem>,
}

impl Builder {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, key)) => match key.take() {
                Some((k, _)) => entries.push((k, node)),
                None => match node.kind {
                    Kind::Scalar { text, .. } => {
                        let twice = entries.iter().any(|(k, _)| *k == text);
                        let line = node.line;
                        *key = Some((text.clone(), line));
                        if twice {
                            self.fail(line, format!("`{text}` is given twice"));
                        }
                    }
                    _ => self.fail(node.line, "a mapping key must be a plain name"),
                },
            },
        }
    }

    fn fail(&mut self, line: usize, message: impl Into<String>) {
        if self.problem.is_none() {
            self.problem = Some(Problem::at(line, message));
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                if anchor != 0 {
                    self.fail(line, "anchors are not used in lab files");
                }
                let plain = style == TScalarStyle::Plain;
                self.push(Node {
                    line,
                    kind: Kind::Scalar { text, plain },
                });
            }
            Event::SequenceStart(..) => self.stack.push(Open::Seq(line, Vec::new())),
            Event::MappingStart(..) => self.stack.push(Open::Map(line, Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(l, items)) => Node {
                        line: l,
                        kind: Kind::Seq(items),
                    },
                    Some(Open::Map(l, entries, _)) => Node {
                        line: l,
                        kind: Kind::Map(entries),
                    },
                    None => return,
                };
                self.push(node);
            }
            Event::Alias(_) => self.fail(line, "aliases are not used in lab files"),
            _ => {}
        }
    }
}

/// Parse one YAML document into a [`Node`] tree.
pub fn parse(text: &str) -> Result<Node, Problem> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, false)
        .map_err(|e| Problem::at(e.marker().line(), e.info().to_owned()))?;
    if let Some(problem) = builder.problem {
        return Err(problem);
    }
    builder
        .root
        .ok_or_else(|| Problem::at(1, "the file is empty"))
}

impl Node {
    /// The scalar's text, or a problem naming what was expected.
    pub fn text(&self, what: &str) -> Result<&str, Problem> {
        match &self.kind {
            Kind::Scalar { text, .. } => Ok(text),
            _ => Err(Problem::at(self.line, format!("{what} must be text"))),
        }
    }

    /// The mapping's entries, or a problem.
    pub fn entries(&self, what: &str) -> Result<&[(String, Node)], Problem> {
        match &self.kind {
            Kind::Map(entries) => Ok(entries),
            _ => Err(Problem::at(self.line, format!("{what} must be a mapping"))),
        }
    }

    /// The sequence's items, or a problem.
    pub fn items(&self, what: &str) -> Result<&[Node], Problem> {
        match &self.kind {
            Kind::Seq(items) => Ok(items),
            _ => Err(Problem::at(self.line, format!("{what} must be a list"))),
        }
    }

    /// The node as JSON: plain scalars that read as numbers or booleans become those.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Scalar { text, plain: true } => match text.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" | "~" | "" => Value::Null,
                t => t
                    .parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| t.parse::<f64>().map(Value::from))
                    .unwrap_or_else(|_| Value::String(t.to_owned())),
            },
            Kind::Scalar { text, .. } => Value::String(text.clone()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}
