//! `tel hash` and `tel equiv`: definitions by content.

use std::path::PathBuf;

use serde::Serialize;
use tel_hash::CodeHash;

use crate::{exit, load, render};

#[derive(Serialize)]
struct JsonDef {
    name: String,
    module: String,
    kind: &'static str,
    hash: Option<String>,
    short: Option<String>,
    file: String,
    range: render::JsonRange,
}

pub fn run(paths: Vec<PathBuf>, full: bool, json: bool) -> Result<u8, String> {
    let loaded = load::load(paths)?;
    let analysis = &loaded.analysis;
    let cancelled = |_| "analysis was cancelled".to_owned();
    let show = |h: &CodeHash| if full { h.full() } else { h.to_string() };
    let mut unhashed = 0;
    let mut json_out = Vec::new();
    for &file in &loaded.reported {
        let mut defs = analysis.definitions(file).map_err(cancelled)?;
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        unhashed += defs.iter().filter(|d| d.hash.is_none()).count();
        let path = analysis.file_path(file).display().to_string();
        if json {
            json_out.extend(defs.iter().map(|d| JsonDef {
                name: d.name.to_string(),
                module: d.module.to_string(),
                kind: d.kind.as_str(),
                hash: d.hash.map(|h| h.to_base32hex()),
                short: d.hash.map(|h| h.short()),
                file: path.clone(),
                range: render::json_range(analysis, file, d.range),
            }));
            continue;
        }
        let file_hash = analysis.file_hash(file).map_err(cancelled)?;
        println!("{path} {}", file_hash.as_ref().map_or_else(|| "(has errors)".to_owned(), show));
        let width = if full { 53 } else { 9 };
        for d in &defs {
            let hash = d.hash.as_ref().map_or_else(|| "(errors)".to_owned(), show);
            println!("  {hash:<width$} {:<6} {}", d.kind.as_str(), d.name);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&json_out).map_err(|e| e.to_string())?);
    }
    if unhashed > 0 {
        eprintln!(
            "{unhashed} definition(s) have no hash because they or their dependencies have errors \
             (see `tel check`)"
        );
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}

/// `tel equiv A B`: same hash, or the first difference of the normalized forms.
pub fn equiv(a: &str, b: &str) -> Result<u8, String> {
    let (ha, da) = resolve(a)?;
    let (hb, db) = resolve(b)?;
    if ha == hb {
        println!("equivalent (same hash {})", ha);
        return Ok(exit::OK);
    }
    println!("different: {a} is {ha}, {b} is {hb}");
    match tel_hash::first_difference(&da, &db) {
        Some(diff) => println!("first difference: {diff}"),
        None => {
            println!("(their normalized forms agree; they differ in their dependencies' hashes)")
        }
    }
    Ok(exit::FAILED)
}

/// `path/to/file.tel::name` → the definition's hash and normalized form.
fn resolve(spec: &str) -> Result<(CodeHash, tel_hash::core::CoreDef), String> {
    if spec.starts_with('#') {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        let path = tel_store::location::codebase_path(&cwd).map_err(|e| e.to_string())?;
        if !path.exists() {
            return Err(format!(
                "{spec}: no codebase at {} to look hashes up in (run `tel store add` first)",
                path.display()
            ));
        }
        let store = tel_store::Store::open_existing(&path).map_err(|e| e.to_string())?;
        let hash = store.resolve_prefix(spec).map_err(|e| e.to_string())?;
        let stored = store
            .get_by_hash(&hash)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{spec}: not in {}", path.display()))?;
        let def = tel_hash::decode(&stored.canonical).map_err(|e| format!("{spec}: {e}"))?;
        return Ok((hash, def));
    }
    let (path, name) = spec.rsplit_once("::").ok_or_else(|| {
        format!(
            "{spec}: expected `#hash` or `file.tel::name` (e.g. fixtures/valid/treasury.tel::fee)"
        )
    })?;
    let loaded = load::load(vec![PathBuf::from(path)])?;
    let file = *loaded.reported.first().ok_or_else(|| format!("{path}: not loaded"))?;
    let member = loaded
        .analysis
        .hashed(file, name)
        .map_err(|_| "analysis was cancelled".to_owned())?
        .ok_or_else(|| {
            format!(
                "{spec}: no definition `{name}` without errors in {path} (see `tel check {path}`)"
            )
        })?;
    let def = tel_hash::decode(&member.bytes).map_err(|e| format!("{spec}: {e}"))?;
    Ok((member.hash, def))
}
