//! The runtime's modules import one way: client, call, engine, transport. This
//! reads `src/` and checks every `crate::` path against the table of layers
//! below (a module may use its own layer and the layers under it), that the
//! modules' imports have no cycle (within a layer too), and that no module
//! outside `clock.rs` reads the clock or sleeps (clippy's `disallowed-methods`
//! enforces the same at lint time).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layers, lowest first. Modules in one layer may use each other, one way
/// (`there_is_no_import_cycle`).
const LAYERS: &[&[&str]] = &[
    // Plain data and leaf utilities.
    &[
        "clock",
        "secret",
        "outcome",
        "spec",
        "de",
        "error",
        "progress",
        "retry",
        "reachability",
        "rate_limit",
        "generated",
        "catalog",
        "hooks",
        "budget",
        "shard",
        "file_lock",
        "json_check",
        "raw_result",
    ],
    // One request, one reply, one item's check.
    &["transport", "validation", "reply"],
    // A client's shared state; the output files.
    &["inner", "jsonl", "output", "cache"],
    // Batches in flight.
    &["engine"],
    // One call.
    &["call"],
    // The client, its builder, and the blocking wrapper.
    &["client", "config", "build", "blocking"],
];

/// Names re-exported at the crate root, and the module they come from.
const ROOT_NAMES: &[(&str, &str)] = &[
    ("Call", "call"),
    ("One", "call"),
    ("ErrorPolicy", "outcome"),
    ("OutcomeStream", "engine"),
    ("Client", "client"),
    ("ClientStats", "client"),
    ("Untyped", "client"),
    ("ClientBuilder", "config"),
    ("Target", "transport"),
    ("Error", "error"),
    ("JsonlSummary", "jsonl"),
    ("ItemError", "outcome"),
    ("ItemErrorKind", "outcome"),
    ("Outcome", "outcome"),
    ("RawResult", "raw_result"),
    ("Progress", "progress"),
    ("RateLimit", "rate_limit"),
    ("RetryPolicy", "retry"),
    ("Token", "secret"),
    ("validate_item", "validation"),
    ("validate_params", "validation"),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source of a file without its unit tests and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let body = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text,
    };
    body.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a piece of code names through `crate::`.
fn uses(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|s| s.trim().split("::").next().unwrap_or("").trim())
                .collect()
        } else {
            vec![rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")]
        };
        for name in names.into_iter().filter(|n| !n.is_empty() && *n != "self") {
            let module = ROOT_NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(name, |(_, m)| m);
            out.push(module.to_string());
        }
    }
    out
}

/// Each top-level module of `src/` and the modules it names.
fn module_uses() -> BTreeMap<String, Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut by_module: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let used: Vec<String> = uses(&code(f))
            .into_iter()
            .filter(|u| *u != module)
            .collect();
        by_module.entry(module).or_default().extend(used);
    }
    for used in by_module.values_mut() {
        used.sort();
        used.dedup();
    }
    by_module
}

/// A cycle of imports through `module`, if any, as the path that closes it.
fn cycle_from<'a>(
    module: &'a str,
    graph: &'a BTreeMap<String, Vec<String>>,
    path: &mut Vec<&'a str>,
    done: &mut Vec<&'a str>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|m| *m == module) {
        let mut cycle: Vec<String> = path[at..].iter().map(|m| m.to_string()).collect();
        cycle.push(module.to_string());
        return Some(cycle);
    }
    if done.contains(&module) {
        return None;
    }
    path.push(module);
    for next in graph.get(module).into_iter().flatten() {
        if let Some(cycle) = cycle_from(next, graph, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    done.push(module);
    None
}

#[test]
fn there_is_no_import_cycle() {
    let graph = module_uses();
    let mut done = Vec::new();
    for module in graph.keys() {
        let cycle = cycle_from(module, &graph, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap_or_default().join(" -> ")
        );
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let graph: BTreeMap<String, Vec<String>> = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .iter()
        .map(|(m, u)| (m.to_string(), vec![u.to_string()]))
        .collect();
    let cycle = cycle_from("d", &graph, &mut Vec::new(), &mut Vec::new());
    assert_eq!(cycle.unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn modules_import_only_their_own_layer_and_below() {
    let by_module = module_uses();
    assert!(by_module.len() > 15, "too few modules found: {by_module:?}");
    let mut wrong = Vec::new();
    for (module, used) in &by_module {
        let Some(own) = layer_of(module) else {
            wrong.push(format!("{module}: not in the table of layers (add it)"));
            continue;
        };
        for u in used {
            match layer_of(u) {
                Some(l) if l > own => {
                    wrong.push(format!("{module} (layer {own}) uses {u} (layer {l})"))
                }
                None if u != module => wrong.push(format!("{module} uses {u}, not in the table")),
                _ => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn only_the_clock_reads_the_time_or_sleeps() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let banned = [
        "Instant::now",
        "SystemTime::now",
        "time::sleep",
        "thread::sleep",
    ];
    let mut found = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("clock.rs")) {
        let code = code(f);
        for b in banned {
            if code.contains(b) {
                found.push(format!("{}: {b}", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "use crate::clock instead: {found:?}");
}

/// Lines of code of a file: neither blank nor comments, unit tests aside.
fn lines_of_code(path: &Path) -> usize {
    code(path).lines().filter(|l| !l.trim().is_empty()).count()
}

#[test]
fn no_runtime_or_cli_module_has_over_600_lines_of_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("cli/src"), &mut files);
    assert!(files.len() > 40, "too few files found: {}", files.len());
    let mut long: Vec<String> = files
        .iter()
        .map(|f| (lines_of_code(f), f))
        .filter(|(n, _)| *n > 600)
        .map(|(n, f)| format!("{}: {n} lines of code", f.display()))
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "split these modules by concept:\n{}",
        long.join("\n")
    );
}
