//! Where the running program is in the sources, and the reverse: which code a source line
//! holds. Built once per launch from the engine's span tables (`Analysis::locate_expr`,
//! expression ids numbered as the VM numbers them) and the program's core IR.
//!
//! - A VM [`Location`] (definition hash, expression id) maps to a file and a range.
//! - A source line maps to the expressions a breakpoint there should stop at: the
//!   *outermost* expressions starting on the line (those whose parent starts on another
//!   line), so `let raw = amount * fee_bps() / 10_000;` stops once, where the statement's
//!   code is entered, not once per sub-expression.
//! - Core IR has no local names; a local is named by the source text of the expressions
//!   that read it (`Local` nodes: their span is the identifier). A local the code never
//!   reads has no slot the navigator can show anyway.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde_json::{Value as Json, json};
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Expr, Pat, Type, preorder};
use tel_ide::run::Code;
use tel_ide::{Analysis, FileId, LineIndex, TextRange, TextSize};
use tel_vm::Location;
use tel_vm::travel::Binder;

/// What a client counts lines and columns from (DAP's `linesStartAt1` and
/// `columnsStartAt1`, both true unless `initialize` says otherwise); [`Place`]s count from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientBases {
    pub lines_at1: bool,
    pub columns_at1: bool,
}

impl Default for ClientBases {
    fn default() -> Self {
        ClientBases { lines_at1: true, columns_at1: true }
    }
}

impl ClientBases {
    /// A 1-based line as the client counts.
    pub fn line_out(self, line: u32) -> i64 {
        i64::from(line) - i64::from(!self.lines_at1)
    }

    pub fn column_out(self, column: u32) -> i64 {
        i64::from(column) - i64::from(!self.columns_at1)
    }

    /// A client's line as a 1-based line (0 for one before the first).
    pub fn line_in(self, line: i64) -> u32 {
        u32::try_from(line + i64::from(!self.lines_at1)).unwrap_or(0)
    }

    /// A DAP `StackFrame`: with its source range when the sources place it, else shown as a
    /// subtle frame (code without a place, such as a builtin's loop).
    pub fn stack_frame(self, id: usize, name: String, place: Option<&Place>) -> Json {
        let mut j = json!({ "id": id, "name": name, "line": 0, "column": 0 });
        match place {
            Some(place) => {
                j["source"] = place.source();
                j["line"] = json!(self.line_out(place.line));
                j["column"] = json!(self.column_out(place.column));
                j["endLine"] = json!(self.line_out(place.end_line));
                j["endColumn"] = json!(self.column_out(place.end_column));
            }
            None => j["presentationHint"] = json!("subtle"),
        }
        j
    }
}

/// A place in a source file. Lines and columns are 1-based; columns count UTF-16 code
/// units (what editors use).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: FileId,
    pub path: PathBuf,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl Place {
    /// Its file as a DAP `Source`.
    pub fn source(&self) -> Json {
        json!({
            "name": self.path.file_name().map(|n| n.to_string_lossy().to_string()),
            "path": self.path.display().to_string(),
        })
    }
}

struct FileInfo {
    path: PathBuf,
    text: String,
    index: LineIndex,
}

/// See the module documentation.
#[derive(Default)]
pub struct SourceMap {
    files: FxHashMap<FileId, FileInfo>,
    /// Canonical paths of the loaded files.
    by_path: HashMap<PathBuf, FileId>,
    /// Per function: each expression's range, by expression id.
    spans: FxHashMap<CodeHash, Vec<Option<(FileId, TextRange)>>>,
    /// Each function's name, where it is defined.
    names: FxHashMap<CodeHash, (FileId, TextRange)>,
    /// (file, 0-based line) → the expressions a breakpoint on the line stops at.
    lines: HashMap<(FileId, u32), Vec<(CodeHash, u32)>>,
    binders: HashMap<(CodeHash, Binder), SmolStr>,
    /// Binders whose type is known not to be `()`: reading `()` from one means the code
    /// moved its value out on its last use.
    valued: HashSet<(CodeHash, Binder)>,
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

impl SourceMap {
    /// The map of `code`'s functions in `sources` (none without sources: a run by hash whose
    /// definitions no loaded file holds).
    pub fn new(sources: Option<&Analysis>, code: &Code) -> SourceMap {
        let mut map = SourceMap::default();
        let mut hashes: Vec<&CodeHash> = code.defs.keys().collect();
        hashes.sort();
        for hash in &hashes {
            if let CoreDef::Fn { params, body, .. } = &code.defs[*hash].def {
                map.valued.extend(valued_binders(params, body).into_iter().map(|b| (**hash, b)));
            }
        }
        let Some(analysis) = sources else { return map };
        for hash in hashes {
            let CoreDef::Fn { params, body, .. } = &code.defs[hash].def else { continue };
            let Ok(Some((file, name_range, _))) = analysis.locate_def(hash) else { continue };
            map.file(analysis, file);
            map.names.insert(*hash, (file, name_range));
            let nodes = preorder(body);
            let spans: Vec<Option<(FileId, TextRange)>> = (0..nodes.len() as u32)
                .map(|expr| match analysis.locate_expr(hash, expr) {
                    // `locate_expr` answers the name's range for an expression without a
                    // span of its own: that is no place of the expression.
                    Ok(Some((f, r))) if !(f == file && r == name_range) => Some((f, r)),
                    _ => None,
                })
                .collect();
            let shape = Shape::new(params.len() as u32, &nodes);
            for (a, span) in spans.iter().enumerate() {
                let Some((f, range)) = span else { continue };
                map.file(analysis, *f);
                let line = map.files[f].index.line_col(range.start()).line;
                let parent_on_line = shape.parent[a] != NONE
                    && spans[shape.parent[a] as usize].is_some_and(|(pf, pr)| {
                        pf == *f && map.files[f].index.line_col(pr.start()).line == line
                    });
                if !parent_on_line {
                    map.lines.entry((*f, line)).or_default().push((*hash, a as u32));
                }
                if let Expr::Local(i) = nodes[a]
                    && let Some(binder) = shape.local(a as u32, *i)
                {
                    let text = &map.files[f].text;
                    let name = text.get(usize::from(range.start())..usize::from(range.end()));
                    if let Some(name) = name.filter(|n| is_identifier(n)) {
                        map.binders.entry((*hash, binder)).or_insert_with(|| name.into());
                    }
                }
            }
            map.spans.insert(*hash, spans);
        }
        map
    }

    fn file(&mut self, analysis: &Analysis, file: FileId) {
        if self.files.contains_key(&file) {
            return;
        }
        let path = analysis.file_path(file).to_path_buf();
        self.by_path.insert(canonical(&path), file);
        let text = analysis.file_text(file);
        let index = LineIndex::new(&text);
        self.files.insert(file, FileInfo { path, text, index });
    }

    /// The loaded file at `path` (compared canonically).
    pub fn file_for_path(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(&canonical(path)).copied()
    }

    pub fn path(&self, file: FileId) -> Option<&Path> {
        self.files.get(&file).map(|f| f.path.as_path())
    }

    /// The text of line `line` (1-based) of `file`, without its line break.
    pub fn line_text(&self, file: FileId, line: u32) -> Option<&str> {
        let f = self.files.get(&file)?;
        let range = f.index.line_range(line.checked_sub(1)?)?;
        let text = f.text.get(usize::from(range.start())..usize::from(range.end()))?;
        Some(text.trim_end_matches(['\r', '\n']))
    }

    fn place(&self, file: FileId, range: TextRange) -> Option<Place> {
        let f = self.files.get(&file)?;
        let at = |offset: TextSize| f.index.line_col_utf16(offset);
        let (start, end) = (at(range.start()), at(range.end()));
        Some(Place {
            file,
            path: f.path.clone(),
            line: start.line + 1,
            column: start.col + 1,
            end_line: end.line + 1,
            end_column: end.col + 1,
        })
    }

    /// Where a location of the running program is: its expression's range, else its
    /// function's name.
    pub fn locate(&self, l: &Location) -> Option<Place> {
        let span = self.spans.get(&l.def).and_then(|s| s.get(l.expr as usize).copied().flatten());
        let (file, range) = span.or_else(|| self.names.get(&l.def).copied())?;
        self.place(file, range)
    }

    /// Where function `def` is defined (its name).
    pub fn locate_def(&self, def: &CodeHash) -> Option<Place> {
        let (file, range) = *self.names.get(def)?;
        self.place(file, range)
    }

    /// The expressions a breakpoint on `line` (1-based) of `file` stops at.
    pub fn line_exprs(&self, file: FileId, line: u32) -> &[(CodeHash, u32)] {
        line.checked_sub(1).and_then(|l| self.lines.get(&(file, l))).map_or(&[], |v| v.as_slice())
    }

    /// The first line at or after `line` (1-based) of `file` that has code, within the
    /// function holding `line`: where a breakpoint on a blank or comment line moves to.
    pub fn code_line_from(&self, file: FileId, line: u32) -> Option<u32> {
        if !self.line_exprs(file, line).is_empty() {
            return Some(line);
        }
        let f = self.files.get(&file)?;
        let offset = f.index.line_range(line.checked_sub(1)?)?.start();
        // The function whose span (from its name to its last expression) holds the line.
        let (def, _) = self.names.iter().find(|(def, (nf, name))| {
            *nf == file && name.start() <= offset && self.end_of(def).is_some_and(|e| offset < e)
        })?;
        let mut lines: Vec<u32> = self
            .lines
            .iter()
            .filter(|((lf, l), exprs)| {
                *lf == file && l + 1 > line && exprs.iter().any(|(d, _)| d == def)
            })
            .map(|((_, l), _)| l + 1)
            .collect();
        lines.sort();
        lines.first().copied()
    }

    fn end_of(&self, def: &CodeHash) -> Option<TextSize> {
        self.spans.get(def)?.iter().flatten().map(|(_, r)| r.end()).max()
    }

    /// The source name of a local, when the code reads it.
    pub fn binder_name(&self, def: &CodeHash, binder: &Binder) -> Option<SmolStr> {
        self.binders.get(&(*def, *binder)).cloned()
    }

    /// Whether `value`, read from `binder`, is what the code left after moving the value
    /// out (`()` in a binder of another type).
    pub fn moved(&self, def: &CodeHash, binder: &Binder, value: &tel_vm::Value) -> bool {
        matches!(value, tel_vm::Value::Unit) && self.valued.contains(&(*def, *binder))
    }

    /// Every local name known, for the navigator's namer (it outlives this map).
    pub fn binder_names(&self) -> HashMap<(CodeHash, Binder), SmolStr> {
        self.binders.clone()
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

const NONE: u32 = u32::MAX;

/// The binders of a function whose declared type is not `()`: its parameters, its `let`s
/// and its lambdas' parameters (patterns and clause arguments carry no type in core IR).
fn valued_binders(params: &[Type], body: &Expr) -> Vec<Binder> {
    let mut out: Vec<Binder> = params
        .iter()
        .enumerate()
        .filter(|(_, t)| **t != Type::Unit)
        .map(|(i, _)| Binder::Param { index: i as u32 })
        .collect();
    for (node, e) in preorder(body).into_iter().enumerate() {
        let node = node as u32;
        match e {
            Expr::Let { ty, .. } if *ty != Type::Unit => out.push(Binder::Let { node }),
            Expr::Lambda { params, .. } => out.extend(
                params
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| **t != Type::Unit)
                    .map(|(i, _)| Binder::LambdaParam { node, index: i as u32 }),
            ),
            _ => {}
        }
    }
    out
}

/// The scopes of a function body: each node's parent and the binders its parent introduces
/// for it (the `let` body sees the `let`'s variable, an arm its pattern's), so that a
/// `Local(i)` can be resolved to its binder (`i` counts from the innermost binder).
struct Shape {
    parent: Vec<u32>,
    intro: Vec<Vec<Binder>>,
}

fn pattern_binds(p: &Pat) -> u32 {
    // Patterns are shallow (written by hand); an explicit stack anyway, as everywhere else.
    let mut n = 0;
    let mut todo = vec![p];
    while let Some(p) = todo.pop() {
        match p {
            Pat::Bind => n += 1,
            Pat::Wildcard | Pat::Lit(_) => {}
            Pat::Variant { fields, .. } => todo.extend(fields),
            Pat::Record { fields } => todo.extend(fields.iter().map(|(_, p)| p)),
        }
    }
    n
}

impl Shape {
    fn new(params: u32, nodes: &[&Expr]) -> Shape {
        let n = nodes.len();
        let ids: FxHashMap<*const Expr, u32> =
            nodes.iter().enumerate().map(|(i, e)| (*e as *const Expr, i as u32)).collect();
        let id = |e: &Expr| ids[&(e as *const Expr)] as usize;
        let mut shape = Shape { parent: vec![NONE; n], intro: vec![Vec::new(); n] };
        if n > 0 {
            shape.intro[0] = (0..params).map(|index| Binder::Param { index }).collect();
        }
        for (a, e) in nodes.iter().enumerate() {
            let node = a as u32;
            for c in e.children() {
                shape.parent[id(c)] = node;
            }
            match e {
                Expr::Let { body, .. } => shape.intro[id(body)] = vec![Binder::Let { node }],
                Expr::Lambda { params, body, .. } => {
                    shape.intro[id(body)] = (0..params.len() as u32)
                        .map(|index| Binder::LambdaParam { node, index })
                        .collect();
                }
                Expr::Match { arms, .. } => {
                    for (k, arm) in arms.iter().enumerate() {
                        let vars: Vec<Binder> = (0..pattern_binds(&arm.pat))
                            .map(|index| Binder::Pattern { node, arm: k as u32, index })
                            .collect();
                        if let Some(g) = &arm.guard {
                            shape.intro[id(g)] = vars.clone();
                        }
                        shape.intro[id(&arm.body)] = vars;
                    }
                }
                Expr::Handle { clauses, .. } => {
                    for (k, c) in clauses.iter().enumerate() {
                        shape.intro[id(&c.body)] = (0..c.arity)
                            .map(|index| Binder::ClauseArg { node, clause: k as u32, index })
                            .collect();
                    }
                }
                _ => {}
            }
        }
        shape
    }

    /// The binder `Local(i)` at `node` refers to.
    fn local(&self, node: u32, i: u32) -> Option<Binder> {
        let mut skip = i as usize;
        let mut a = node;
        while a != NONE {
            let intro = &self.intro[a as usize];
            if skip < intro.len() {
                return Some(intro[intro.len() - 1 - skip]);
            }
            skip -= intro.len();
            a = self.parent[a as usize];
        }
        None
    }
}
