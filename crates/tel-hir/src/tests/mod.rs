//! Test helpers: multi-file fixtures (`//- /path.tel` headers, `$0` markers) and rendering.

mod effects;
mod fixtures;
mod hashes;
mod incremental;
mod infer;
mod lower;
mod patterns;
mod resolve;
mod spans;

use std::fmt::Write as _;

use crate::TextSize;
use crate::diagnostics::Diagnostic;
use crate::project::Project;

/// `(path, text)` of each file of a fixture.
pub(crate) type Files = Vec<(String, String)>;

/// Splits a fixture into files (see `tel_testgen::fixture`); returns the files and the
/// position of `$0` (file path, offset), if any.
pub(crate) fn parse_fixture(fixture: &str) -> (Files, Option<(String, TextSize)>) {
    let f = tel_testgen::fixture::parse(fixture);
    (f.files, f.cursor.map(|(path, at)| (path, TextSize::from(at))))
}

/// `line:col` (1-based) of an offset.
fn line_col(text: &str, offset: TextSize) -> (usize, usize) {
    let before = &text[..usize::from(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// One line per diagnostic: `path:line:col severity code: message  [`source text`]`.
pub(crate) fn render_diagnostics(project: &Project, include_prelude: bool) -> String {
    let mut out = String::new();
    for (path, diags) in project.diagnostics() {
        if path == "<prelude>" && !include_prelude {
            continue;
        }
        let text = &project.file(&path).expect("listed").text;
        for d in diags {
            render_one(&mut out, &path, text, &d);
        }
    }
    out
}

fn render_one(out: &mut String, path: &str, text: &str, d: &Diagnostic) {
    let (line, col) = line_col(text, d.range.start());
    let snippet: String = text[d.range].chars().take(40).collect();
    let snippet = snippet.replace('\n', "⏎");
    let code = d.code.split(' ').next().unwrap_or(d.code);
    writeln!(out, "{path}:{line}:{col} {code} {}: {}  [`{snippet}`]", d.severity, d.message)
        .unwrap();
}

/// Checks a fixture and renders its diagnostics (prelude excluded).
pub(crate) fn check(fixture: &str) -> String {
    let (files, _) = parse_fixture(fixture);
    let project = Project::new(files);
    render_diagnostics(&project, false)
}

/// The types of every local of every function in `/main.tel` (`fn: name: Type`), followed
/// by the rendered diagnostics.
pub(crate) fn check_types(fixture: &str) -> String {
    let (files, _) = parse_fixture(fixture);
    let project = Project::new(files);
    let mut out = String::new();
    let file = project.file("/main.tel").expect("fixture has /main.tel");
    for (id, item) in file.item_tree.items.iter() {
        let Some(checked) = project.check_item(file, id) else { continue };
        let Some((body, _, result)) = &checked.body else { continue };
        for (b, binding) in body.bindings.iter() {
            writeln!(out, "{}: {}: {}", item.name, binding.name, result.type_of_binding(b))
                .unwrap();
        }
        if !result.effects.is_empty() {
            writeln!(out, "{}: performs {}", item.name, crate::ty::DisplayEffects(&result.effects))
                .unwrap();
        }
    }
    out.push_str(&render_diagnostics(&project, false));
    out
}
