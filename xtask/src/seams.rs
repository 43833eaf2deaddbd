//! Checks of the code's shape that anyone can rerun with `cargo test -p xtask`: which crates'
//! top-level modules import each other in a cycle, that wa-client keeps every error's source
//! (no `Result<_, String>`), and that every crate is under the workspace's lints.
//!
//! The module graph is read from the sources with a grep (`crate::<module>` paths), which is
//! what a reader follows too; it is coarse (a module is a top-level file or folder) on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a source file belongs to (`None` for the crate root).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.trim_end_matches(".rs").to_owned();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// Which top-level module uses which, from `crate::<module>` paths.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let Some(from) = top_module(src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let deps = graph.entry(from.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            // `wa_crate::x` is not ours: the path must start at a word boundary.
            let before = text[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() && name != from {
                deps.insert(name);
            }
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| known.contains(d));
    }
    graph
}

/// The groups of modules that reach each other (strongly connected, more than one module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for d in graph.get(&m).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (m, r) in &reaches {
        let group: Vec<String> = r
            .iter()
            .filter(|o| reaches.get(o).is_some_and(|back| back.contains(*m)))
            .cloned()
            .collect();
        if group.len() > 1 {
            groups.insert(group);
        }
    }
    groups.into_iter().collect()
}

fn root() -> PathBuf {
    crate::root()
}

#[test]
fn these_crates_have_no_module_cycles() {
    for krate in [
        "crates/wa-core/src",
        "crates/wa-client/src",
        "crates/herald-core/src",
        "crates/herald-cli/src",
        "crates/wa-sim/src",
        "src-tauri/src",
    ] {
        let found = cycles(&module_graph(&root().join(krate)));
        assert!(found.is_empty(), "{krate}: module cycles {found:?}");
    }
}

/// Cycles not yet broken, named so the list can only shrink: a new cycle, or a bigger one,
/// fails; so does breaking one without taking it off this list.
#[test]
fn the_remaining_module_cycles_are_exactly_the_known_ones() {
    let known: [(&str, &[&str]); 0] = [];
    for (krate, group) in known {
        let found = cycles(&module_graph(&root().join(krate)));
        let expected: Vec<Vec<String>> = vec![group.iter().map(|s| s.to_string()).collect()];
        assert_eq!(found, expected, "{krate}");
    }
}

/// wa-client's supervisor seams: pairing is a sub-machine that knows nothing of the
/// connection or the supervisor; no handler reaches the supervisor itself; and one module
/// alone writes the state watch, the event stream and the health snapshot.
#[test]
fn wa_client_handlers_get_a_narrow_context_and_one_module_publishes() {
    let src = root().join("crates/wa-client/src");
    let graph = module_graph(&src);
    let allowed: BTreeSet<String> = ["clock", "config", "socket", "store"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let pairing = graph.get("pairing").cloned().unwrap_or_default();
    assert!(
        pairing.is_subset(&allowed),
        "pairing.rs reaches {:?}",
        pairing.difference(&allowed).collect::<Vec<_>>()
    );
    for file in rust_files(&src) {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if !matches!(name, "supervisor.rs" | "lib.rs") {
            assert!(
                !text.contains("Supervisor"),
                "{}: only the supervisor and the crate root know the supervisor",
                file.display()
            );
        }
        if !matches!(name, "outbox.rs" | "outbox_tests.rs") {
            // The handle keeps a sender of the event stream only to subscribe with.
            let writers: &[&str] = if name == "lib.rs" {
                &["send_replace", "Mutex<Health>"]
            } else {
                &[
                    "send_replace",
                    "Mutex<Health>",
                    "broadcast::Sender<EngineEvent>",
                ]
            };
            for writer in writers {
                assert!(
                    !text.contains(writer),
                    "{}: {writer} outside outbox.rs",
                    file.display()
                );
            }
        }
    }
    let supervisor = std::fs::read_to_string(src.join("supervisor.rs")).unwrap();
    let start = supervisor.find("struct Supervisor {").unwrap();
    let body = &supervisor[start..start + supervisor[start..].find("\n}").unwrap()];
    assert!(
        body.lines()
            .skip(1)
            .all(|l| !l.trim_start().starts_with("pub")),
        "the supervisor's fields are private: {body}"
    );
}

#[test]
fn wa_client_keeps_error_sources() {
    let src = root().join("crates/wa-client/src");
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for (i, _) in squeezed.match_indices("Result<") {
            // The error type is the last argument: `Result<T, String>` ends in `,String>`.
            let rest = &squeezed[i..];
            let end = rest.find('>').unwrap_or(rest.len());
            assert!(
                !rest[..=end.min(rest.len() - 1)].ends_with(",String>"),
                "{}: a Result with a String error",
                file.display()
            );
        }
    }
}

#[test]
fn every_crate_is_under_the_workspace_lints() {
    let root = root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[workspace.lints.clippy]"));
    assert!(manifest.contains("unwrap_used = \"deny\""));
    assert!(manifest.contains("expect_used = \"deny\""));
    let clippy = std::fs::read_to_string(root.join("clippy.toml")).unwrap();
    assert!(clippy.contains("allow-unwrap-in-tests = true"));
    assert!(clippy.contains("allow-expect-in-tests = true"));
    let members = [
        "Cargo.toml",
        "crates/wa-core/Cargo.toml",
        "crates/wa-client/Cargo.toml",
        "crates/wa-sim/Cargo.toml",
        "crates/herald-core/Cargo.toml",
        "crates/herald-cli/Cargo.toml",
        "xtask/Cargo.toml",
    ];
    for m in members {
        let text = std::fs::read_to_string(root.join(m)).unwrap();
        assert!(
            text.contains("[lints]\nworkspace = true"),
            "{m} does not opt into the workspace lints"
        );
    }
}

/// The simulator's shared state is the one module everything else depends on; it depends on
/// none of them, which is what keeps the simulator's module graph free of cycles.
#[test]
fn wa_sim_shared_state_imports_nothing_else() {
    let graph = module_graph(&root().join("crates/wa-sim/src"));
    let deps = graph
        .get("shared")
        .expect("crates/wa-sim/src/shared exists");
    assert!(deps.is_empty(), "shared imports {deps:?}");
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.insert("a".into(), ["b".to_string()].into());
    g.insert("b".into(), ["a".to_string()].into());
    g.insert("c".into(), ["a".to_string()].into());
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
}
