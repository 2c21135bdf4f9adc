//! The RISC-V backend of a run: compiling the code (each function once per definition hash,
//! kept across runs, and in the codebase across processes), and the texts that place compiled
//! code in the sources (a refusal naming the construct outside the subset, the source line of
//! an instruction).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use tel_hash::CodeHash;
use tel_riscv::{CODEGEN, CompileError, Compiler, FnInfo, FnObject, Module};
use tel_store::{CompiledFunction, Store};
use tel_vm::Location;

use super::code::{Code, Stop};
use crate::{Analysis, FileId};

/// The compiled functions of this process, by definition hash: a definition's code depends
/// only on its hash (and this compiler), so every run (the language server's, the
/// debugger's) reuses it.
static COMPILER: LazyLock<Mutex<Compiler>> = LazyLock::new(|| Mutex::new(Compiler::new()));

/// What compiling a run's code did: where each function of the module came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompileStats {
    /// Functions compiled before in this process (hits of its cache).
    pub reused: usize,
    /// Functions taken from the codebase (compiled by an earlier process).
    pub loaded: usize,
    /// Functions compiled for this run.
    pub compiled: usize,
}

impl CompileStats {
    /// The functions of the module.
    pub fn functions(&self) -> usize {
        self.reused + self.loaded + self.compiled
    }
}

/// The code of `code`'s entry point and everything it calls, linked; a construct outside
/// the subset is [`Stop::NotCompiled`].
pub fn compile(code: &Code) -> Result<(Module, CompileStats), Stop> {
    compile_in(code, None, &mut Vec::new())
}

/// [`compile`], with the codebase `store` when the run has one: a function this process has
/// not compiled is looked up there (by its definition hash and [`CODEGEN`]) before it is
/// compiled, and the functions compiled are kept there. The codebase is a cache: an entry
/// that does not decode is compiled again and replaced, and a codebase that cannot be read
/// or written costs only the time to compile; either adds a warning to `notes`.
pub fn compile_in(
    code: &Code,
    store: Option<&mut Store>,
    notes: &mut Vec<String>,
) -> Result<(Module, CompileStats), Stop> {
    let reader = store.as_deref();
    let mut unreadable = None;
    let lookup = |hash: &CodeHash| {
        let bytes = match reader?.compiled_function(hash, &CODEGEN) {
            Ok(bytes) => bytes?,
            Err(e) => {
                unreadable.get_or_insert(e);
                return None;
            }
        };
        match FnObject::from_bytes(&bytes) {
            Ok(object) if object.hash == *hash => Some(object),
            Ok(object) => {
                let reason = format!("it holds the code of #{}", object.hash.short());
                warn_damaged(notes, reader?, hash, &reason);
                None
            }
            Err(e) => {
                warn_damaged(notes, reader?, hash, &e.to_string());
                None
            }
        }
    };
    // A panic in another run's compilation leaves a cache whose entries are still whole.
    let mut compiler = COMPILER.lock().unwrap_or_else(|p| p.into_inner());
    let (compiled_before, loaded_before) = (compiler.compiled(), compiler.loaded());
    let result = compiler.compile_with(&code.defs, code.entry, lookup);
    // Taken whatever the result: what a refused program compiled is still good code.
    let new = compiler.take_new();
    let compiled = compiler.compiled() - compiled_before;
    let loaded = compiler.loaded() - loaded_before;
    drop(compiler);
    if let Some(e) = unreadable {
        notes.push(format!("warning: compiled code could not be read from the codebase: {e}"));
    }
    if let Some(store) = store {
        keep(store, &new, notes);
    }
    let module = result.map_err(Stop::NotCompiled)?;
    let stats =
        CompileStats { reused: module.functions.len() - loaded - compiled, loaded, compiled };
    Ok((module, stats))
}

fn warn_damaged(notes: &mut Vec<String>, store: &Store, hash: &CodeHash, reason: &str) {
    notes.push(format!(
        "warning: the compiled code of #{} kept in {} is damaged ({reason}); compiled again",
        hash.short(),
        store.path().display()
    ));
}

/// Keeps the functions compiled in the codebase.
fn keep(store: &mut Store, new: &[Arc<FnObject>], notes: &mut Vec<String>) {
    if new.is_empty() {
        return;
    }
    let mut functions = Vec::with_capacity(new.len());
    for o in new {
        match o.to_bytes() {
            Ok(object) => {
                functions.push(CompiledFunction { def: o.hash, codegen: *CODEGEN, object })
            }
            // Such an object does not link either: the run has failed already.
            Err(e) => notes.push(format!("warning: compiled code not kept: {e}")),
        }
    }
    if let Err(e) = store.save_compiled(&functions) {
        notes.push(format!("warning: compiled code was not kept: {e}"));
    }
}

/// [`compile_in`] with the codebase at `path` when it exists: its compiled functions are
/// used and what is compiled is kept there. For the commands that keep no run (`tel riscv`,
/// the debugger), so a missing codebase is not created; one that cannot be opened costs only
/// the compile time, with a note saying so.
pub fn compile_beside(
    code: &Code,
    path: Option<&Path>,
    notes: &mut Vec<String>,
) -> Result<(Module, CompileStats), Stop> {
    let mut store = match path.filter(|p| p.exists()).map(Store::open) {
        Some(Ok(store)) => Some(store),
        Some(Err(e)) => {
            notes.push(format!("warning: compiled functions are not kept: {e}"));
            None
        }
        None => None,
    };
    compile_in(code, store.as_mut(), notes)
}

/// The place of the construct a refusal names: its file, line and column, and the source
/// line with the construct underlined (without `sources`, the expression id).
pub fn refusal(sources: Option<&Analysis>, code: &Code, e: &CompileError) -> String {
    let CompileError::Unsupported { def, name, expr, construct } = e else {
        return format!("cannot compile to RISC-V: {e}");
    };
    let who = code.names.get(def).cloned().or(name.as_ref().map(|n| n.to_string()));
    let who = who.unwrap_or_else(|| format!("#{}", def.short()));
    let place = sources.and_then(|analysis| {
        let place = match expr {
            Some(x) => analysis.locate_expr(def, *x).ok().flatten(),
            None => analysis.locate_def(def).ok().flatten().map(|(f, r, _)| (f, r)),
        };
        place.map(|p| (analysis, p))
    });
    let Some((analysis, (file, range))) = place else {
        return match expr {
            Some(x) => {
                format!("{construct} is outside the RISC-V subset (in {who}, expression {x})")
            }
            None => format!("{construct} is outside the RISC-V subset (in {who}, its signature)"),
        };
    };
    let index = analysis.line_index(file);
    let (start, end) = (index.line_col(range.start()), index.line_col(range.end()));
    let text = analysis.file_text(file);
    let line = text.lines().nth(start.line as usize).unwrap_or("");
    let width = if end.line == start.line { (end.col - start.col).max(1) } else { 1 };
    let path = shown_path(analysis, file);
    format!(
        "{construct} is outside the RISC-V subset (in {who})\n  --> {path}:{}:{}\n   | {line}\n   | {}{}",
        start.line + 1,
        start.col + 1,
        " ".repeat(start.col as usize),
        "^".repeat(width as usize)
    )
}

/// A file's path as messages show it: relative to the working directory when under it.
pub fn shown_path(analysis: &Analysis, file: FileId) -> String {
    let path = analysis.file_path(file);
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()).unwrap_or(path);
    shown.display().to_string()
}

/// Where compiled code comes from in the sources: each function's expression placed at its
/// file and 0-based line, with the line's text (cached per file).
pub struct SourceLines<'a> {
    analysis: &'a Analysis,
    texts: HashMap<FileId, Arc<str>>,
}

impl<'a> SourceLines<'a> {
    pub fn new(analysis: &'a Analysis) -> SourceLines<'a> {
        SourceLines { analysis, texts: HashMap::new() }
    }

    /// The file and 0-based line of expression `expr` of `def`.
    pub fn line(&self, def: &CodeHash, expr: u32) -> Option<(FileId, u32)> {
        let (file, range) = self.analysis.locate_expr(def, expr).ok()??;
        Some((file, self.analysis.line_index(file).line_col(range.start()).line))
    }

    /// `path:line  text` of the instruction of `f` compiled from `expr` (what `--disasm`
    /// shows above each stretch of code).
    pub fn annotation(&mut self, f: &FnInfo, expr: u32) -> Option<String> {
        let l = Location { def: f.hash, name: f.name.clone(), lambda: false, expr };
        let (file, line) = self.line(&l.def, l.expr)?;
        let analysis = self.analysis;
        let text = self.texts.entry(file).or_insert_with(|| analysis.file_text(file).into());
        let source = text.lines().nth(line as usize).unwrap_or("").trim();
        Some(format!("{}:{}  {source}", shown_path(analysis, file), line + 1))
    }
}

/// The module's code as objdump prints it, each stretch under the source line it comes from.
pub fn disassembly(analysis: &Analysis, module: &Module) -> String {
    let mut lines = SourceLines::new(analysis);
    module.disassemble(|f, expr| lines.annotation(f, expr))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::AnalysisHost;
    use crate::run::{Backend, Code, RunSettings, Stop, execute};

    fn code(source: &str, entry: &str) -> (AnalysisHost, Code) {
        let mut host = AnalysisHost::default();
        let files = host.add_project(None, vec![(PathBuf::from("/w/rv.tel"), source.to_owned())]);
        let code = Code::from_analysis(&host.analysis(), &files, entry, None, "rv.tel").unwrap();
        (host, code)
    }

    /// A second run of the same definitions compiles nothing: every function comes from the
    /// cache, by hash.
    #[test]
    fn a_second_run_takes_its_functions_from_the_cache() {
        let (_host, code) = code(
            "fn twice_plus(n: Int) -> Int { plus_seven(n) * 2 }\n\
             fn plus_seven(n: Int) -> Int { n + 7 }\n",
            "twice_plus",
        );
        let settings = RunSettings { backend: Backend::Riscv, ..RunSettings::default() };
        let args = code.decode_args(Some("[5]")).unwrap();
        let first = execute(&code, args.clone(), &settings, None, None, None).unwrap();
        assert_eq!(first.outcome, Ok(tel_vm::Value::Int(24)));
        let stats = first.compiled.unwrap();
        assert_eq!((stats.compiled, stats.reused, stats.loaded), (2, 0, 0));
        let second = execute(&code, args, &settings, None, None, None).unwrap();
        assert_eq!(
            second.compiled.unwrap(),
            super::CompileStats { compiled: 0, reused: 2, loaded: 0 }
        );
        assert_eq!(second.run_id, first.run_id);
    }

    #[test]
    fn a_refusal_names_the_construct_and_its_place() {
        let (host, code) = code("fn main() -> Int {\n    let s = \"x\";\n    1\n}\n", "main");
        let settings = RunSettings { backend: Backend::Riscv, ..RunSettings::default() };
        let Err(Stop::NotCompiled(e)) = execute(&code, vec![], &settings, None, None, None) else {
            panic!("compiled");
        };
        let text = super::refusal(Some(&host.analysis()), &code, &e);
        assert!(text.contains("outside the RISC-V subset (in rv::main)"), "{text}");
        assert!(text.contains("--> /w/rv.tel:2:"), "{text}");
        // Without the sources: the expression id.
        let text = super::refusal(None, &code, &e);
        assert!(text.contains(", expression "), "{text}");
    }
}
