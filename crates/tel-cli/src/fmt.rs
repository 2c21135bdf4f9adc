//! `tel fmt`: files and projects in the canonical layout (docs/formatting.md), in place, or
//! checked (`--check`), or stdin to stdout (`-`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use tel_ide::AnalysisHost;
use tel_ide::project;
use tel_syntax::format::{FormatErrorKind, format};

use crate::{exit, render};

#[derive(clap::Args)]
pub struct FmtArgs {
    /// `.tel` files or folders (default: the current folder); `-` reads stdin and writes
    /// the formatted text to stdout.
    pub paths: Vec<PathBuf>,
    /// Change nothing: print the files that are not formatted, and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: FmtArgs) -> Result<u8, String> {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if args.paths.len() > 1 {
            return Err("`-` (stdin) cannot be combined with other paths".to_owned());
        }
        return stdin(args.check);
    }
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths };
    let selection = project::select(&paths).map_err(|e| e.to_string())?;
    let mut outcome = Outcome::default();
    let mut broken = Vec::new();
    for path in &selection.reported {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: {}: cannot read: {e}", path.display());
                outcome.io_errors += 1;
                continue;
            }
        };
        match format(&text) {
            Ok(formatted) if formatted == text => outcome.unchanged += 1,
            Ok(_) if args.check => {
                println!("{}", path.display());
                outcome.changed += 1;
            }
            Ok(formatted) => match write_atomically(path, &formatted) {
                Ok(()) => outcome.changed += 1,
                Err(e) => {
                    eprintln!("error: {}: cannot write: {e}", path.display());
                    outcome.io_errors += 1;
                }
            },
            Err(e) if e.kind == FormatErrorKind::Syntax => broken.push((path.clone(), text)),
            Err(e) => {
                eprintln!("error: {}:{e}", path.display());
                outcome.not_formatted += 1;
            }
        }
    }
    outcome.not_formatted += broken.len();
    report_syntax_errors(broken);
    Ok(outcome.finish(args.check, selection.reported.len()))
}

#[derive(Default)]
struct Outcome {
    unchanged: usize,
    /// Reformatted, or (with `--check`) that would be.
    changed: usize,
    /// Left alone because of syntax errors (or a formatter error).
    not_formatted: usize,
    io_errors: usize,
}

impl Outcome {
    fn finish(self, check: bool, files: usize) -> u8 {
        let noun = |n: usize| if n == 1 { "file" } else { "files" };
        let mut summary = if check {
            format!("{} of {files} {} would be reformatted", self.changed, noun(files))
        } else {
            format!("{} of {files} {} reformatted", self.changed, noun(files))
        };
        if self.not_formatted > 0 {
            summary += &format!(", {} left as is because of errors", self.not_formatted);
        }
        eprintln!("{summary}");
        if self.io_errors > 0 {
            exit::USAGE
        } else if self.not_formatted > 0 || (check && self.changed > 0) {
            exit::FAILED
        } else {
            exit::OK
        }
    }
}

/// `tel fmt -`: stdin to stdout (with `--check`, nothing written; exit 1 if it would change).
fn stdin(check: bool) -> Result<u8, String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read stdin: {e}"))?;
    match format(&text) {
        Ok(formatted) if check => {
            if formatted == text {
                Ok(exit::OK)
            } else {
                println!("<stdin>");
                Ok(exit::FAILED)
            }
        }
        Ok(formatted) => {
            let mut out = std::io::stdout().lock();
            out.write_all(formatted.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write stdout: {e}"))?;
            Ok(exit::OK)
        }
        Err(e) if e.kind == FormatErrorKind::Syntax => {
            report_syntax_errors(vec![(PathBuf::from("<stdin>"), text)]);
            Ok(exit::FAILED)
        }
        Err(e) => {
            eprintln!("error: <stdin>:{e}");
            Ok(exit::FAILED)
        }
    }
}

/// Renders the syntax errors of the files that were left alone, as `tel check` does.
fn report_syntax_errors(files: Vec<(PathBuf, String)>) {
    if files.is_empty() {
        return;
    }
    let mut host = AnalysisHost::default();
    let ids: Vec<_> = files
        .into_iter()
        .flat_map(|(path, text)| host.add_project(None, vec![(path, text)]))
        .collect();
    let analysis = host.analysis();
    let mut syntax = Vec::new();
    for file in ids {
        match analysis.diagnostics(file) {
            Ok(diagnostics) => syntax.extend(diagnostics.into_iter().filter(|d| d.code == "E0001")),
            Err(_) => {
                eprintln!("error: {}: analysis was cancelled", analysis.file_path(file).display())
            }
        }
    }
    eprint!("{}", render::to_text(&analysis, &syntax));
}

/// Replaces `path` by `text` without a moment where the file is half written: a temporary
/// file next to it, then a rename. Permissions are kept; a symbolic link is followed.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let target = if path.is_symlink() { std::fs::canonicalize(path)? } else { path.to_path_buf() };
    let permissions = std::fs::metadata(&target)?.permissions();
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = target.with_file_name(format!(".{name}.tel-fmt-{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create_new(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        file.set_permissions(permissions)?;
        std::fs::rename(&temp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
