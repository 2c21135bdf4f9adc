//! Human and machine renderings of diagnostics. Rendering is codespan-reporting's job; this
//! module only maps the engine's diagnostics onto it and onto a stable JSON shape.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use serde::Serialize;
use tel_ide::{Analysis, Diagnostic, FileId, Severity};

/// Renders diagnostics with source snippets and carets.
pub fn to_text(analysis: &Analysis, diagnostics: &[Diagnostic]) -> String {
    let mut files = SimpleFiles::new();
    let mut ids = std::collections::HashMap::new();
    let mut file_id = |id: FileId| {
        *ids.entry(id).or_insert_with(|| {
            files.add(analysis.file_path(id).display().to_string(), analysis.file_text(id))
        })
    };
    let reports: Vec<Report<usize>> = diagnostics
        .iter()
        .map(|d| {
            let mut labels = vec![Label::primary(file_id(d.file), d.range).with_message(&d.label)];
            for related in &d.related {
                labels.push(
                    Label::secondary(file_id(related.file), related.range)
                        .with_message(&related.message),
                );
            }
            let report = match d.severity {
                Severity::Error => Report::error(),
                Severity::Warning => Report::warning(),
            };
            report.with_code(d.code).with_message(&d.message).with_labels(labels)
        })
        .collect();
    let config = Config::default();
    let mut out = String::new();
    for report in &reports {
        // Ranges come from the engine for text it holds, so rendering cannot fail.
        term::emit_to_string(&mut out, &config, &files, report)
            .expect("diagnostic ranges lie within their file");
    }
    out
}

/// The JSON form of one diagnostic (`tel check --json`). Positions are 1-based line and
/// column (in characters) plus 0-based byte offsets.
#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub file: String,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub range: JsonRange,
}

#[derive(Serialize)]
pub struct JsonRange {
    pub start: JsonPos,
    pub end: JsonPos,
}

#[derive(Serialize)]
pub struct JsonPos {
    pub line: u32,
    pub column: u32,
    pub offset: u32,
}

pub fn json_range(analysis: &Analysis, file: FileId, range: tel_ide::TextRange) -> JsonRange {
    let index = analysis.line_index(file);
    let pos = |offset: tel_ide::TextSize| {
        let lc = index.line_col(offset);
        JsonPos { line: lc.line + 1, column: lc.col + 1, offset: offset.into() }
    };
    JsonRange { start: pos(range.start()), end: pos(range.end()) }
}

pub fn to_json(analysis: &Analysis, diagnostics: &[Diagnostic]) -> Vec<JsonDiagnostic> {
    diagnostics
        .iter()
        .map(|d| JsonDiagnostic {
            file: analysis.file_path(d.file).display().to_string(),
            severity: match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            code: d.code,
            message: d.message.clone(),
            range: json_range(analysis, d.file, d.range),
        })
        .collect()
}
