//! The README's supported-operations table, the dispatch tables and the models are one set.

use updraft::protocol::models;
use updraft::services;

#[test]
fn readme_lists_exactly_the_implemented_operations() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- operations:begin -->")
        .expect("table start marker");
    let end = readme
        .find("<!-- operations:end -->")
        .expect("table end marker");
    let rows: Vec<Vec<String>> = readme[start..end]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| service") && !l.starts_with("| ---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), models::all().len(), "one row per service");
    for service in models::all() {
        let row = rows
            .iter()
            .find(|r| r[0] == service.name)
            .unwrap_or_else(|| panic!("no row for {}", service.name));
        let mut implemented: Vec<&str> = services::implemented(service.name);
        implemented.sort_unstable();
        for op in &implemented {
            assert!(
                service.operation(op).is_some(),
                "{}:{op} not in the model",
                service.name
            );
        }
        let expected_count = format!(
            "{} / {}",
            implemented.len(),
            service.model().operations.len()
        );
        assert_eq!(row[1], expected_count, "{}: counts", service.name);
        let listed: Vec<&str> = row[2]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(
            listed, implemented,
            "{}: README lists other operations than the dispatch table",
            service.name
        );
    }
}
