//! `switchboard export` and `switchboard import`: the whole store as JSON Lines (see
//! `switchboard_core::archive`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use switchboard_core::archive::{self, Summary};

use crate::Global;
use crate::commands::{open_store, print_json, settings, store_address};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this new file (readable by you only) instead of standard output.
    #[arg(long, value_name = "FILE")]
    to: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export to load (`-` for standard input).
    file: PathBuf,
    /// Add the records to a store that already holds some (a record that exists already
    /// stops the import, and nothing is written).
    #[arg(long)]
    force: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn export(global: &Global, args: ExportArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let Some(path) = args.to else {
        let stdout = std::io::stdout();
        archive::export(&mut store, &mut stdout.lock())?;
        return Ok(());
    };
    let file = new_private_file(&path)?;
    let mut out = std::io::BufWriter::new(file);
    let written = archive::export(&mut store, &mut out)
        .map_err(anyhow::Error::from)
        .and_then(|summary| Ok(out.flush().map(|()| summary)?));
    match written {
        Ok(summary) => {
            eprintln!("exported {} to {}", described(&summary), path.display());
            Ok(())
        }
        Err(e) => {
            // A partial export is no export: remove it, so the same name can be used again.
            let _ = std::fs::remove_file(&path);
            Err(e.context(format!("{} was not written", path.display())))
        }
    }
}

pub fn import(global: &Global, args: ImportArgs) -> Result<()> {
    // The input is read and checked whole first: a bad or missing file leaves no new,
    // empty store behind, and a slow input never holds up the store's writers.
    let mut input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        Box::new(BufReader::new(file))
    };
    let checked = archive::check(&mut input)?;
    // A new store is made at the export's schema version and brought up to date, so an
    // export from an earlier version loads; an existing one must be at the export's.
    let address = store_address(global)?;
    let summary = if address.exists()? {
        archive::import(&mut open_store(global)?, checked, args.force)?
    } else {
        archive::import_new(&address, settings(global), checked)?
    };
    if args.json {
        return print_json(&summary);
    }
    println!("imported {} into {}", described(&summary), address);
    Ok(())
}

/// "1,234 records (agents 3, messages 1,000, …)".
fn described(summary: &Summary) -> String {
    let kinds: Vec<String> = summary
        .kinds
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    if kinds.is_empty() {
        format!("{} records", summary.records)
    } else {
        format!("{} records ({})", summary.records, kinds.join(", "))
    }
}

/// Creates `path`, owner-only; an existing file is never overwritten.
fn new_private_file(path: &std::path::Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create {} (an existing file is never overwritten: choose a new name)",
                path.display()
            )
        })
}
