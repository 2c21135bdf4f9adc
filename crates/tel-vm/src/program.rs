//! Loading code by hash and compiling it to bytecode.
//!
//! **Bytecode design.** Every function definition and every lambda becomes one [`Code`] unit: a
//! flat `Vec<Op>` plus side tables (constants, field names, patterns, handler tables). Jumps
//! are absolute indices into the unit's ops, and always go forward. The VM has one value
//! stack; a running unit's *frame* is a segment of it, and the compiler knows the height of
//! that segment before every op. So a binder (a parameter, `let`, a pattern variable, a
//! clause argument) is simply the slot where its value was computed, `Local(i)` becomes
//! `Get(slot)`, and leaving a scope is one `Slide`. A function's frame starts with its
//! parameters; a lambda's with its parameters, then the enclosing locals its body uses
//! (copied into the closure when it is made). Handler clauses are compiled inline after the
//! `handle` body and run in a frame of their own: a copy of the handle site's slots, then the
//! operation's arguments. A call in tail position replaces the running frame.

use crate::value::Value;
use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;
use std::collections::HashMap;
use std::sync::OnceLock;
use tel_hash::CodeHash;
use tel_hash::core::{
    Arm, BinOp, Builtin, Clause, CoreDef, Expr, Lit, Pat, Ref, Type, UnOp, VariantOwner, preorder,
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
    #[error("the entry point {name} takes {expected} argument(s), and {found} were given")]
    EntryArgs { name: String, expected: u32, found: usize },
    #[error("{def} reads local {index}, which is not in scope")]
    BadLocal { def: String, index: u32 },
    #[error("{def} calls {callee} with {argc} arguments")]
    Arity { def: String, callee: String, argc: u32 },
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

/// One bytecode instruction. See the module comment for the frame model. Slots are positions
/// in the running frame's segment of the value stack, counted from its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Push `consts[i]`.
    Const(u32),
    /// Push a small Int.
    Int(i32),
    /// Push a copy of slot `s`.
    Get(u32),
    /// Push slot `s`'s value, leaving `()` behind: the compiler proved it is the slot's last
    /// read, so a list or map moved this way stays unshared and `++`/`insert` update it in place.
    Move(u32),
    /// Keep the top of the stack and drop the `n` values under it (a scope's bindings).
    Slide(u32),
    Pop,
    /// Drop the `n` topmost values.
    PopN(u32),
    Jump(u32),
    /// Pop a Bool; jump when it is false.
    JumpIfFalse(u32),
    /// Pop two operands, compare them with `op` and jump when the comparison is false.
    JumpUnless {
        op: BinOp,
        target: u32,
    },
    /// Compare slot `slot` with the Int `imm`; jump when the comparison is false.
    JumpUnlessLI {
        op: BinOp,
        slot: u32,
        imm: i32,
        target: u32,
    },
    /// Compare slots `a` and `b`; jump when the comparison is false.
    JumpUnlessLL {
        op: BinOp,
        a: u32,
        b: u32,
        target: u32,
    },
    /// Push the top-level function with this code index as a value.
    Def(u32),
    Builtin(Builtin),
    /// Pop `captures` values and push a closure over code unit `code` capturing them.
    Closure {
        code: u32,
        captures: u32,
    },
    /// Stack: callee, args (argc of them).
    Call(u32),
    /// Stack: args. Calls the top-level function `code`.
    CallDef {
        code: u32,
        argc: u32,
    },
    /// Stack: args. Calls a builtin.
    CallBuiltin {
        builtin: Builtin,
        argc: u32,
    },
    /// A call in tail position: the callee's frame replaces the running one. Always followed
    /// by `Ret`, which runs when the call could not reuse the frame (a builtin, an observed
    /// run).
    TailCall(u32),
    TailCallDef {
        code: u32,
        argc: u32,
    },
    /// A guarded superinstruction standing for the ops after it, which compute the `argc`
    /// arguments of a `TailCallDef` to `code` from Ints in slots and small constants
    /// (`int_args[args..args + argc]`), and the call. When every argument comes out an Int
    /// (no trap, no other kind of value), there is fuel for all the ops it stands for and the
    /// run is plain, it makes the call at once, charging exactly those ops; otherwise it
    /// costs nothing and the ops after it run. So the fuel, and every state a run can stop
    /// in, are the same as without it.
    TailCallInts {
        code: u32,
        args: u32,
        argc: u32,
    },
    Ret,
    List(u32),
    /// Build a record from `shapes[i]`'s fields (values pushed in field order).
    Record(u32),
    Field(u32),
    /// Push field `names[name]` of the record in slot `slot`.
    GetField {
        slot: u32,
        name: u32,
    },
    /// Build variant `index` of `owners[owner]` (None = the option type) from `argc` values.
    Variant {
        owner: u32,
        index: u32,
        argc: u32,
    },
    Bin(BinOp),
    /// `slot op imm`.
    BinLI {
        op: BinOp,
        slot: u32,
        imm: i32,
    },
    /// `slot a op slot b`.
    BinLL {
        op: BinOp,
        a: u32,
        b: u32,
    },
    /// `top op imm`.
    BinI {
        op: BinOp,
        imm: i32,
    },
    Neg,
    Not,
    /// Match the top of the stack (kept) against `pats[pat]`; on success push its bindings,
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

/// One argument of [`Op::TailCallInts`]: how it is computed from the frame's slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntArg {
    /// The Int in a slot.
    Slot(u32),
    Imm(i32),
    /// `slot + imm` (`slot - k` is `slot + -k`: the same result, the same overflows).
    AddLI {
        slot: u32,
        imm: i64,
    },
    /// `slot a + slot b`.
    AddLL {
        a: u32,
        b: u32,
    },
    /// `slot a - slot b`.
    SubLL {
        a: u32,
        b: u32,
    },
    /// `slot op imm`, another Int operation (`* / %`).
    LI {
        op: BinOp,
        slot: u32,
        imm: i32,
    },
    /// `slot a op slot b`, another Int operation.
    LL {
        op: BinOp,
        a: u32,
        b: u32,
    },
}

/// The arguments a [`Op::TailCallInts`] takes at most.
pub const TAIL_INT_ARGS: usize = 4;

/// A clause of a handler table.
#[derive(Clone, Debug)]
pub struct ClauseCode {
    pub effect: CodeHash,
    pub arity: u32,
    pub pc: u32,
}

/// A compiled function or lambda.
#[derive(Clone, Debug)]
pub struct Code {
    /// For messages: the definition's name (or short hash), with `/lambda` for lambdas.
    pub name: String,
    /// The top-level definition this code belongs to (a lambda belongs to the definition
    /// whose body contains it), and that definition's name when known.
    pub def: CodeHash,
    pub def_name: Option<SmolStr>,
    /// A lambda (or a handler clause's code, which lives in its definition's unit).
    pub lambda: bool,
    pub arity: u32,
    pub ops: Vec<Op>,
    /// For each op, the expression id (`tel_hash::core::preorder` index in the definition's
    /// body) of the core expression that emitted it.
    pub exprs: Vec<u32>,
    pub consts: Vec<Value>,
    pub names: Vec<SmolStr>,
    pub shapes: Vec<(Option<CodeHash>, Vec<SmolStr>)>,
    pub owners: Vec<Option<CodeHash>>,
    pub pats: Vec<Pat>,
    pub effects: Vec<CodeHash>,
    pub handlers: Vec<Vec<ClauseCode>>,
    /// The arguments of the [`Op::TailCallInts`] of this code.
    pub int_args: Vec<IntArg>,
}

impl Code {
    fn new(
        name: String,
        def: CodeHash,
        def_name: Option<SmolStr>,
        lambda: bool,
        arity: u32,
    ) -> Code {
        Code {
            name,
            def,
            def_name,
            lambda,
            arity,
            ops: Vec::new(),
            exprs: Vec::new(),
            consts: Vec::new(),
            names: Vec::new(),
            shapes: Vec::new(),
            owners: Vec::new(),
            pats: Vec::new(),
            effects: Vec::new(),
            handlers: Vec::new(),
            int_args: Vec::new(),
        }
    }
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
    /// Checks that `args` fit the entry point: one value per parameter (their types are the
    /// caller's business: `json::decode_args` checks them against the signature).
    pub fn check_entry_args(&self, args: &[crate::Value]) -> Result<(), LoadError> {
        let code = &self.codes[self.entry_code as usize];
        if args.len() == code.arity as usize {
            return Ok(());
        }
        Err(LoadError::EntryArgs {
            name: self
                .names
                .get(&self.entry)
                .map_or_else(|| self.entry.to_string(), |n| n.to_string()),
            expected: code.arity,
            found: args.len(),
        })
    }

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
        if !matches!(&loaded[0].1, CoreDef::Fn { .. }) {
            return Err(LoadError::NotAFunction(entry_name));
        }
        let placeholder = Code::new(String::new(), entry, None, false, 0);
        program.codes = vec![placeholder; fn_code.len()];
        for (hash, def) in &loaded {
            if let CoreDef::Fn { params, body, .. } = def {
                let name = defs.get(hash).and_then(|d| d.name.clone());
                let code =
                    compile_fn(&fn_code, &mut program.codes, *hash, name, params.len(), body)?;
                program.codes[fn_code[hash] as usize] = code;
            }
        }
        program.entry_code = fn_code[&entry];
        // A call of a named function passes exactly its parameters (the checker ensures it
        // for source programs; stored code is checked here, so a frame never reads past its
        // arguments).
        for code in &program.codes {
            for op in &code.ops {
                if let Op::CallDef { code: c, argc } | Op::TailCallDef { code: c, argc } = *op
                    && program.codes[c as usize].arity != argc
                {
                    return Err(LoadError::Arity {
                        def: code.name.clone(),
                        callee: program.codes[c as usize].name.clone(),
                        argc,
                    });
                }
            }
        }
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

/// Compiles a top-level function. Its parameters are slots `0..arity` of its frame; every
/// op records the expression id (`preorder` index in `body`) of the expression it comes from.
fn compile_fn(
    fns: &FxHashMap<CodeHash, u32>,
    codes: &mut Vec<Code>,
    def: CodeHash,
    def_name: Option<SmolStr>,
    arity: usize,
    body: &Expr,
) -> Result<Code, LoadError> {
    let ids: FxHashMap<*const Expr, u32> =
        preorder(body).into_iter().enumerate().map(|(i, e)| (e as *const Expr, i as u32)).collect();
    let name = match &def_name {
        Some(n) => format!("{n} (#{})", def.short()),
        None => format!("#{}", def.short()),
    };
    let code = Code::new(name, def, def_name, false, arity as u32);
    let mut c = Compiler {
        fns,
        codes,
        ids: &ids,
        unit: Unit::new(code, (0..arity as u32).collect(), arity as u32),
        cur: 0,
        error: None,
    };
    c.expr(body, true);
    let code = c.unit.finish();
    match c.error {
        Some(e) => Err(e),
        None => Ok(code),
    }
}

/// The code unit being compiled, with what the compiler tracks statically.
struct Unit {
    code: Code,
    /// De Bruijn scope: `Local(i)` is slot `scope[len - 1 - i]`.
    scope: Vec<u32>,
    /// The stack height (slots and operands, relative to the frame base) at this point.
    height: u32,
    /// The height before each op.
    heights: Vec<u32>,
    /// `handle` and `within` bodies: (first op, last op, where abort or the timeout
    /// continues). Control can leave any op of a body for its target.
    regions: Vec<(u32, u32, u32)>,
}

impl Unit {
    fn new(code: Code, scope: Vec<u32>, height: u32) -> Unit {
        Unit { code, scope, height, heights: Vec::new(), regions: Vec::new() }
    }

    fn finish(mut self) -> Code {
        last_uses(&mut self.code, &self.heights, &self.regions);
        self.code
    }
}

struct Compiler<'a> {
    fns: &'a FxHashMap<CodeHash, u32>,
    codes: &'a mut Vec<Code>,
    ids: &'a FxHashMap<*const Expr, u32>,
    unit: Unit,
    /// The expression id of the expression being compiled.
    cur: u32,
    error: Option<LoadError>,
}

/// Whether `op` is an arithmetic or comparison operator (what the fused ops take).
fn fusable(op: BinOp) -> bool {
    !matches!(op, BinOp::Concat | BinOp::And | BinOp::Or)
}

fn comparison(op: BinOp) -> bool {
    matches!(op, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
}

fn small_int(e: &Expr) -> Option<i32> {
    match e {
        Expr::Lit(Lit::Int(i)) => i32::try_from(*i).ok(),
        _ => None,
    }
}

impl Compiler<'_> {
    fn emit(&mut self, op: Op) -> usize {
        let u = &mut self.unit;
        u.heights.push(u.height);
        u.code.ops.push(op);
        u.code.exprs.push(self.cur);
        let delta: i64 = match op {
            Op::Const(_)
            | Op::Int(_)
            | Op::Get(_)
            | Op::Move(_)
            | Op::Def(_)
            | Op::Builtin(_)
            | Op::BinLI { .. }
            | Op::BinLL { .. }
            | Op::GetField { .. } => 1,
            Op::Slide(n) | Op::PopN(n) => -i64::from(n),
            Op::Pop | Op::JumpIfFalse(_) | Op::Bin(_) | Op::Within { .. } => -1,
            Op::JumpUnless { .. } => -2,
            Op::Closure { captures: n, .. } | Op::List(n) => 1 - i64::from(n),
            Op::Call(argc) | Op::TailCall(argc) => -i64::from(argc),
            Op::CallDef { argc, .. }
            | Op::TailCallDef { argc, .. }
            | Op::CallBuiltin { argc, .. }
            | Op::Variant { argc, .. }
            | Op::Perform { argc, .. } => 1 - i64::from(argc),
            Op::Record(s) => 1 - u.code.shapes[s as usize].1.len() as i64,
            Op::Match { pat, .. } => i64::from(binds(&u.code.pats[pat as usize])),
            // Ret, Resume and Abort end the path; counting them as "the value stays" keeps
            // the heights of the (dead) code after them consistent.
            Op::Ret
            | Op::Resume
            | Op::Abort
            | Op::Jump(_)
            | Op::JumpUnlessLI { .. }
            | Op::JumpUnlessLL { .. }
            | Op::Field(_)
            | Op::BinI { .. }
            | Op::Neg
            | Op::Not
            | Op::NoMatch
            | Op::Handle { .. }
            | Op::TailCallInts { .. }
            | Op::PopMark => 0,
        };
        u.height = (i64::from(u.height) + delta).max(0) as u32;
        u.code.ops.len() - 1
    }

    /// How [`Op::TailCallInts`] computes `args`, when each is an Int operation of a local
    /// and a local or a small constant, a local, or a small constant (the common arguments
    /// of a loop written as a self tail call), and at least one is an operation.
    fn int_args(&mut self, args: &[Expr]) -> Option<Vec<IntArg>> {
        if args.len() > TAIL_INT_ARGS {
            return None;
        }
        let arith = |op: BinOp| {
            matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem)
        };
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            out.push(match a {
                Expr::Local(i) => IntArg::Slot(self.slot(*i)),
                e if small_int(e).is_some() => IntArg::Imm(small_int(e)?),
                Expr::Binary { op, lhs, rhs } if arith(*op) => match (&**lhs, &**rhs) {
                    (Expr::Local(a), r) if small_int(r).is_some() => {
                        let (slot, imm) = (self.slot(*a), small_int(r)?);
                        match op {
                            BinOp::Add => IntArg::AddLI { slot, imm: i64::from(imm) },
                            BinOp::Sub => IntArg::AddLI { slot, imm: -i64::from(imm) },
                            op => IntArg::LI { op: *op, slot, imm },
                        }
                    }
                    (Expr::Local(a), Expr::Local(b)) => {
                        let (a, b) = (self.slot(*a), self.slot(*b));
                        match op {
                            BinOp::Add => IntArg::AddLL { a, b },
                            BinOp::Sub => IntArg::SubLL { a, b },
                            op => IntArg::LL { op: *op, a, b },
                        }
                    }
                    _ => return None,
                },
                _ => return None,
            });
        }
        out.iter().any(|a| !matches!(a, IntArg::Slot(_) | IntArg::Imm(_))).then_some(out)
    }

    fn here(&self) -> u32 {
        self.unit.code.ops.len() as u32
    }

    fn patch(&mut self, at: usize, to: u32) {
        match &mut self.unit.code.ops[at] {
            Op::Jump(t)
            | Op::JumpIfFalse(t)
            | Op::JumpUnless { target: t, .. }
            | Op::JumpUnlessLI { target: t, .. }
            | Op::JumpUnlessLL { target: t, .. } => *t = to,
            Op::Match { fail, .. } => *fail = to,
            Op::Handle { end, .. } => *end = to,
            Op::Within { fallback } => *fallback = to,
            op => unreachable!("patching {op:?}"),
        }
    }

    /// The slot of `Local(i)`.
    fn slot(&mut self, i: u32) -> u32 {
        let scope = &self.unit.scope;
        match (scope.len() as u32).checked_sub(i + 1).map(|k| scope[k as usize]) {
            Some(s) if s != u32::MAX => s,
            _ => {
                self.error.get_or_insert(LoadError::BadLocal {
                    def: self.unit.code.name.clone(),
                    index: i,
                });
                0
            }
        }
    }

    fn konst(&mut self, v: Value) {
        if let Value::Int(i) = v
            && let Ok(i) = i32::try_from(i)
        {
            self.emit(Op::Int(i));
            return;
        }
        let i = self.unit.code.consts.len() as u32;
        self.unit.code.consts.push(v);
        self.emit(Op::Const(i));
    }

    fn name(&mut self, name: &SmolStr) -> u32 {
        self.unit.code.names.push(name.clone());
        self.unit.code.names.len() as u32 - 1
    }

    fn owner(&mut self, owner: &VariantOwner) -> u32 {
        let o = match owner {
            VariantOwner::Option => None,
            VariantOwner::Enum(r) => Some(hash_of(r)),
        };
        self.unit.code.owners.push(o);
        self.unit.code.owners.len() as u32 - 1
    }

    fn effect(&mut self, r: &CodeHash) -> u32 {
        self.unit.code.effects.push(*r);
        self.unit.code.effects.len() as u32 - 1
    }

    fn ret(&mut self, tail: bool) {
        if tail {
            self.emit(Op::Ret);
        }
    }

    /// Compiles `e`, leaving its value on the stack; in tail position the code returns it
    /// (a call in tail position replaces the frame).
    fn expr(&mut self, e: &Expr, tail: bool) {
        let saved = self.cur;
        self.cur = self.ids.get(&(e as *const Expr)).copied().unwrap_or(saved);
        self.expr_inner(e, tail);
        self.cur = saved;
    }

    fn expr_inner(&mut self, e: &Expr, tail: bool) {
        match e {
            Expr::Local(i) => {
                let s = self.slot(*i);
                self.emit(Op::Get(s));
                self.ret(tail);
            }
            Expr::Ref(Ref::Builtin(b)) => {
                self.emit(Op::Builtin(*b));
                self.ret(tail);
            }
            Expr::Ref(r) => {
                // The checker only lets functions be values; anything else traps when used.
                let code = self.fns.get(&hash_of(r)).copied().unwrap_or(u32::MAX);
                self.emit(Op::Def(code));
                self.ret(tail);
            }
            Expr::Lit(l) => {
                self.konst(lit_value(l));
                self.ret(tail);
            }
            Expr::Call { callee, args } => {
                let argc = args.len() as u32;
                match &**callee {
                    Expr::Ref(Ref::Builtin(b)) => {
                        args.iter().for_each(|a| self.expr(a, false));
                        self.emit(Op::CallBuiltin { builtin: *b, argc });
                        self.ret(tail);
                    }
                    Expr::Ref(r) if self.fns.contains_key(&hash_of(r)) => {
                        let code = self.fns[&hash_of(r)];
                        if tail && let Some(recipes) = self.int_args(args) {
                            let at = self.unit.code.int_args.len() as u32;
                            self.unit.code.int_args.extend(recipes);
                            self.emit(Op::TailCallInts { code, args: at, argc });
                        }
                        args.iter().for_each(|a| self.expr(a, false));
                        if tail {
                            self.emit(Op::TailCallDef { code, argc });
                            self.emit(Op::Ret);
                        } else {
                            self.emit(Op::CallDef { code, argc });
                        }
                    }
                    _ => {
                        self.expr(callee, false);
                        args.iter().for_each(|a| self.expr(a, false));
                        if tail {
                            self.emit(Op::TailCall(argc));
                            self.emit(Op::Ret);
                        } else {
                            self.emit(Op::Call(argc));
                        }
                    }
                }
            }
            Expr::Lambda { params, body, .. } => {
                self.lambda(params.len() as u32, body);
                self.ret(tail);
            }
            Expr::Let { value, body, .. } => {
                self.expr(value, false);
                let slot = self.unit.height - 1;
                self.unit.scope.push(slot);
                self.expr(body, tail);
                self.unit.scope.pop();
                if !tail {
                    self.emit(Op::Slide(1));
                }
            }
            Expr::Seq { first, then } => {
                self.expr(first, false);
                self.emit(Op::Pop);
                self.expr(then, tail);
            }
            Expr::If { cond, then, else_ } => {
                let h = self.unit.height;
                let j = self.cond_jump(cond);
                self.expr(then, tail);
                let end = (!tail).then(|| self.emit(Op::Jump(0)));
                let here = self.here();
                self.patch(j, here);
                self.unit.height = h;
                self.expr(else_, tail);
                if let Some(end) = end {
                    let here = self.here();
                    self.patch(end, here);
                }
            }
            Expr::Match { scrutinee, arms } => {
                self.expr(scrutinee, false);
                let h = self.unit.height;
                let mut ends = Vec::new();
                for arm in arms {
                    let n = binds(&arm.pat);
                    self.unit.code.pats.push(arm.pat.clone());
                    let pat = self.unit.code.pats.len() as u32 - 1;
                    let m = self.emit(Op::Match { pat, fail: 0 });
                    let scope_len = self.unit.scope.len();
                    self.unit.scope.extend(h..h + n);
                    let guard_fail = arm.guard.as_ref().map(|g| self.cond_jump(g));
                    self.expr(&arm.body, tail);
                    if !tail {
                        self.emit(Op::Slide(n + 1));
                        ends.push(self.emit(Op::Jump(0)));
                    }
                    self.unit.scope.truncate(scope_len);
                    if let Some(gf) = guard_fail {
                        let here = self.here();
                        self.patch(gf, here);
                        self.unit.height = h + n;
                        if n > 0 {
                            self.emit(Op::PopN(n));
                        }
                    }
                    let here = self.here();
                    self.patch(m, here);
                    self.unit.height = h;
                }
                self.emit(Op::NoMatch);
                let here = self.here();
                ends.into_iter().for_each(|e| self.patch(e, here));
            }
            Expr::Record { ty, fields } => {
                fields.iter().for_each(|(_, e)| self.expr(e, false));
                let names = fields.iter().map(|(n, _)| n.clone()).collect();
                self.unit.code.shapes.push((ty.as_ref().map(hash_of), names));
                self.emit(Op::Record(self.unit.code.shapes.len() as u32 - 1));
                self.ret(tail);
            }
            Expr::Field { expr, name } => {
                let name = self.name(name);
                if let Expr::Local(i) = &**expr {
                    let slot = self.slot(*i);
                    self.emit(Op::GetField { slot, name });
                } else {
                    self.expr(expr, false);
                    self.emit(Op::Field(name));
                }
                self.ret(tail);
            }
            Expr::List(xs) => {
                xs.iter().for_each(|x| self.expr(x, false));
                self.emit(Op::List(xs.len() as u32));
                self.ret(tail);
            }
            Expr::Variant { owner, index, args } => {
                args.iter().for_each(|a| self.expr(a, false));
                let owner = self.owner(owner);
                self.emit(Op::Variant { owner, index: *index, argc: args.len() as u32 });
                self.ret(tail);
            }
            Expr::Binary { op: BinOp::And, lhs, rhs } => {
                let h = self.unit.height;
                let j = self.cond_jump(lhs);
                self.expr(rhs, false);
                let end = self.emit(Op::Jump(0));
                let here = self.here();
                self.patch(j, here);
                self.unit.height = h;
                self.konst(Value::Bool(false));
                let here = self.here();
                self.patch(end, here);
                self.ret(tail);
            }
            Expr::Binary { op: BinOp::Or, lhs, rhs } => {
                let h = self.unit.height;
                let j = self.cond_jump(lhs);
                self.konst(Value::Bool(true));
                let end = self.emit(Op::Jump(0));
                let here = self.here();
                self.patch(j, here);
                self.unit.height = h;
                self.expr(rhs, false);
                let here = self.here();
                self.patch(end, here);
                self.ret(tail);
            }
            Expr::Binary { op, lhs, rhs } => {
                let op = *op;
                match (&**lhs, small_int(rhs)) {
                    (Expr::Local(a), Some(imm)) if fusable(op) => {
                        let slot = self.slot(*a);
                        self.emit(Op::BinLI { op, slot, imm });
                    }
                    (Expr::Local(a), None) if fusable(op) && matches!(**rhs, Expr::Local(_)) => {
                        let Expr::Local(b) = **rhs else { unreachable!() };
                        let (a, b) = (self.slot(*a), self.slot(b));
                        self.emit(Op::BinLL { op, a, b });
                    }
                    (_, Some(imm)) if fusable(op) => {
                        self.expr(lhs, false);
                        self.emit(Op::BinI { op, imm });
                    }
                    _ => {
                        self.expr(lhs, false);
                        self.expr(rhs, false);
                        self.emit(Op::Bin(op));
                    }
                }
                self.ret(tail);
            }
            Expr::Unary { op, expr } => {
                self.expr(expr, false);
                self.emit(match op {
                    UnOp::Neg => Op::Neg,
                    UnOp::Not => Op::Not,
                });
                self.ret(tail);
            }
            Expr::Perform { effect, args } => {
                args.iter().for_each(|a| self.expr(a, false));
                let effect = self.effect(&hash_of(effect));
                self.emit(Op::Perform { effect, argc: args.len() as u32 });
                self.ret(tail);
            }
            Expr::Handle { body, clauses } => {
                let h = self.unit.height;
                let table = self.unit.code.handlers.len() as u32;
                self.unit.code.handlers.push(Vec::new());
                let handle = self.emit(Op::Handle { table, end: 0 });
                self.expr(body, false);
                let pop = self.emit(Op::PopMark);
                let mut ends = vec![self.emit(Op::Jump(0))];
                for clause in clauses {
                    // A clause runs in a frame of its own: a copy of this frame's `h` slots,
                    // then the operation's arguments.
                    let pc = self.here();
                    self.unit.code.handlers[table as usize].push(ClauseCode {
                        effect: hash_of(&clause.effect),
                        arity: clause.arity,
                        pc,
                    });
                    self.unit.height = h + clause.arity;
                    let scope_len = self.unit.scope.len();
                    self.unit.scope.extend(h..h + clause.arity);
                    self.expr(&clause.body, false);
                    self.emit(Op::Resume);
                    self.unit.scope.truncate(scope_len);
                    ends.push(self.emit(Op::Jump(0)));
                }
                let end = self.here();
                self.patch(handle, end);
                ends.into_iter().for_each(|e| self.patch(e, end));
                self.unit.regions.push((handle as u32 + 1, pop as u32, end));
                self.unit.height = h + 1;
                self.ret(tail);
            }
            Expr::Resume(v) => {
                self.expr(v, false);
                self.emit(Op::Resume);
            }
            Expr::Abort(v) => {
                self.expr(v, false);
                self.emit(Op::Abort);
            }
            Expr::Within { deadline, body, fallback } => {
                self.expr(deadline, false);
                let h = self.unit.height - 1;
                let w = self.emit(Op::Within { fallback: 0 });
                self.expr(body, false);
                let pop = self.emit(Op::PopMark);
                let end = self.emit(Op::Jump(0));
                let here = self.here();
                self.patch(w, here);
                self.unit.regions.push((w as u32 + 1, pop as u32, here));
                self.unit.height = h;
                self.expr(fallback, false);
                let here = self.here();
                self.patch(end, here);
                self.ret(tail);
            }
            Expr::After { delay, body } => {
                // Exactly `{ perform Sleep(delay); body }` (language.md §9.2).
                self.expr(delay, false);
                let effect = self.effect(&HostEffect::Sleep.hash());
                self.emit(Op::Perform { effect, argc: 1 });
                self.emit(Op::Pop);
                self.expr(body, tail);
            }
        }
    }

    /// Compiles a condition and a jump taken when it is false; returns the jump to patch.
    /// A comparison jumps directly on its operands.
    fn cond_jump(&mut self, cond: &Expr) -> usize {
        let saved = self.cur;
        self.cur = self.ids.get(&(cond as *const Expr)).copied().unwrap_or(saved);
        let j = match cond {
            Expr::Binary { op, lhs, rhs } if comparison(*op) => {
                let op = *op;
                match (&**lhs, &**rhs, small_int(rhs)) {
                    (Expr::Local(a), _, Some(imm)) => {
                        let slot = self.slot(*a);
                        self.emit(Op::JumpUnlessLI { op, slot, imm, target: 0 })
                    }
                    (Expr::Local(a), Expr::Local(b), _) => {
                        let (a, b) = (self.slot(*a), self.slot(*b));
                        self.emit(Op::JumpUnlessLL { op, a, b, target: 0 })
                    }
                    _ => {
                        self.expr(lhs, false);
                        self.expr(rhs, false);
                        self.emit(Op::JumpUnless { op, target: 0 })
                    }
                }
            }
            _ => {
                self.expr(cond, false);
                self.emit(Op::JumpIfFalse(0))
            }
        };
        self.cur = saved;
        j
    }

    /// A lambda is a code unit of its own whose frame holds its parameters, then the values
    /// it captures: only the enclosing locals its body uses, copied when the closure is made.
    fn lambda(&mut self, arity: u32, body: &Expr) {
        let mut free = std::collections::BTreeSet::new();
        free_locals(body, arity, &mut free);
        let captures: Vec<u32> = free.into_iter().collect();
        let outer = captures.last().map_or(0, |f| f + 1);
        let mut scope = vec![u32::MAX; outer as usize];
        for (j, f) in captures.iter().enumerate() {
            scope[(outer - 1 - f) as usize] = arity + j as u32;
        }
        scope.extend(0..arity);
        let enclosing = &self.unit.code;
        let name = format!("{}/lambda", enclosing.name);
        let code = Code::new(name, enclosing.def, enclosing.def_name.clone(), true, arity);
        let height = arity + captures.len() as u32;
        let outer_unit = std::mem::replace(&mut self.unit, Unit::new(code, scope, height));
        self.expr(body, true);
        let lambda = std::mem::replace(&mut self.unit, outer_unit).finish();
        let id = self.codes.len() as u32;
        self.codes.push(lambda);
        for f in &captures {
            let s = self.slot(*f);
            self.emit(Op::Get(s));
        }
        self.emit(Op::Closure { code: id, captures: captures.len() as u32 });
    }
}

/// The locals of the enclosing scopes that `e` uses, as de Bruijn indices seen from outside
/// `e` (`depth` binders are in scope inside `e` that are not outside).
fn free_locals(e: &Expr, depth: u32, out: &mut std::collections::BTreeSet<u32>) {
    match e {
        Expr::Local(i) if *i >= depth => {
            out.insert(i - depth);
        }
        Expr::Lambda { params, body, .. } => free_locals(body, depth + params.len() as u32, out),
        Expr::Let { value, body, .. } => {
            free_locals(value, depth, out);
            free_locals(body, depth + 1, out);
        }
        Expr::Match { scrutinee, arms } => {
            free_locals(scrutinee, depth, out);
            for arm in arms {
                let n = depth + binds(&arm.pat);
                if let Some(g) = &arm.guard {
                    free_locals(g, n, out);
                }
                free_locals(&arm.body, n, out);
            }
        }
        Expr::Handle { body, clauses } => {
            free_locals(body, depth, out);
            for c in clauses {
                free_locals(&c.body, depth + c.arity, out);
            }
        }
        e => e.children().into_iter().for_each(|c| free_locals(c, depth, out)),
    }
}

/// Turns every `Get` that is the last read of its slot on all paths into a `Move`. All jumps
/// of a unit go forward, so one backward sweep computes liveness. A `handle` or `within`
/// body may be left from any op for the abort or timeout target, so what is live there is
/// live throughout the body. A `Handle` copies every slot (the clauses' environment).
fn last_uses(code: &mut Code, heights: &[u32], regions: &[(u32, u32, u32)]) {
    let n = code.ops.len();
    let width = heights.iter().copied().max().unwrap_or(0) as usize + 1;
    let words = width.div_ceil(64);
    let mut live_in = vec![0u64; n * words];
    let mut live = vec![0u64; words];
    let set = |live: &mut [u64], s: u32| {
        let s = s as usize;
        if s < width {
            live[s / 64] |= 1 << (s % 64);
        }
    };
    let clear = |live: &mut [u64], from: u32, to: u32| {
        for s in from..to.min(width as u32) {
            live[s as usize / 64] &= !(1 << (s % 64));
        }
    };
    for pc in (0..n).rev() {
        live.iter_mut().for_each(|w| *w = 0);
        let union = |live: &mut [u64], target: usize| {
            if target < n {
                let from = &live_in[target * words..(target + 1) * words];
                live.iter_mut().zip(from).for_each(|(a, b)| *a |= b);
            }
        };
        let op = code.ops[pc];
        let falls = !matches!(op, Op::Jump(_) | Op::Ret | Op::Resume | Op::Abort | Op::NoMatch);
        if falls {
            union(&mut live, pc + 1);
        }
        match op {
            Op::Jump(t)
            | Op::JumpIfFalse(t)
            | Op::JumpUnless { target: t, .. }
            | Op::JumpUnlessLI { target: t, .. }
            | Op::JumpUnlessLL { target: t, .. }
            | Op::Match { fail: t, .. } => union(&mut live, t as usize),
            _ => {}
        }
        for &(first, last, target) in regions {
            if (first..=last).contains(&(pc as u32)) {
                union(&mut live, target as usize);
            }
        }
        let h = heights[pc];
        match op {
            Op::Get(s) => {
                if live[s as usize / 64] & (1 << (s % 64)) == 0 {
                    code.ops[pc] = Op::Move(s);
                }
                set(&mut live, s);
            }
            Op::Slide(k) => clear(&mut live, h.saturating_sub(k + 1), h.saturating_sub(1)),
            Op::PopN(k) => clear(&mut live, h.saturating_sub(k), h),
            Op::BinLI { slot, .. } | Op::GetField { slot, .. } | Op::JumpUnlessLI { slot, .. } => {
                set(&mut live, slot)
            }
            Op::BinLL { a, b, .. } | Op::JumpUnlessLL { a, b, .. } => {
                set(&mut live, a);
                set(&mut live, b);
            }
            Op::Handle { .. } => (0..h).for_each(|s| set(&mut live, s)),
            _ => {}
        }
        live_in[pc * words..(pc + 1) * words].copy_from_slice(&live);
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
