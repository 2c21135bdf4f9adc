//! `tel check`: every diagnostic of the named files, rendered or as JSON.

use std::path::PathBuf;

use tel_ide::Severity;

use crate::{exit, load, render};

pub fn run(paths: Vec<PathBuf>, json: bool) -> Result<u8, String> {
    let loaded = load::load(paths)?;
    let analysis = &loaded.analysis;
    let mut diagnostics = Vec::new();
    for &file in &loaded.reported {
        diagnostics.extend(analysis.diagnostics(file).map_err(|_| "analysis was cancelled")?);
    }
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    if json {
        let out = serde_json::to_string_pretty(&render::to_json(analysis, &diagnostics))
            .map_err(|e| e.to_string())?;
        println!("{out}");
    } else {
        print!("{}", render::to_text(analysis, &diagnostics));
        let files = loaded.reported.len();
        let noun = if files == 1 { "file" } else { "files" };
        if errors == 0 && warnings == 0 {
            eprintln!("checked {files} {noun}: no problems");
        } else {
            eprintln!("checked {files} {noun}: {errors} error(s), {warnings} warning(s)");
        }
    }
    Ok(if errors > 0 { exit::FAILED } else { exit::OK })
}
