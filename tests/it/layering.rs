//! The shape of the code, checked from its sources: data flows one way through the layers below, only start-up
//! reads the configuration, and files and functions stay short enough to read at once. A failure names the file
//! and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer, lowest first. A module imports only from its own layer or lower ones.
const LAYERS: &[(&str, u8)] = &[
    ("action", 0),
    ("telemetry", 0),
    ("metrics", 0),
    ("text", 0),
    ("claims", 1),
    ("policy", 2),
    ("okta", 2),
    ("wso2_events", 2),
    ("upstream", 3),
    ("secrets", 3),
    ("auth", 3),
    ("directory", 3),
    ("notify", 3),
    ("idempotency", 3),
    ("pending", 3),
    ("audit", 3),
    ("okta_users", 3),
    ("okta_log", 3),
    ("queue", 3),
    ("pipeline", 4),
    ("hooks", 4),
    ("catchup", 4),
    ("consumer", 4),
    ("check", 4),
    ("setup", 2),
    ("report", 4),
    ("endpoint", 5),
    ("app", 6),
    ("config", 6),
    ("lib", 7),
    ("main", 7),
];

/// The only modules that may read the configuration.
const CONFIG_READERS: &[&str] = &["app", "config", "lib", "main"];
const MAX_FILE_LINES: usize = 400;
const MAX_FN_LINES: usize = 80;

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's code without its unit tests (everything from the first `#[cfg(test)]` on).
fn code_of(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .collect()
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy());
    first.unwrap_or_default().trim_end_matches(".rs").to_owned()
}

/// The top-level modules a line names as `crate::module`.
fn imports(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let line = line.split("//").next().unwrap_or("");
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        found.push(name);
    }
    found
}

/// Functions longer than the limit: (first line, length).
fn long_functions(code: &[&str]) -> Vec<(usize, usize)> {
    let mut long = Vec::new();
    for (i, line) in code.iter().enumerate() {
        let trimmed = line.trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "async fn ",
            "pub async fn ",
            "pub(crate) fn ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if !is_fn || trimmed.ends_with(';') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let close = format!("{}}}", " ".repeat(indent));
        if let Some(end) = code[i..].iter().position(|l| **l == close)
            && end + 1 > MAX_FN_LINES
        {
            long.push((i + 1, end + 1));
        }
    }
    long
}

fn has_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].join(" -> ") + " -> " + node);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// Tests, benchmarks and examples are read by people too: the same limits on length.
#[test]
fn every_other_source_file_stays_short() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests", "benches", "examples", "fuzz/fuzz_targets"] {
        sources(&root.join(dir), &mut files);
    }
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let code = code_of(&text);
        let name = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        if code.len() > MAX_FILE_LINES {
            problems.push(format!(
                "{name}: {} lines (at most {MAX_FILE_LINES})",
                code.len()
            ));
        }
        for (line, length) in long_functions(&code) {
            problems.push(format!(
                "{name}:{line}: a function of {length} lines (at most {MAX_FN_LINES})"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "files grew too long:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_code_keeps_its_shape() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let code = code_of(&text);
        let name = file
            .strip_prefix(&src)
            .unwrap_or(file)
            .display()
            .to_string();
        let module = module_of(&src, file);
        let Some(own) = layer(&module) else {
            problems.push(format!(
                "{name}: module `{module}` has no layer in layering.rs"
            ));
            continue;
        };
        if code.len() > MAX_FILE_LINES {
            problems.push(format!(
                "{name}: {} lines without its tests (at most {MAX_FILE_LINES})",
                code.len()
            ));
        }
        for (line, length) in long_functions(&code) {
            problems.push(format!(
                "{name}:{line}: a function of {length} lines (at most {MAX_FN_LINES})"
            ));
        }
        for (n, line) in code.iter().enumerate() {
            for import in imports(line) {
                if import == module {
                    continue;
                }
                match layer(&import) {
                    Some(theirs) if theirs > own => problems.push(format!(
                        "{name}:{}: `{module}` (layer {own}) imports `{import}` (layer {theirs})",
                        n + 1
                    )),
                    _ => {}
                }
                if import == "config" && !CONFIG_READERS.contains(&module.as_str()) {
                    problems.push(format!("{name}:{}: only start-up reads `config`", n + 1));
                }
                graph.entry(module.clone()).or_default().insert(import);
            }
        }
    }
    if let Some(cycle) = has_cycle(&graph) {
        problems.push(format!("modules import each other: {cycle}"));
    }
    assert!(
        problems.is_empty(),
        "the code lost its shape:\n{}",
        problems.join("\n")
    );
}
