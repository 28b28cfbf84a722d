//! EC2 `Filter.N.Name` / `Filter.N.Value.M` filters with AWS's `*` and `?` wildcards.

use serde::Deserialize;

use super::errors::invalid;
use crate::error::ApiError;

/// One filter: a name and the values any of which may match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Filter {
    /// Filter name (`region-name`, `tag:Name`, ...).
    pub name: String,
    /// Candidate values; a resource matches when any value matches.
    pub values: Vec<String>,
}

/// Reject filter names the operation does not support, as EC2 does.
pub fn check_names(filters: &[Filter], supported: &[&str]) -> Result<(), ApiError> {
    match filters
        .iter()
        .find(|f| !supported.contains(&f.name.as_str()) && !f.name.starts_with("tag:"))
    {
        Some(f) => Err(invalid(format!("The filter '{}' is invalid", f.name))),
        None => Ok(()),
    }
}

/// Whether `value` matches `pattern`, where `*` is any run and `?` any one character.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether a resource passes every filter; `field` gives the resource's values for a filter name.
pub fn matches_all<'a>(filters: &[Filter], field: impl Fn(&str) -> Vec<&'a str>) -> bool {
    filters.iter().all(|f| {
        let have = field(&f.name);
        f.values
            .iter()
            .any(|pattern| have.iter().any(|v| wildcard_match(pattern, v)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_ec2() {
        assert!(wildcard_match("us-*", "us-east-1"));
        assert!(wildcard_match("us-east-?", "us-east-1"));
        assert!(!wildcard_match("us-east-?", "us-east-10"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYc"));
        assert!(!wildcard_match("eu-*", "us-east-1"));
    }
}
