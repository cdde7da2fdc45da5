//! Layers point one way (STYLE.md): every `crate::…` path in `src/` names a module at or below
//! the file's own module in the layer order, no file allowed `too_many_arguments`, and no two
//! files import each other through a cycle.
//!
//! The checks read the source text: comments are skipped, `use` statements are expanded
//! (`{…}` groups, `self`/`super` paths), and a name re-exported by a `mod.rs` is followed to the
//! file that defines it. A parent module declaring or re-exporting its children is structure,
//! not a dependency, so those edges are left out of the cycle search.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer order of STYLE.md, lowest first.
const ORDER: [&str; 14] = [
    "units", "error", "capture", "decode", "flow", "framing", "extract", "app", "view", "analysis",
    "engine", "grade", "report", "cli",
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, as paths relative to `src/`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(src_dir()).unwrap().to_path_buf());
        }
    }
}

/// The module path of a file: `app/http/mod.rs` → `[app, http]`, `app/http/framer.rs` →
/// `[app, http, framer]`, `lib.rs` → `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// The source without comments (line and block comments; strings are left alone, which is
/// good enough for this crate's code).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    if n == '\n' {
                        out.push('\n');
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Expands one `use` tree (`a::{b, c::{d, e}}`) into its paths (`a::b`, `a::c::d`, `a::c::e`).
fn expand_use(tree: &str) -> Vec<String> {
    // Drop renames (`x as y`), then whitespace.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut kept = String::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "as" {
            // `as name,` keeps the comma or brace glued to the name.
            let after = words.get(i + 1).copied().unwrap_or("");
            kept.push_str(after.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'));
            i += 2;
            continue;
        }
        kept.push_str(words[i]);
        i += 1;
    }
    let tree = kept;
    let mut out = Vec::new();
    expand_into("", &tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let Some(open) = tree.find('{') else {
        out.push(format!("{prefix}{tree}"));
        return;
    };
    let head = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let part = &inner[start..i];
                if !part.is_empty() {
                    expand_into(&format!("{prefix}{head}"), part, out);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    let part = &inner[start..];
    if !part.is_empty() {
        expand_into(&format!("{prefix}{head}"), part, out);
    }
}

/// The `use` trees of a file (text between `use` and `;`), with whether each is a `pub use`.
fn use_trees(code: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(at) = code[i..].find("use ") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let Some(end) = code[start..].find(';') else {
            break;
        };
        if boundary {
            let line_start = code[..start].rfind('\n').map_or(0, |n| n + 1);
            let before = code[line_start..start].trim();
            let is_pub = before.starts_with("pub");
            if before.is_empty() || is_pub || before.ends_with('{') || before.ends_with('}') {
                out.push((is_pub, code[start + 4..start + end].trim().to_string()));
            }
        }
        i = start + end + 1;
    }
    out
}

/// Every `crate::a::b` path written in expressions or types (outside `use` statements too).
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at..];
        let len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(after.len());
        let before_ok = at == 0
            || !rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if before_ok {
            out.push(after[..len].trim_end_matches(':').to_string());
        }
        rest = &after[len.max(1)..];
    }
    out
}

/// The files of the crate, by module path.
struct Crate {
    files: BTreeMap<Vec<String>, PathBuf>,
    /// Per `mod.rs`: re-exported name → the module path it comes from.
    reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn load() -> (Self, BTreeMap<PathBuf, String>) {
        let mut files = Vec::new();
        rust_files(&src_dir(), &mut files);
        let mut code = BTreeMap::new();
        let mut by_module = BTreeMap::new();
        for f in &files {
            let text = std::fs::read_to_string(src_dir().join(f)).unwrap();
            code.insert(f.clone(), strip_comments(&text));
            // `main.rs` is the binary's root; `crate::` paths resolve against the library's.
            if f != Path::new("main.rs") {
                by_module.insert(module_of(f), f.clone());
            }
        }
        let mut krate = Crate {
            files: by_module,
            reexports: BTreeMap::new(),
        };
        for (f, text) in &code {
            let module = module_of(f);
            let mut names = BTreeMap::new();
            for (is_pub, tree) in use_trees(text) {
                if !is_pub {
                    continue;
                }
                for path in expand_use(&tree) {
                    let absolute = krate.absolute(&module, &path);
                    if let Some(name) = absolute.last() {
                        names.insert(name.clone(), absolute[..absolute.len() - 1].to_vec());
                    }
                }
            }
            krate.reexports.insert(module, names);
        }
        (krate, code)
    }

    /// `path` (as written in `module`) as a path from the crate root.
    fn absolute(&self, module: &[String], path: &str) -> Vec<String> {
        let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        let mut base: Vec<String> = match parts.first() {
            Some(&"crate") => Vec::new(),
            Some(&"self") | Some(&"super") => module.to_vec(),
            // A child module or an external crate: relative to this module.
            _ => module.to_vec(),
        };
        let mut rest = parts.as_slice();
        if rest.first() == Some(&"crate") || rest.first() == Some(&"self") {
            rest = &rest[1..];
        }
        while rest.first() == Some(&"super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().map(|s| s.to_string()));
        base
    }

    /// The file `path` (from the crate root) refers to: the deepest module file on it, followed
    /// through a `mod.rs` re-export when the next name is one.
    fn file_of(&self, path: &[String]) -> Option<PathBuf> {
        let mut path = path.to_vec();
        for _ in 0..8 {
            let (module, next) = (1..=path.len())
                .rev()
                .find(|&n| self.files.contains_key(&path[..n]))
                .map(|n| (path[..n].to_vec(), path.get(n).cloned()))?;
            if let Some(name) = next
                && let Some(from) = self.reexports.get(&module).and_then(|r| r.get(&name))
                && from != &module
            {
                let mut followed = from.clone();
                followed.push(name);
                path = followed;
                continue;
            }
            return self.files.get(&module).cloned();
        }
        None
    }
}

fn rank(module: &str) -> Option<usize> {
    ORDER.iter().position(|m| *m == module)
}

/// The `crate::` paths of `text` (the code of `file`, whose layer has rank `own`) that name a
/// higher layer; names outside the order go to `outside`.
fn upward_uses(file: &Path, own: usize, text: &str, outside: &mut BTreeSet<String>) -> Vec<String> {
    let mut up = Vec::new();
    for path in crate_paths(text) {
        // `crate::Error` and the like: an item of the crate root, not a module.
        let Some(target) = path
            .split("::")
            .nth(1)
            .filter(|t| t.starts_with(|c: char| c.is_lowercase()))
        else {
            continue;
        };
        match rank(target) {
            Some(r) if r > own => {
                up.push(format!("{}: {} uses {path}", file.display(), ORDER[own]))
            }
            Some(_) => {}
            None => {
                outside.insert(target.to_string());
            }
        }
    }
    up
}

/// Every cycle found by a depth-first search of `edges` (each as `a → b → a`).
fn find_cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<String> {
    fn visit(
        f: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<PathBuf, u8>,
        stack: &mut Vec<PathBuf>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(f.clone(), 1);
        stack.push(f.clone());
        for t in edges.get(f).into_iter().flatten() {
            match state.get(t) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == t).unwrap_or(0);
                    let cycle: Vec<String> = stack[at..]
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    cycles.push(format!("{} → {}", cycle.join(" → "), t.display()));
                }
                Some(_) => {}
                None => visit(t, edges, state, stack, cycles),
            }
        }
        stack.pop();
        state.insert(f.clone(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for f in edges.keys() {
        if !state.contains_key(f) {
            visit(f, edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    cycles
}

#[test]
fn layers_point_one_way_and_no_allowance_for_too_many_arguments() {
    let (_, code) = Crate::load();
    let mut upward = Vec::new();
    let mut allowances = Vec::new();
    let mut outside = BTreeSet::new();
    for (file, text) in &code {
        let module = module_of(file);
        let Some(top) = module.first() else {
            continue; // lib.rs, main.rs
        };
        let Some(own) = rank(top) else {
            outside.insert(top.clone());
            continue;
        };
        if text.contains("too_many_arguments") {
            allowances.push(file.display().to_string());
        }
        upward.extend(upward_uses(file, own, text, &mut outside));
    }
    assert!(
        upward.is_empty(),
        "imports pointing up the layer order:\n{}",
        upward.join("\n")
    );
    assert!(
        outside.is_empty(),
        "modules outside the layer order: {outside:?}"
    );
    assert!(
        allowances.is_empty(),
        "too_many_arguments allowed in {allowances:?}"
    );
}

#[test]
fn no_import_cycles_between_files() {
    let (krate, code) = Crate::load();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (file, text) in &code {
        let module = module_of(file);
        let mut targets = BTreeSet::new();
        let mut paths: Vec<String> = use_trees(text)
            .into_iter()
            .flat_map(|(_, t)| expand_use(&t))
            .filter(|p| {
                p.starts_with("crate::") || p.starts_with("super::") || p.starts_with("self::")
            })
            .collect();
        paths.extend(crate_paths(text));
        for path in paths {
            let absolute = krate.absolute(&module, &path);
            // A parent using its own children (declaring or re-exporting them) is structure.
            let is_parent = ["mod.rs", "lib.rs", "main.rs"]
                .iter()
                .any(|name| file.file_name().is_some_and(|n| n == *name));
            if is_parent && absolute.starts_with(&module) && absolute.len() > module.len() {
                continue;
            }
            if let Some(target) = krate.file_of(&absolute)
                && &target != file
            {
                targets.insert(target);
            }
        }
        edges.insert(file.clone(), targets);
    }
    let cycles = find_cycles(&edges);
    assert!(
        cycles.is_empty(),
        "import cycles between files:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_order_is_the_one_written_in_style_md() {
    let style = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/STYLE.md");
    let Ok(text) = std::fs::read_to_string(&style) else {
        eprintln!("skipped: ../shared/STYLE.md is not present");
        return;
    };
    let line = text
        .lines()
        .find(|l| l.contains("units → ") && l.contains("→ cli"))
        .expect("STYLE.md states the layer order");
    let start = line.find('`').map_or(0, |i| i + 1);
    let end = line.rfind('`').unwrap_or(line.len());
    let written: Vec<&str> = line[start..end].split('→').map(str::trim).collect();
    // STYLE.md leaves out `error`, which sits right above `units` (it names only frame numbers).
    let ours: Vec<&str> = ORDER.iter().copied().filter(|m| *m != "error").collect();
    assert_eq!(written, ours);
}

#[test]
fn the_checker_finds_what_it_should() {
    // The helpers themselves, on made-up code: a grouped use, a super path, a comment.
    assert_eq!(
        expand_use("crate::app::{http::{self, Label}, tftp as t}"),
        vec![
            "crate::app::http::self",
            "crate::app::http::Label",
            "crate::app::tftp"
        ]
    );
    let code =
        strip_comments("// use crate::cli;\nuse crate::flow::tcp::Stream; /* crate::grade */");
    assert_eq!(crate_paths(&code), vec!["crate::flow::tcp::Stream"]);
    assert_eq!(
        use_trees("pub use a::b;\nfn f() { let _use = 1; }\nuse super::{c, d};"),
        vec![
            (true, "a::b".to_string()),
            (false, "super::{c, d}".to_string())
        ]
    );
    // An upward use and a module outside the order are found.
    let mut outside = BTreeSet::new();
    let up = upward_uses(
        Path::new("framing/x.rs"),
        rank("framing").unwrap(),
        "use crate::flow::Direction;\nlet a = crate::app::http::looks_like_http_start(b);\nuse crate::misc::X;",
        &mut outside,
    );
    assert_eq!(
        up,
        vec!["framing/x.rs: framing uses crate::app::http::looks_like_http_start"]
    );
    assert_eq!(outside, BTreeSet::from(["misc".to_string()]));
    // A cycle through three files is found, a chain is not.
    let p = |s: &str| PathBuf::from(s);
    let mut edges = BTreeMap::new();
    edges.insert(p("a.rs"), BTreeSet::from([p("b.rs")]));
    edges.insert(p("b.rs"), BTreeSet::from([p("c.rs")]));
    edges.insert(p("c.rs"), BTreeSet::new());
    assert!(find_cycles(&edges).is_empty());
    edges.insert(p("c.rs"), BTreeSet::from([p("a.rs")]));
    assert_eq!(find_cycles(&edges), vec!["a.rs → b.rs → c.rs → a.rs"]);
}
