//! Worktree benchmarks: create against plain `git worktree add` (5,000-file repo), list
//! with 1 vs 20 worktrees, and status/diff on a 10,000-file repo. Prints results and
//! writes `benches/worktrees.json`. Run: `cargo bench -p switchboard-benches --bench worktrees`.
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_core::worktree::{self, NewWorktree};
use switchboard_core::{Settings, Store};
use switchboard_testutils::ScratchRepo;

/// A repository with `files` small files in 100 folders, one commit, and room for a
/// state database beside it.
fn repo(files: usize) -> ScratchRepo {
    let repo = ScratchRepo::empty();
    for i in 0..files {
        repo.write(
            &format!("src/m{:03}/f{i}.rs", i % 100),
            &format!("pub fn f{i}() -> u32 {{ {i} }}\n"),
        );
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "seed"]);
    repo
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mean(samples: &[Duration]) -> Duration {
    samples.iter().sum::<Duration>() / u32::try_from(samples.len()).unwrap()
}

fn create_vs_git() -> Value {
    let scratch = repo(5000);
    let root = scratch.path();
    let mut store = Store::open(scratch.db(), Settings::default()).unwrap();
    let rounds = 10;
    let mut plain = Vec::new();
    let mut ours = Vec::new();
    for i in 0..rounds {
        let path = scratch.dir().join(format!("plain{i}"));
        let started = Instant::now();
        scratch.git(&[
            "worktree",
            "add",
            "-q",
            "-b",
            &format!("plain{i}"),
            path.to_str().unwrap(),
            "HEAD",
        ]);
        plain.push(started.elapsed());
        let started = Instant::now();
        worktree::create(
            &mut store,
            "bench",
            root,
            &NewWorktree {
                name: format!("w{i}"),
                ..Default::default()
            },
        )
        .unwrap();
        ours.push(started.elapsed());
    }
    let (plain, ours) = (mean(&plain), mean(&ours));
    json!({"files": 5000, "rounds": rounds, "git_worktree_add_ms": ms(plain), "switchboard_create_ms": ms(ours),
           "ratio": ours.as_secs_f64() / plain.as_secs_f64()})
}

fn list_scaling() -> Value {
    let scratch = repo(1000);
    let root = scratch.path();
    let mut store = Store::open(scratch.db(), Settings::default()).unwrap();
    let mut out = Vec::new();
    let mut made = 0;
    for target in [1, 20] {
        while made < target {
            worktree::create(
                &mut store,
                "bench",
                root,
                &NewWorktree {
                    name: format!("l{made}"),
                    ..Default::default()
                },
            )
            .unwrap();
            made += 1;
        }
        // The first listing reads the new worktrees and starts watching them.
        let started = Instant::now();
        let listed = worktree::list(&mut store).unwrap();
        let first = started.elapsed();
        let samples: Vec<Duration> = (0..20)
            .map(|_| {
                let started = Instant::now();
                assert_eq!(worktree::list(&mut store).unwrap().len(), target);
                started.elapsed()
            })
            .collect();
        // An edit in one worktree before each listing: that one is read again.
        let edited = Path::new(&listed[0].worktree.path).join("src/m000/f0.rs");
        let after_edit: Vec<Duration> = (0..20)
            .map(|i| {
                std::fs::write(&edited, format!("pub fn f0() -> u32 {{ {} }}\n", 1000 + i))
                    .unwrap();
                let started = Instant::now();
                let listed = worktree::list(&mut store).unwrap();
                let elapsed = started.elapsed();
                assert_eq!(listed[0].git.dirty, 1);
                elapsed
            })
            .collect();
        out.push(json!({
            "worktrees": target,
            "files_each": 1000,
            "first_list_ms": ms(first),
            "list_ms": ms(mean(&samples)),
            "list_after_one_edit_ms": ms(mean(&after_edit)),
        }));
    }
    Value::Array(out)
}

fn status_large() -> Value {
    let scratch = repo(10_000);
    let root = scratch.path();
    let mut store = Store::open(scratch.db(), Settings::default()).unwrap();
    let created = worktree::create(
        &mut store,
        "bench",
        root,
        &NewWorktree {
            name: "big".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let path = Path::new(&created.worktree.path);
    std::fs::write(path.join("src/m001/f1.rs"), "pub fn f1() -> u32 { 42 }\n").unwrap();
    worktree::diff(&mut store, "big", false).unwrap();
    let measure = |f: &mut dyn FnMut()| -> Duration {
        let samples: Vec<Duration> = (0..20)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect();
        mean(&samples)
    };
    let diff = measure(&mut || {
        assert_eq!(
            worktree::diff(&mut store, "big", false)
                .unwrap()
                .changed
                .len(),
            1
        );
    });
    let list = measure(&mut || {
        worktree::list(&mut store).unwrap();
    });
    json!({"files": 10_000, "diff_ms": ms(diff), "list_one_ms": ms(list)})
}

fn main() {
    let create = create_vs_git();
    println!("create vs git worktree add: {create}");
    let list = list_scaling();
    println!("list: {list}");
    let status = status_large();
    println!("status on 10k files: {status}");
    let results = json!({"create": create, "list": list, "status": status});
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("worktrees.json");
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap() + "\n").unwrap();
    println!("wrote {}", out.display());
}
