//! Loading code by hash and compiling it to bytecode.
//!
//! **Bytecode design.** Every function definition and every lambda becomes one [`Code`] unit: a
//! flat `Vec<Op>` plus side tables (constants, field names, patterns, handler tables). Jumps
//! are absolute indices into the unit's ops. A running unit has a *frame* with two vectors:
//! the operand stack, and the locals. Locals mirror the core IR's de Bruijn discipline
//! directly: binders push onto the locals vector and `Local(i)` reads `locals[len - 1 - i]`,
//! so the compiler needs no slot allocation and a closure captures its environment by
//! copying the locals vector (its body then sees `env ++ params`, exactly the scopes the IR
//! assumes). Handler clauses are compiled inline after the `handle` body and run in a frame
//! of their own whose locals are the handle site's locals plus the operation's arguments.

use crate::value::Value;
use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;
use std::collections::HashMap;
use std::sync::OnceLock;
use tel_hash::CodeHash;
use tel_hash::core::{
    Arm, BinOp, Builtin, Clause, CoreDef, Expr, Lit, Pat, Ref, Type, UnOp, VariantOwner,
};

/// A definition as the loader receives it (from the store or from a freshly hashed project).
#[derive(Clone, Debug)]
pub struct StoredDef {
    pub def: CoreDef,
    /// The component hash when the definition is a member of a mutually recursive component:
    /// its `Ref::Member(i)`s mean `member_hash(component, i)`.
    pub component: Option<CodeHash>,
    /// The definition's name, when known: used by `show` for nominal records and in error
    /// locations. Names are metadata; they never change what a program computes.
    pub name: Option<SmolStr>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("missing definition {hash} (needed by {needed_by})")]
    Missing { hash: CodeHash, needed_by: String },
    #[error(
        "circular dependency: {0} refers back to itself through definitions outside its component"
    )]
    Circular(CodeHash),
    #[error("{def} refers to member {index} of its component, but it is not a component member")]
    MemberOutsideComponent { def: CodeHash, index: u32 },
    #[error(
        "{def} refers to a definition by name (`{name}`); only hashed definitions can be loaded"
    )]
    Unresolved { def: CodeHash, name: SmolStr },
    #[error("{0} is not a function")]
    NotAFunction(String),
    #[error("the entry point {0} takes parameters; only a function without parameters can be run")]
    EntryHasParams(String),
}

/// The host effects of the prelude.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum HostEffect {
    Log,
    Observe,
    Deposit,
    Withdraw,
    Now,
    Sleep,
    Random,
    Emit,
}

impl HostEffect {
    pub const ALL: [HostEffect; 8] = [
        HostEffect::Log,
        HostEffect::Observe,
        HostEffect::Deposit,
        HostEffect::Withdraw,
        HostEffect::Now,
        HostEffect::Sleep,
        HostEffect::Random,
        HostEffect::Emit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HostEffect::Log => "Log",
            HostEffect::Observe => "Observe",
            HostEffect::Deposit => "Deposit",
            HostEffect::Withdraw => "Withdraw",
            HostEffect::Now => "Now",
            HostEffect::Sleep => "Sleep",
            HostEffect::Random => "Random",
            HostEffect::Emit => "Emit",
        }
    }

    /// The core definition the prelude declares (`effect Log(message: String) -> ()`, ...).
    pub fn def(self) -> CoreDef {
        let (params, ret) = match self {
            HostEffect::Log | HostEffect::Emit => (vec![Type::String], Type::Unit),
            HostEffect::Observe => (vec![Type::String], Type::Int),
            HostEffect::Deposit | HostEffect::Withdraw => {
                (vec![Type::String, Type::Int], Type::Unit)
            }
            HostEffect::Now => (vec![], Type::Int),
            HostEffect::Sleep => (vec![Type::Duration], Type::Unit),
            HostEffect::Random => (vec![Type::Int], Type::Int),
        };
        CoreDef::Effect { name: self.name().into(), params, ret }
    }

    /// The effect's hash: an effect is identified by its name and signature, so this is the
    /// hash every program's prelude gives it.
    pub fn hash(self) -> CodeHash {
        static HASHES: OnceLock<Vec<CodeHash>> = OnceLock::new();
        let hashes = HASHES.get_or_init(|| {
            HostEffect::ALL
                .iter()
                .map(|e| {
                    tel_hash::hash_def(&e.def(), &|_| None)
                        .expect("a host effect definition has no references")
                })
                .collect()
        });
        hashes[HostEffect::ALL.iter().position(|e| *e == self).unwrap()]
    }

    pub fn from_hash(hash: &CodeHash) -> Option<HostEffect> {
        HostEffect::ALL.into_iter().find(|e| e.hash() == *hash)
    }
}

/// One bytecode instruction. See the module comment for the frame model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Push `consts[i]`.
    Const(u32),
    /// Push the de Bruijn local `i`.
    Local(u32),
    /// Pop the operand stack into a new innermost local.
    Bind,
    /// Drop the `n` innermost locals.
    Unbind(u32),
    Pop,
    /// Drop the value under the top of the stack.
    Nip,
    Jump(u32),
    /// Pop a Bool; jump when it is false.
    JumpIfFalse(u32),
    /// Push the top-level function with this code index.
    Def(u32),
    Builtin(Builtin),
    /// Push a closure over code unit `i` capturing the current locals.
    Lambda(u32),
    /// Stack: callee, args (argc of them).
    Call(u32),
    Ret,
    List(u32),
    /// Build a record from `shapes[i]`'s fields (values pushed in field order).
    Record(u32),
    Field(u32),
    /// Build variant `index` of `owners[owner]` (None = the option type) from `argc` values.
    Variant {
        owner: u32,
        index: u32,
        argc: u32,
    },
    Bin(BinOp),
    Neg,
    Not,
    /// Match the top of the stack (kept) against `pats[pat]`; on success bind its variables,
    /// on failure jump to `fail`.
    Match {
        pat: u32,
        fail: u32,
    },
    /// No arm matched (the checker rules this out; kept as a clear runtime error).
    NoMatch,
    Perform {
        effect: u32,
        argc: u32,
    },
    /// Install the handler table `table`; `end` is where `abort` lands.
    Handle {
        table: u32,
        end: u32,
    },
    /// Pop a Duration and set a deadline that far from now; on timeout run `fallback`.
    Within {
        fallback: u32,
    },
    /// Remove the innermost handler or deadline (its body finished normally).
    PopMark,
    /// End the running clause with the top of the stack as the `perform`'s value.
    Resume,
    /// End the running clause and its `handle` with the top of the stack.
    Abort,
}

/// A clause of a handler table.
#[derive(Clone, Debug)]
pub struct ClauseCode {
    pub effect: CodeHash,
    pub arity: u32,
    pub pc: u32,
}

/// A compiled function or lambda.
#[derive(Clone, Debug, Default)]
pub struct Code {
    /// For error locations: the definition's name (or short hash), with `/lambda` for lambdas.
    pub name: String,
    pub arity: u32,
    pub ops: Vec<Op>,
    pub consts: Vec<Value>,
    pub names: Vec<SmolStr>,
    pub shapes: Vec<(Option<CodeHash>, Vec<SmolStr>)>,
    pub owners: Vec<Option<CodeHash>>,
    pub pats: Vec<Pat>,
    pub effects: Vec<CodeHash>,
    pub handlers: Vec<Vec<ClauseCode>>,
}

/// Loaded, compiled code: everything reachable from an entry point.
#[derive(Clone, Debug)]
pub struct Program {
    pub entry: CodeHash,
    pub entry_code: u32,
    pub codes: Vec<Code>,
    /// Enum hash → variant names (for `show`).
    pub enums: FxHashMap<CodeHash, Vec<SmolStr>>,
    /// Definition names known to the loader.
    pub names: FxHashMap<CodeHash, SmolStr>,
    /// Effect hash → its operation name (for error messages).
    pub effect_names: FxHashMap<CodeHash, SmolStr>,
}

impl Program {
    /// Loads `entry` and everything it refers to, transitively, and compiles the functions.
    pub fn load(
        defs: &HashMap<CodeHash, StoredDef>,
        entry: CodeHash,
    ) -> Result<Program, LoadError> {
        let mut loaded: Vec<(CodeHash, CoreDef)> = Vec::new();
        let mut index: FxHashMap<CodeHash, usize> = FxHashMap::default();
        // Iterative DFS with colors: a back edge is a cycle, allowed only inside a component.
        let mut on_path: FxHashSet<CodeHash> = FxHashSet::default();
        let mut stack: Vec<(CodeHash, Vec<CodeHash>)> = Vec::new();
        let fetch = |hash: CodeHash,
                     needed_by: String|
         -> Result<(CoreDef, Vec<CodeHash>), LoadError> {
            let stored = defs.get(&hash).ok_or(LoadError::Missing { hash, needed_by })?;
            let mut def = stored.def.clone();
            let mut err = None;
            let mut deps = Vec::new();
            for_each_ref(&mut def, &mut |r| match r {
                Ref::Member(i) => match stored.component {
                    Some(c) => {
                        *r = Ref::Hash(tel_hash::member_hash(&c, *i));
                        if let Ref::Hash(h) = r {
                            deps.push(*h);
                        }
                    }
                    None => err = Some(LoadError::MemberOutsideComponent { def: hash, index: *i }),
                },
                Ref::Def(name) => {
                    err = Some(LoadError::Unresolved { def: hash, name: name.clone() })
                }
                Ref::Hash(h) => deps.push(*h),
                Ref::Builtin(_) => {}
            });
            if let Some(e) = err {
                return Err(e);
            }
            deps.sort();
            deps.dedup();
            deps.retain(|d| HostEffect::from_hash(d).is_none() || defs.contains_key(d));
            Ok((def, deps))
        };
        let component_of = |h: &CodeHash| defs.get(h).and_then(|d| d.component);
        let (def, deps) = fetch(entry, "the entry point".into())?;
        index.insert(entry, 0);
        loaded.push((entry, def));
        on_path.insert(entry);
        stack.push((entry, deps));
        while let Some((me, deps)) = stack.last_mut() {
            let me = *me;
            let Some(dep) = deps.pop() else {
                on_path.remove(&me);
                stack.pop();
                continue;
            };
            if on_path.contains(&dep) {
                if component_of(&dep).is_none() || component_of(&dep) != component_of(&me) {
                    return Err(LoadError::Circular(dep));
                }
                continue;
            }
            if index.contains_key(&dep) {
                continue;
            }
            let (def, deps) = fetch(dep, describe(defs, &me))?;
            index.insert(dep, loaded.len());
            loaded.push((dep, def));
            on_path.insert(dep);
            stack.push((dep, deps));
        }

        let mut program = Program {
            entry,
            entry_code: 0,
            codes: Vec::new(),
            enums: FxHashMap::default(),
            names: defs
                .iter()
                .filter(|(h, _)| index.contains_key(*h))
                .filter_map(|(h, d)| Some((*h, d.name.clone()?)))
                .collect(),
            effect_names: FxHashMap::default(),
        };
        for e in HostEffect::ALL {
            program.effect_names.insert(e.hash(), e.name().into());
        }
        // Code indices of functions first, so calls can name them before they are compiled.
        let mut fn_code: FxHashMap<CodeHash, u32> = FxHashMap::default();
        for (hash, def) in &loaded {
            match def {
                CoreDef::Fn { .. } => {
                    fn_code.insert(*hash, fn_code.len() as u32);
                }
                CoreDef::Enum { variants } => {
                    program.enums.insert(*hash, variants.iter().map(|v| v.name.clone()).collect());
                }
                CoreDef::Effect { name, .. } => {
                    program.effect_names.insert(*hash, name.clone());
                }
                CoreDef::Type { .. } | CoreDef::Schema { .. } => {}
            }
        }
        let entry_name = describe(defs, &entry);
        match &loaded[0].1 {
            CoreDef::Fn { params, .. } if !params.is_empty() => {
                return Err(LoadError::EntryHasParams(entry_name));
            }
            CoreDef::Fn { .. } => {}
            _ => return Err(LoadError::NotAFunction(entry_name)),
        }
        program.codes = vec![Code::default(); fn_code.len()];
        for (hash, def) in &loaded {
            if let CoreDef::Fn { params, body, .. } = def {
                let mut c =
                    Compiler { fns: &fn_code, codes: &mut program.codes, code: Code::default() };
                c.code.name = describe(defs, hash);
                c.code.arity = params.len() as u32;
                c.expr(body);
                c.emit(Op::Ret);
                let code = c.code;
                program.codes[fn_code[hash] as usize] = code;
            }
        }
        program.entry_code = fn_code[&entry];
        Ok(program)
    }

    /// A definition's name for messages: its known name, else its short hash.
    pub fn name_of(&self, hash: &CodeHash) -> String {
        self.names.get(hash).map_or_else(|| format!("#{}", hash.short()), |n| n.to_string())
    }
}

fn describe(defs: &HashMap<CodeHash, StoredDef>, hash: &CodeHash) -> String {
    match defs.get(hash).and_then(|d| d.name.as_ref()) {
        Some(n) => format!("{n} (#{})", hash.short()),
        None => format!("#{}", hash.short()),
    }
}

/// Visits every reference a definition's code can reach at run time (expressions, patterns,
/// schema defaults). Types are not visited: the VM does not need them.
fn for_each_ref(def: &mut CoreDef, f: &mut dyn FnMut(&mut Ref)) {
    match def {
        CoreDef::Fn { body, effects, .. } => {
            let _ = effects;
            expr_refs(body, f);
        }
        CoreDef::Schema { fields } => {
            for field in fields {
                if let Some(d) = &mut field.default {
                    expr_refs(d, f);
                }
            }
        }
        CoreDef::Type { .. } | CoreDef::Enum { .. } | CoreDef::Effect { .. } => {}
    }
}

fn pat_refs(p: &mut Pat, f: &mut dyn FnMut(&mut Ref)) {
    match p {
        Pat::Variant { owner, fields, .. } => {
            if let VariantOwner::Enum(r) = owner {
                f(r);
            }
            fields.iter_mut().for_each(|p| pat_refs(p, f));
        }
        Pat::Record { fields } => fields.iter_mut().for_each(|(_, p)| pat_refs(p, f)),
        Pat::Wildcard | Pat::Bind | Pat::Lit(_) => {}
    }
}

fn expr_refs(e: &mut Expr, f: &mut dyn FnMut(&mut Ref)) {
    match e {
        Expr::Local(_) | Expr::Lit(_) => {}
        Expr::Ref(r) => f(r),
        Expr::Call { callee, args } => {
            expr_refs(callee, f);
            args.iter_mut().for_each(|a| expr_refs(a, f));
        }
        Expr::Lambda { body, .. } => expr_refs(body, f),
        Expr::Let { value, body, .. } => {
            expr_refs(value, f);
            expr_refs(body, f);
        }
        Expr::Seq { first, then } => {
            expr_refs(first, f);
            expr_refs(then, f);
        }
        Expr::If { cond, then, else_ } => {
            expr_refs(cond, f);
            expr_refs(then, f);
            expr_refs(else_, f);
        }
        Expr::Match { scrutinee, arms } => {
            expr_refs(scrutinee, f);
            for Arm { pat, guard, body } in arms {
                pat_refs(pat, f);
                if let Some(g) = guard {
                    expr_refs(g, f);
                }
                expr_refs(body, f);
            }
        }
        Expr::Record { ty, fields } => {
            if let Some(r) = ty {
                f(r);
            }
            fields.iter_mut().for_each(|(_, e)| expr_refs(e, f));
        }
        Expr::Field { expr, .. } => expr_refs(expr, f),
        Expr::List(xs) => xs.iter_mut().for_each(|x| expr_refs(x, f)),
        Expr::Variant { owner, args, .. } => {
            if let VariantOwner::Enum(r) = owner {
                f(r);
            }
            args.iter_mut().for_each(|a| expr_refs(a, f));
        }
        Expr::Binary { lhs, rhs, .. } => {
            expr_refs(lhs, f);
            expr_refs(rhs, f);
        }
        Expr::Unary { expr, .. } | Expr::Resume(expr) | Expr::Abort(expr) => expr_refs(expr, f),
        Expr::Perform { effect, args } => {
            f(effect);
            args.iter_mut().for_each(|a| expr_refs(a, f));
        }
        Expr::Handle { body, clauses } => {
            expr_refs(body, f);
            for Clause { effect, body, .. } in clauses {
                f(effect);
                expr_refs(body, f);
            }
        }
        Expr::Within { deadline, body, fallback } => {
            expr_refs(deadline, f);
            expr_refs(body, f);
            expr_refs(fallback, f);
        }
        Expr::After { delay, body } => {
            expr_refs(delay, f);
            expr_refs(body, f);
        }
    }
}

fn hash_of(r: &Ref) -> CodeHash {
    match r {
        Ref::Hash(h) => *h,
        // The loader resolved every other reference before compiling.
        _ => unreachable!("unresolved reference {r:?} after loading"),
    }
}

struct Compiler<'a> {
    fns: &'a FxHashMap<CodeHash, u32>,
    codes: &'a mut Vec<Code>,
    code: Code,
}

impl Compiler<'_> {
    fn emit(&mut self, op: Op) -> usize {
        self.code.ops.push(op);
        self.code.ops.len() - 1
    }

    fn here(&self) -> u32 {
        self.code.ops.len() as u32
    }

    fn patch(&mut self, at: usize, target: u32) {
        match &mut self.code.ops[at] {
            Op::Jump(t) | Op::JumpIfFalse(t) => *t = target,
            Op::Match { fail, .. } => *fail = target,
            Op::Handle { end, .. } => *end = target,
            Op::Within { fallback } => *fallback = target,
            op => unreachable!("patching {op:?}"),
        }
    }

    fn konst(&mut self, v: Value) {
        let i = self.code.consts.len() as u32;
        self.code.consts.push(v);
        self.emit(Op::Const(i));
    }

    fn owner(&mut self, owner: &VariantOwner) -> u32 {
        let o = match owner {
            VariantOwner::Option => None,
            VariantOwner::Enum(r) => Some(hash_of(r)),
        };
        self.code.owners.push(o);
        self.code.owners.len() as u32 - 1
    }

    fn effect(&mut self, r: &CodeHash) -> u32 {
        self.code.effects.push(*r);
        self.code.effects.len() as u32 - 1
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Local(i) => {
                self.emit(Op::Local(*i));
            }
            Expr::Ref(Ref::Builtin(b)) => {
                self.emit(Op::Builtin(*b));
            }
            Expr::Ref(r) => {
                let h = hash_of(r);
                // The checker only lets functions be values; anything else failed to load.
                let code = self.fns.get(&h).copied().unwrap_or(u32::MAX);
                self.emit(Op::Def(code));
            }
            Expr::Lit(l) => self.konst(lit_value(l)),
            Expr::Call { callee, args } => {
                self.expr(callee);
                args.iter().for_each(|a| self.expr(a));
                self.emit(Op::Call(args.len() as u32));
            }
            Expr::Lambda { params, body, .. } => {
                let outer = std::mem::take(&mut self.code);
                self.code.name = format!("{}/lambda", outer.name);
                self.code.arity = params.len() as u32;
                self.expr(body);
                self.emit(Op::Ret);
                let lambda = std::mem::replace(&mut self.code, outer);
                let id = self.codes.len() as u32;
                self.codes.push(lambda);
                self.emit(Op::Lambda(id));
            }
            Expr::Let { value, body, .. } => {
                self.expr(value);
                self.emit(Op::Bind);
                self.expr(body);
                self.emit(Op::Unbind(1));
            }
            Expr::Seq { first, then } => {
                self.expr(first);
                self.emit(Op::Pop);
                self.expr(then);
            }
            Expr::If { cond, then, else_ } => {
                self.expr(cond);
                let j = self.emit(Op::JumpIfFalse(0));
                self.expr(then);
                let end = self.emit(Op::Jump(0));
                let h = self.here();
                self.patch(j, h);
                self.expr(else_);
                let h = self.here();
                self.patch(end, h);
            }
            Expr::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                let mut ends = Vec::new();
                for arm in arms {
                    let n = binds(&arm.pat);
                    self.code.pats.push(arm.pat.clone());
                    let pat = self.code.pats.len() as u32 - 1;
                    let m = self.emit(Op::Match { pat, fail: 0 });
                    let guard_fail = arm.guard.as_ref().map(|g| {
                        self.expr(g);
                        self.emit(Op::JumpIfFalse(0))
                    });
                    self.expr(&arm.body);
                    self.emit(Op::Nip);
                    self.emit(Op::Unbind(n));
                    ends.push(self.emit(Op::Jump(0)));
                    if let Some(gf) = guard_fail {
                        let h = self.here();
                        self.patch(gf, h);
                        self.emit(Op::Unbind(n));
                    }
                    let h = self.here();
                    self.patch(m, h);
                }
                self.emit(Op::NoMatch);
                let h = self.here();
                ends.into_iter().for_each(|e| self.patch(e, h));
            }
            Expr::Record { ty, fields } => {
                fields.iter().for_each(|(_, e)| self.expr(e));
                let names = fields.iter().map(|(n, _)| n.clone()).collect();
                self.code.shapes.push((ty.as_ref().map(hash_of), names));
                self.emit(Op::Record(self.code.shapes.len() as u32 - 1));
            }
            Expr::Field { expr, name } => {
                self.expr(expr);
                self.code.names.push(name.clone());
                self.emit(Op::Field(self.code.names.len() as u32 - 1));
            }
            Expr::List(xs) => {
                xs.iter().for_each(|x| self.expr(x));
                self.emit(Op::List(xs.len() as u32));
            }
            Expr::Variant { owner, index, args } => {
                args.iter().for_each(|a| self.expr(a));
                let owner = self.owner(owner);
                self.emit(Op::Variant { owner, index: *index, argc: args.len() as u32 });
            }
            Expr::Binary { op: BinOp::And, lhs, rhs } => {
                self.expr(lhs);
                let j = self.emit(Op::JumpIfFalse(0));
                self.expr(rhs);
                let end = self.emit(Op::Jump(0));
                let h = self.here();
                self.patch(j, h);
                self.konst(Value::Bool(false));
                let h = self.here();
                self.patch(end, h);
            }
            Expr::Binary { op: BinOp::Or, lhs, rhs } => {
                self.expr(lhs);
                let j = self.emit(Op::JumpIfFalse(0));
                self.konst(Value::Bool(true));
                let end = self.emit(Op::Jump(0));
                let h = self.here();
                self.patch(j, h);
                self.expr(rhs);
                let h = self.here();
                self.patch(end, h);
            }
            Expr::Binary { op, lhs, rhs } => {
                self.expr(lhs);
                self.expr(rhs);
                self.emit(Op::Bin(*op));
            }
            Expr::Unary { op, expr } => {
                self.expr(expr);
                self.emit(match op {
                    UnOp::Neg => Op::Neg,
                    UnOp::Not => Op::Not,
                });
            }
            Expr::Perform { effect, args } => {
                args.iter().for_each(|a| self.expr(a));
                let effect = self.effect(&hash_of(effect));
                self.emit(Op::Perform { effect, argc: args.len() as u32 });
            }
            Expr::Handle { body, clauses } => {
                let table = self.code.handlers.len() as u32;
                self.code.handlers.push(Vec::new());
                let h = self.emit(Op::Handle { table, end: 0 });
                self.expr(body);
                self.emit(Op::PopMark);
                let mut ends = vec![self.emit(Op::Jump(0))];
                for clause in clauses {
                    let pc = self.here();
                    self.code.handlers[table as usize].push(ClauseCode {
                        effect: hash_of(&clause.effect),
                        arity: clause.arity,
                        pc,
                    });
                    self.expr(&clause.body);
                    self.emit(Op::Resume);
                }
                let end = self.here();
                self.patch(h, end);
                ends.drain(..).for_each(|e| self.patch(e, end));
            }
            Expr::Resume(v) => {
                self.expr(v);
                self.emit(Op::Resume);
            }
            Expr::Abort(v) => {
                self.expr(v);
                self.emit(Op::Abort);
            }
            Expr::Within { deadline, body, fallback } => {
                self.expr(deadline);
                let w = self.emit(Op::Within { fallback: 0 });
                self.expr(body);
                self.emit(Op::PopMark);
                let end = self.emit(Op::Jump(0));
                let h = self.here();
                self.patch(w, h);
                self.expr(fallback);
                let h = self.here();
                self.patch(end, h);
            }
            Expr::After { delay, body } => {
                // Exactly `{ perform Sleep(delay); body }` (language.md §9.2).
                self.expr(delay);
                let effect = self.effect(&HostEffect::Sleep.hash());
                self.emit(Op::Perform { effect, argc: 1 });
                self.emit(Op::Pop);
                self.expr(body);
            }
        }
    }
}

/// How many locals a pattern binds.
pub(crate) fn binds(p: &Pat) -> u32 {
    match p {
        Pat::Bind => 1,
        Pat::Wildcard | Pat::Lit(_) => 0,
        Pat::Variant { fields, .. } => fields.iter().map(binds).sum(),
        Pat::Record { fields } => fields.iter().map(|(_, p)| binds(p)).sum(),
    }
}

pub(crate) fn lit_value(l: &Lit) -> Value {
    match l {
        Lit::Int(i) => Value::Int(*i),
        Lit::Bool(b) => Value::Bool(*b),
        Lit::String(s) => Value::String(s.clone()),
        Lit::Duration(d) => Value::Duration(*d),
        Lit::Unit => Value::Unit,
    }
}
