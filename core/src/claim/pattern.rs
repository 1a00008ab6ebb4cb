//! Claim patterns: what a pattern covers, whether two patterns overlap, and an index
//! that finds every claim covering a path with one glob-set match.
//!
//! # What a pattern covers
//!
//! Patterns are written as in `.gitignore`, relative to the repository root, with `/`
//! between components:
//!
//! | pattern        | covers                                                              |
//! |----------------|---------------------------------------------------------------------|
//! | `src/main.rs`  | that file (a name with an extension names a file)                   |
//! | `src/auth`     | that path and everything below it (a name without one may be a dir) |
//! | `docs/`        | every directory named `docs` (at any depth) and everything below   |
//! | `/docs/`       | the root's `docs` directory only (a leading `/` anchors)            |
//! | `src/auth/**`  | everything below `src/auth`                                         |
//! | `src/*`        | everything in `src`, at any depth (a bare `*` names whole entries)  |
//! | `src/*.rs`     | the `.rs` files directly in `src`                                   |
//! | `*.rs`         | every `.rs` file at any depth (no `/` but a trailing one: any depth)|
//! | `**`           | the whole repository                                                |
//!
//! `*` and `?` never match `/`; `**` as a whole component matches any number of
//! components; `[abc]`, `[!a-z]`, `{a,b}` and `\` escapes work as in globs.
//!
//! One deliberate difference from `.gitignore`: there, a pattern matching a directory
//! also covers everything below it, whatever the pattern. Here that holds when the last
//! component may name a directory: a trailing `/`, `**`, a bare `*`, or a plain name
//! without an extension (`src/auth`, `docs`, `.github`). A last component that mixes a
//! wildcard with text (`*.rs`, `test_*`) or a plain name with an extension
//! (`README.md`, `src/main.rs`, `v1.2`) names files: so `*.rs` overlaps neither `*.md`
//! nor `README.md` (in `.gitignore` it would, through a directory named `x.rs/`). To
//! cover what lies below such a name, end it with `/` (`v1.2/`) or `/**` (`build-*/**`).
//!
//! Refused: negations (`!pattern`: a claim says what it covers, not what it leaves out —
//! claim the parts you change instead), comments (`#…`), empty patterns, `.` and `..`
//! components, empty components (`a//b`), `**` inside a component (`a**`), and `/`
//! inside `[…]` or `{…}`.
//!
//! # Overlap
//!
//! Two patterns overlap when some path is covered by both. [`Pattern::overlaps`]
//! decides it on the patterns, component by component (`**` against anything, names
//! against names character by character), and is exact except in two conservative
//! corners, where it may answer "overlaps" for patterns that do not: a component with
//! `{…}` alternatives is taken as `*`, and two character classes one of which is negated
//! (`[!a]` against `[bc]`) are taken to share a character. It never answers "no overlap"
//! for patterns that overlap.

use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::{Error, Result};

const MAX_PATTERN_LEN: usize = 1024;

/// A claim's pattern, checked and compiled.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as stored: trimmed, without a leading `./`.
    text: String,
    /// The glob strings (`globset` syntax, `*` not crossing `/`) whose union is what the
    /// pattern covers.
    globs: Vec<String>,
    /// What it covers, component by component, for [`Pattern::overlaps`].
    parts: Vec<Part>,
}

/// One path component of a pattern.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// `**`: any number of components, none included.
    Any,
    /// One component matching these tokens.
    Name(Vec<Token>),
}

/// One token of a component.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// This character.
    Char(char),
    /// `?`: any one character.
    One,
    /// `*`: any characters, none included.
    Star,
    /// `[…]`: one character of the class.
    Class(Class),
}

/// A character class: its ranges, or every character but them when negated.
#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != self.negated
    }

    /// Whether some character is in both (conservatively yes when either is negated).
    fn meets(&self, other: &Class) -> bool {
        if self.negated || other.negated {
            return true;
        }
        self.ranges
            .iter()
            .any(|(a, b)| other.ranges.iter().any(|(c, d)| a <= d && c <= b))
    }
}

impl Pattern {
    /// Checks and compiles `text` (see the module documentation for what is accepted).
    pub fn parse(text: &str) -> Result<Pattern> {
        let trimmed = text.trim();
        let shown = crate::input::shown(text);
        if trimmed.is_empty() {
            return Err(Error::Invalid(
                "a claim pattern is empty: give a path or glob relative to the repository \
                 root, e.g. src/auth/**, *.rs or docs/"
                    .into(),
            ));
        }
        if trimmed.chars().count() > MAX_PATTERN_LEN {
            return Err(Error::Invalid(format!(
                "the claim pattern '{shown}' is longer than {MAX_PATTERN_LEN} characters"
            )));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::Invalid(format!(
                "the claim pattern '{shown}' holds control characters (a line break?): give \
                 one pattern per entry"
            )));
        }
        if trimmed.starts_with('!') {
            return Err(Error::Invalid(format!(
                "'{shown}' is a negation, which claims do not take: a claim says what it \
                 covers, not what it leaves out. Claim the parts you will change instead \
                 (e.g. src/auth/** and src/api/** rather than src/** with !src/gen/**)"
            )));
        }
        if trimmed.starts_with('#') {
            return Err(Error::Invalid(format!(
                "'{shown}' starts with '#', a comment in .gitignore: write \\# for a file \
                 whose name starts with '#'"
            )));
        }
        let mut body = trimmed;
        while let Some(rest) = body.strip_prefix("./") {
            body = rest;
        }
        let text = body.to_string();
        let anchored = body.starts_with('/');
        let body = body.strip_prefix('/').unwrap_or(body);
        let dir_only = body.ends_with('/');
        let body = body.strip_suffix('/').unwrap_or(body);
        let components = split(body, &shown)?;
        let Some(last) = components.last() else {
            return Err(Error::Invalid(format!(
                "'{shown}' names the repository root: claim ** for the whole repository"
            )));
        };
        let mut parts = Vec::with_capacity(components.len() + 2);
        // As in .gitignore: without a `/` (but a trailing one), a pattern matches at any
        // depth.
        let any_depth = !anchored && components.len() == 1 && *last != "**";
        if any_depth {
            parts.push(Part::Any);
        }
        for component in &components {
            parts.push(part(component, &shown)?);
        }
        let ends_deep = *last == "**";
        let covers_below = dir_only || ends_deep || *last == "*" || names_directory(last);
        let glob = parts_glob(&components, any_depth);
        let globs = if ends_deep {
            vec![glob]
        } else if dir_only {
            vec![format!("{glob}/**")]
        } else if covers_below {
            vec![glob.clone(), format!("{glob}/**")]
        } else {
            vec![glob]
        };
        if covers_below && !ends_deep {
            parts.push(Part::Any);
        }
        for glob in &globs {
            compile(glob).map_err(|e| {
                Error::Invalid(format!("'{shown}' is not a valid claim pattern: {e}"))
            })?;
        }
        Ok(Pattern { text, globs, parts })
    }

    /// `**`: the whole repository.
    pub fn everything() -> Pattern {
        Pattern {
            text: "**".into(),
            globs: vec!["**".into()],
            parts: vec![Part::Any],
        }
    }

    /// The pattern as stored: trimmed, without a leading `./`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether some path is covered both by this pattern and by `other` (conservative in
    /// the corners the module documentation names: never false when they overlap).
    pub fn overlaps(&self, other: &Pattern) -> bool {
        parts_meet(&self.parts, &other.parts)
    }

    /// Whether this pattern covers `path` (relative to the repository root, `/` between
    /// components, an optional leading `./`). Compiles the pattern: to test many paths,
    /// use an [`Index`].
    pub fn covers(&self, path: &str) -> bool {
        let mut builder = GlobSetBuilder::new();
        for glob in &self.globs {
            if let Ok(glob) = compile(glob) {
                builder.add(glob);
            }
        }
        builder
            .build()
            .is_ok_and(|set| set.is_match(normal_path(path)))
    }
}

/// `glob` compiled with `.gitignore`'s rules: `*` and `?` do not match `/`, `\` escapes.
fn compile(glob: &str) -> std::result::Result<globset::Glob, globset::Error> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

/// A repository-relative path as patterns see it: without a leading `./` or `/`.
fn normal_path(path: &str) -> &str {
    let mut path = path.trim_start_matches('/');
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path
}

/// The glob for `components`, prefixed with `**/` when it matches at any depth.
fn parts_glob(components: &[&str], any_depth: bool) -> String {
    let joined = components.join("/");
    if any_depth {
        format!("**/{joined}")
    } else {
        joined
    }
}

/// Whether a last component may name a directory: a plain name without an extension
/// (no `.` after its first character).
fn names_directory(component: &str) -> bool {
    let wildcard = component.contains(['*', '?', '[', '{']);
    let extension = component.get(1..).is_some_and(|rest| rest.contains('.'));
    !wildcard && !extension
}

/// `body`'s components, refusing empty ones, `.` and `..`, and `/` inside `[…]` or `{…}`.
fn split<'a>(body: &'a str, shown: &str) -> Result<Vec<&'a str>> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut components = Vec::new();
    let (mut start, mut class, mut braces, mut escaped) = (0, false, 0u32, false);
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !class => class = true,
            ']' if class => class = false,
            '{' if !class => braces += 1,
            '}' if !class => braces = braces.saturating_sub(1),
            '/' if class || braces > 0 => {
                return Err(Error::Invalid(format!(
                    "'{shown}' has a '/' inside […] or {{…}}: write alternatives of whole \
                     paths as separate patterns"
                )));
            }
            '/' => {
                components.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    components.push(&body[start..]);
    for component in &components {
        match *component {
            "" => {
                return Err(Error::Invalid(format!(
                    "'{shown}' has an empty component ('//'): write one '/' between names"
                )));
            }
            "." | ".." => {
                return Err(Error::Invalid(format!(
                    "'{shown}' has a '{component}' component: patterns are relative to the \
                     repository root and name paths inside it directly"
                )));
            }
            _ => {}
        }
    }
    Ok(components)
}

/// One component as a [`Part`].
fn part(component: &str, shown: &str) -> Result<Part> {
    if component == "**" {
        return Ok(Part::Any);
    }
    if component.contains("**") {
        return Err(Error::Invalid(format!(
            "'{shown}' has '**' inside a component: use ** only as a whole component \
             (src/**/x.rs), or * within a name"
        )));
    }
    if component.contains('{') {
        // Alternatives: taken as any name (conservative for overlap; globset is exact).
        return Ok(Part::Name(vec![Token::Star]));
    }
    let mut tokens = Vec::new();
    let mut chars = component.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            '\\' => Token::Char(chars.next().unwrap_or('\\')),
            '?' => Token::One,
            '*' => {
                if tokens.last() == Some(&Token::Star) {
                    continue;
                }
                Token::Star
            }
            '[' => {
                let negated = chars.next_if(|c| *c == '!' || *c == '^').is_some();
                let mut ranges = Vec::new();
                let mut first = true;
                loop {
                    let Some(c) = chars.next() else {
                        return Err(Error::Invalid(format!(
                            "'{shown}' has a '[' without its ']'"
                        )));
                    };
                    if c == ']' && !first {
                        break;
                    }
                    first = false;
                    let lo = c;
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next() {
                            Some(']') => {
                                ranges.push((lo, lo));
                                ranges.push(('-', '-'));
                                break;
                            }
                            Some(hi) => ranges.push((lo, hi)),
                            None => {
                                return Err(Error::Invalid(format!(
                                    "'{shown}' has a '[' without its ']'"
                                )));
                            }
                        }
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                Token::Class(Class { negated, ranges })
            }
            c => Token::Char(c),
        };
        tokens.push(token);
    }
    Ok(Part::Name(tokens))
}

/// Whether some path (one or more components) matches both part lists: a search over
/// pairs of positions, each step skipping a `**` or consuming one component both accept.
fn parts_meet(a: &[Part], b: &[Part]) -> bool {
    let width = b.len() + 1;
    let mut seen = vec![false; (a.len() + 1) * width];
    let mut todo = vec![(0, 0)];
    while let Some((i, j)) = todo.pop() {
        if std::mem::replace(&mut seen[i * width + j], true) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        let (x, y) = (a.get(i), b.get(j));
        if x == Some(&Part::Any) {
            todo.push((i + 1, j));
        }
        if y == Some(&Part::Any) {
            todo.push((i, j + 1));
        }
        if let (Some(x), Some(y)) = (x, y) {
            let both = match (x, y) {
                (Part::Name(p), Part::Name(q)) => names_meet(p, q),
                _ => true,
            };
            if both {
                let next_i = if *x == Part::Any { i } else { i + 1 };
                let next_j = if *y == Part::Any { j } else { j + 1 };
                todo.push((next_i, next_j));
            }
        }
    }
    false
}

/// Whether some name matches both token lists (the same search, one character a step).
fn names_meet(p: &[Token], q: &[Token]) -> bool {
    let width = q.len() + 1;
    let mut seen = vec![false; (p.len() + 1) * width];
    let mut todo = vec![(0, 0)];
    while let Some((i, j)) = todo.pop() {
        if std::mem::replace(&mut seen[i * width + j], true) {
            continue;
        }
        if i == p.len() && j == q.len() {
            return true;
        }
        let (x, y) = (p.get(i), q.get(j));
        if x == Some(&Token::Star) {
            todo.push((i + 1, j));
        }
        if y == Some(&Token::Star) {
            todo.push((i, j + 1));
        }
        match (x, y) {
            (Some(Token::Star), Some(Token::Star)) | (None, _) | (_, None) => {}
            (Some(Token::Star), Some(_)) => todo.push((i, j + 1)),
            (Some(_), Some(Token::Star)) => todo.push((i + 1, j)),
            (Some(x), Some(y)) => {
                if chars_meet(x, y) {
                    todo.push((i + 1, j + 1));
                }
            }
        }
    }
    false
}

/// Whether some character matches both single-character tokens.
fn chars_meet(x: &Token, y: &Token) -> bool {
    match (x, y) {
        (Token::Char(a), Token::Char(b)) => a == b,
        (Token::Char(c), Token::Class(k)) | (Token::Class(k), Token::Char(c)) => k.contains(*c),
        (Token::Class(k), Token::Class(l)) => k.meets(l),
        _ => true,
    }
}

/// Claims compiled once, to find those covering many paths: one glob set over every
/// claim's globs.
#[derive(Debug)]
pub struct Index<T> {
    set: GlobSet,
    /// For each glob of the set, the entry it belongs to.
    owners: Vec<usize>,
    entries: Vec<T>,
}

impl<T> Index<T> {
    /// An index of `entries`, each with its pattern.
    pub fn new(entries: impl IntoIterator<Item = (Pattern, T)>) -> Result<Index<T>> {
        let mut builder = GlobSetBuilder::new();
        let (mut owners, mut kept) = (Vec::new(), Vec::new());
        for (pattern, entry) in entries {
            for glob in &pattern.globs {
                let glob = compile(glob).map_err(|e| {
                    Error::Internal(format!("the claim pattern '{}': {e}", pattern.text))
                })?;
                builder.add(glob);
                owners.push(kept.len());
            }
            kept.push(entry);
        }
        let set = builder
            .build()
            .map_err(|e| Error::Internal(format!("cannot compile the claim patterns: {e}")))?;
        Ok(Index {
            set,
            owners,
            entries: kept,
        })
    }

    /// The entries whose patterns cover `path`, in the order they were given, each once.
    /// `scratch` is reused between calls (it is cleared here).
    pub fn covering<'a>(&'a self, path: &str, scratch: &mut Vec<usize>) -> Vec<&'a T> {
        self.positions(path, scratch)
            .into_iter()
            .map(|e| &self.entries[e])
            .collect()
    }

    /// The positions in [`Index::entries`] of the entries whose patterns cover `path`,
    /// ascending, each once. `scratch` is reused between calls (it is cleared here).
    pub fn positions(&self, path: &str, scratch: &mut Vec<usize>) -> Vec<usize> {
        self.set
            .matches_candidate_into(&Candidate::new(normal_path(path)), scratch);
        let mut found: Vec<usize> = scratch.iter().map(|g| self.owners[*g]).collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Every entry, in the order given.
    pub fn entries(&self) -> &[T] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Pattern {
        Pattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_overlap_table() {
        // (a, b, overlap?)
        let table = [
            // exact paths
            ("src/main.rs", "src/main.rs", true),
            ("src/main.rs", "./src/main.rs", true),
            ("src/main.rs", "src/lib.rs", false),
            ("/src/main.rs", "src/main.rs", true),
            // globs
            ("src/**", "src/auth/x.rs", true),
            ("src/*.rs", "src/main.rs", true),
            ("src/*.rs", "src/auth/x.rs", false),
            ("src/*.rs", "src/*.md", false),
            ("*.rs", "src/**", true),
            ("*.rs", "*.md", false),
            ("*.rs", "src/deep/x.rs", true),
            ("*.rs", "src/deep/x.md", false),
            ("*.rs", "README.md", false),
            ("*.rs", "src/auth", true), // src/auth may be a directory of .rs files
            ("/v1.2", "v1.2/x", false),
            ("v1.2", "v1.2/x", true), // through v1.2/x/v1.2: an unanchored name is at any depth
            ("v1.2/", "v1.2/x", true),
            (".github", ".github/workflows/ci.yml", true),
            ("src/auth/**", "src/api/**", false),
            ("src/auth/**", "src/**/mod.rs", true),
            ("src/**/mod.rs", "tests/**", false),
            ("**", "anything/at/all", true),
            ("src/a?.rs", "src/ab.rs", true),
            ("src/a?.rs", "src/abc.rs", false),
            ("src/[ab].rs", "src/b.rs", true),
            ("src/[ab].rs", "src/c.rs", false),
            ("src/[!ab].rs", "src/a.rs", false),
            ("src/[a-c]*", "src/[x-z]*", false),
            ("src/{a,b}.rs", "src/c.rs", true), // conservative: {…} taken as *
            ("src/{a,b}.rs", "lib/a.rs", false),
            ("test_*.py", "*_test.py", true),
            ("test_*.py", "*.rs", false),
            // directories
            ("docs/", "docs/a.md", true),
            ("docs", "docs/a.md", true),
            ("docs/", "sub/docs/a.md", true),
            ("/docs/", "sub/docs/a.md", false),
            ("src/auth", "src/auth/x.rs", true),
            ("src/auth", "src/authz.rs", false),
            ("src/*", "src/auth/x.rs", true),
            ("build-*/", "build-1/out.o", true),
            ("build-*", "build-1/out.o", false),
            ("build-*/**", "build-1/out.o", true),
        ];
        for (a, b, want) in table {
            let (pa, pb) = (p(a), p(b));
            assert_eq!(pa.overlaps(&pb), want, "{a} vs {b}");
            assert_eq!(pb.overlaps(&pa), want, "{b} vs {a} (symmetric)");
        }
    }

    #[test]
    fn coverage_of_paths_agrees_with_overlap() {
        // (pattern, path, covered?)
        let table = [
            ("src/**", "src/auth/x.rs", true),
            ("src/**", "srcx/a.rs", false),
            ("src/*.rs", "src/main.rs", true),
            ("src/*.rs", "src/auth/x.rs", false),
            ("*.rs", "src/deep/x.rs", true),
            ("*.rs", "x.rs", true),
            ("*.rs", "x.rs/inner.md", false),
            ("src/main.rs", "src/main.rs/x", false),
            ("src/auth", "src/auth", true),
            ("docs/", "docs/a.md", true),
            ("docs/", "docs", false),
            ("docs/", "a/docs/b.md", true),
            ("/docs/", "a/docs/b.md", false),
            ("docs", "docs", true),
            ("src/auth", "src/auth/x.rs", true),
            ("src/main.rs", "./src/main.rs", true),
            ("Cargo.toml", "core/Cargo.toml", true),
            ("/Cargo.toml", "core/Cargo.toml", false),
            ("src/{a,b}.rs", "src/b.rs", true),
            ("src/{a,b}.rs", "src/c.rs", false),
            ("**", "a/b/c", true),
        ];
        for (pattern, path, want) in table {
            let compiled = p(pattern);
            assert_eq!(compiled.covers(path), want, "{pattern} covers {path}");
            // A path is a pattern too: covering implies overlapping.
            if want {
                assert!(compiled.overlaps(&p(path)), "{pattern} overlaps {path}");
            }
        }
    }

    #[test]
    fn negations_and_malformed_patterns_are_refused_with_what_to_do() {
        let refused = |text: &str| Pattern::parse(text).unwrap_err().to_string();
        let e = refused("!src/gen/**");
        assert!(
            e.contains("negation") && e.contains("Claim the parts"),
            "{e}"
        );
        assert!(refused("").contains("empty"));
        assert!(refused("   ").contains("empty"));
        assert!(refused("/").contains("claim **"));
        assert!(refused("#notes").contains("comment"));
        assert!(refused("src//x").contains("empty component"));
        assert!(refused("../x").contains("'..'"));
        assert!(refused("src/./x").contains("'.'"));
        assert!(refused("src/a**").contains("whole component"));
        assert!(refused("src/[ab").contains("without its ']'"));
        assert!(refused("{src/a,lib}/x").contains("inside"));
        assert!(refused("src/[/]").contains("inside"));
        assert!(refused("a\nb").contains("control"));
        assert_eq!(p("  ./src/x.rs ").as_str(), "src/x.rs");
        assert_eq!(p("/docs/").as_str(), "/docs/");
    }

    #[test]
    fn an_index_finds_every_covering_entry_once() {
        let index = Index::new([
            (p("src/**"), "all of src"),
            (p("*.rs"), "rust"),
            (p("docs/"), "docs"),
            (p("src/auth"), "auth"),
        ])
        .unwrap();
        let mut scratch = Vec::new();
        assert_eq!(
            index.covering("src/auth/x.rs", &mut scratch),
            [&"all of src", &"rust", &"auth"]
        );
        assert_eq!(index.covering("docs/a.md", &mut scratch), [&"docs"]);
        assert!(index.covering("README.md", &mut scratch).is_empty());
        assert_eq!(index.entries().len(), 4);
    }
}
