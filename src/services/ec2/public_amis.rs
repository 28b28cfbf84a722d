//! Extra public images from `--public-amis FILE` (`UPDRAFT_PUBLIC_AMIS`), so that test suites
//! written against other emulators' fixed AMI ids (moto's `ami-12c6146b`, LocalStack's
//! `ami-df5de72bdb3b`, …) run unchanged: each region offers them beside its own catalogue.
//!
//! The file is JSON lines, one image per line; blank lines and lines starting with `#` are
//! skipped:
//!
//! ```text
//! {"id": "ami-12c6146b", "name": "moto-default", "owner": "amazon", "architecture": "x86_64", "platform": "linux"}
//! ```
//!
//! Only `id` (`ami-` and 8 to 17 lowercase hex digits) is required; `name` defaults to the
//! id, `owner` to `amazon` (an alias Updraft knows, or a 12-digit account id), `architecture`
//! to `x86_64` (`x86_64`, `arm64`, `i386`), `platform` to `linux` (`linux`, `windows`), and
//! `description` is optional. A file that does not parse is refused at start, naming the file
//! and the line.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::images::{AMAZON_OWNER, CANONICAL_OWNER, public_image};
use super::store::Image;

/// Owner aliases and their accounts.
const ALIASES: &[(&str, &str)] = &[
    ("amazon", AMAZON_OWNER),
    ("aws-marketplace", "679593333241"),
    ("canonical", CANONICAL_OWNER),
];

/// The creation date the extra images show (2024-01-01T00:00:00Z).
const CREATED: f64 = 1_704_067_200.0;

/// One extra public image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicAmi {
    /// `ami-…`, as given.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description, when given.
    pub description: Option<String>,
    /// Owner account.
    pub owner_id: String,
    /// Owner alias (`amazon`), when the owner was given by one Updraft knows.
    pub owner_alias: Option<String>,
    /// `x86_64`, `arm64` or `i386`.
    pub architecture: String,
    /// A Windows image (else Linux).
    pub windows: bool,
}

impl PublicAmi {
    /// Its creation date, epoch seconds.
    pub fn creation_date(&self) -> f64 {
        CREATED
    }
}

/// The extra public images of a server (none without `--public-amis`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicAmis(pub Arc<Vec<PublicAmi>>);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    id: String,
    name: Option<String>,
    description: Option<String>,
    owner: Option<String>,
    architecture: Option<String>,
    platform: Option<String>,
}

fn check_id(id: &str) -> Result<(), String> {
    let hex = id.strip_prefix("ami-").unwrap_or_default();
    if (8..=17).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "id {id:?} is not an AMI id (ami- and 8 to 17 lowercase hex digits)"
        ))
    }
}

fn parse_line(text: &str) -> Result<PublicAmi, String> {
    let line: Line = serde_json::from_str(text).map_err(|e| e.to_string())?;
    check_id(&line.id)?;
    let (owner_id, owner_alias) = match line.owner.as_deref().unwrap_or("amazon") {
        digits if digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            (digits.to_owned(), None)
        }
        alias => {
            let (alias, account) = ALIASES.iter().find(|(a, _)| *a == alias).ok_or_else(|| {
                format!(
                    "owner {alias:?} is neither a 12-digit account id nor one of: {}",
                    ALIASES
                        .iter()
                        .map(|(a, _)| *a)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            ((*account).to_owned(), Some((*alias).to_owned()))
        }
    };
    let architecture = line.architecture.unwrap_or_else(|| "x86_64".into());
    if !matches!(architecture.as_str(), "x86_64" | "arm64" | "i386") {
        return Err(format!(
            "architecture {architecture:?} is not x86_64, arm64 or i386"
        ));
    }
    let windows = match line.platform.as_deref().unwrap_or("linux") {
        "linux" => false,
        "windows" => true,
        other => return Err(format!("platform {other:?} is not linux or windows")),
    };
    let name = line.name.unwrap_or_else(|| line.id.clone());
    if name.is_empty() || name.chars().count() > 128 {
        return Err("name must have 1 to 128 characters".into());
    }
    Ok(PublicAmi {
        id: line.id,
        name,
        description: line.description,
        owner_id,
        owner_alias,
        architecture,
        windows,
    })
}

/// Parse a public-AMIs file's text; errors name `file` and the line.
pub fn parse(file: &str, text: &str) -> Result<PublicAmis, String> {
    let mut amis: Vec<PublicAmi> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let ami = parse_line(line).map_err(|e| format!("{file} line {}: {e}", n + 1))?;
        if amis.iter().any(|a| a.id == ami.id) {
            return Err(format!("{file} line {}: {} is listed twice", n + 1, ami.id));
        }
        amis.push(ami);
    }
    Ok(PublicAmis(Arc::new(amis)))
}

/// The `--public-amis` images as a region offers them: public, available, ids as given.
pub fn images(region: &str, amis: Option<&PublicAmis>) -> Vec<Image> {
    amis.iter()
        .flat_map(|a| a.0.iter())
        .map(|ami| {
            let root = if ami.windows {
                "/dev/sda1"
            } else {
                "/dev/xvda"
            };
            Image {
                name: ami.name.clone(),
                description: ami.description.clone(),
                owner_id: ami.owner_id.clone(),
                owner_alias: ami.owner_alias.clone(),
                creation_date: ami.creation_date(),
                architecture: ami.architecture.clone(),
                platform: ami.windows.then(|| "windows".to_owned()),
                platform_details: if ami.windows { "Windows" } else { "Linux/UNIX" }.into(),
                ..public_image(region, ami.id.clone(), &ami.id, root, "gp2")
            }
        })
        .collect()
}

/// Read and parse a public-AMIs file (the `--public-amis` value parser).
pub fn load(path: &str) -> Result<PublicAmis, String> {
    let text = std::fs::read_to_string(Path::new(path)).map_err(|e| format!("{path}: {e}"))?;
    parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_with_defaults() {
        let amis = parse(
            "amis.jsonl",
            "# other emulators' ids\n\n{\"id\": \"ami-12c6146b\"}\n{\"id\": \"ami-df5de72bdb3b\", \"name\": \"ls\", \"owner\": \"123456789012\", \"architecture\": \"arm64\", \"platform\": \"windows\"}\n",
        )
        .unwrap();
        let [moto, ls] = amis.0.as_slice() else {
            panic!("two images: {amis:?}");
        };
        assert_eq!(
            (moto.name.as_str(), moto.owner_id.as_str()),
            ("ami-12c6146b", AMAZON_OWNER)
        );
        assert_eq!(moto.owner_alias.as_deref(), Some("amazon"));
        assert!(!moto.windows);
        assert_eq!((ls.owner_alias.as_deref(), ls.windows), (None, true));
        assert_eq!(ls.architecture, "arm64");
    }

    #[test]
    fn bad_lines_are_named() {
        let err = |text: &str| parse("f.jsonl", text).unwrap_err();
        assert!(err("{\"id\": \"ami-1\"}").starts_with("f.jsonl line 1: id \"ami-1\""));
        assert!(
            err("\n{\"id\": \"ami-12c6146b\", \"colour\": 1}")
                .starts_with("f.jsonl line 2: unknown field")
        );
        assert!(err("{\"id\": \"ami-12c6146b\"}\n{\"id\": \"ami-12c6146b\"}").contains("line 2"));
        assert!(err("{\"id\": \"ami-12c6146b\", \"platform\": \"mac\"}").contains("platform"));
        assert!(err("{\"id\": \"ami-12c6146b\", \"owner\": \"bob\"}").contains("owner"));
        assert!(err("not json").starts_with("f.jsonl line 1:"));
    }
}
