//! Signature help: inside the argument list of a call (or of `perform Effect(…)`), the
//! callee's signature with the parameter the cursor is on.
//!
//! Works on the tree as it is: the parser keeps an argument list whose `)` is not typed yet,
//! so the call being written is found all the same.

use tel_hash::core::Builtin;
use tel_hir::def_map::VariantOwner;
use tel_hir::{DefRef, HirDatabase, Signature, Ty};
use tel_syntax::{SyntaxKind, SyntaxNode, TextRange, TextSize};

use super::target::{FileCtx, Target, segment_tokens, top_level_item};
use crate::queries;
use crate::{Analysis, Cancellable, FileId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHelp {
    /// `fee(amount: Int, side: Side) -> Int ! {Log}`, `perform Log(message: String) -> ()`.
    pub label: String,
    /// Where each parameter is in `label` (byte offsets).
    pub parameters: Vec<TextRange>,
    /// The parameter the cursor is on; `None` past the last one (too many arguments).
    pub active_parameter: Option<usize>,
    /// Markdown: the callee's doc comment.
    pub documentation: Option<String>,
}

/// A builtin's parameters and what follows them, as docs/language.md §8.3 writes them (they
/// are the only generic functions, which `Signature` cannot express).
pub fn builtin_parts(b: Builtin) -> (&'static [&'static str], &'static str) {
    match b {
        Builtin::Show => (&["x: T"], " -> String"),
        Builtin::Len => (&["xs: List<T>"], " -> Int"),
        Builtin::Map => (&["xs: List<A>", "f: fn(A) -> B"], " -> List<B>"),
        Builtin::Filter => (&["xs: List<A>", "f: fn(A) -> Bool"], " -> List<A>"),
        Builtin::Fold => (&["xs: List<A>", "init: B", "f: fn(B, A) -> B"], " -> B"),
        Builtin::Get => (&["m: Map<K, V>", "k: K"], " -> V?"),
        Builtin::Insert => (&["m: Map<K, V>", "k: K", "v: V"], " -> Map<K, V>"),
        Builtin::EmptyMap => (&[], " -> Map<K, V>"),
        Builtin::Keys => (&["m: Map<K, V>"], " -> List<K>"),
        Builtin::Now => (&[], " -> Int ! {Now}"),
    }
}

/// `head(p1, p2)tail`, with each parameter's range.
fn label(head: &str, params: &[String], tail: &str) -> (String, Vec<TextRange>) {
    let mut out = format!("{head}(");
    let mut ranges = Vec::with_capacity(params.len());
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let start = TextSize::of(out.as_str());
        out.push_str(p);
        ranges.push(TextRange::at(start, TextSize::of(p.as_str())));
    }
    out.push(')');
    out.push_str(tail);
    (out, ranges)
}

fn row(effects: &tel_hir::ty::EffectSet) -> String {
    if effects.is_empty() {
        String::new()
    } else {
        format!(" ! {}", tel_hir::ty::DisplayEffects(effects))
    }
}

fn named(params: &[(smol_str::SmolStr, Ty)]) -> Vec<String> {
    params.iter().map(|(n, t)| format!("{n}: {t}")).collect()
}

impl Analysis {
    /// The signature of the call whose argument list holds `offset`.
    pub fn signature_help(
        &self,
        file: FileId,
        offset: TextSize,
    ) -> Cancellable<Option<SignatureHelp>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            // In the blanks after `fee(1,` whose `)` is not typed yet, the tree has already
            // closed the argument list: start from the last token before the cursor.
            let mut token = ctx.root.token_at_offset(offset).left_biased()?;
            while token.kind().is_trivia() {
                token = token.prev_token()?;
            }
            let args = token
                .parent_ancestors()
                .find(|n| n.kind() == SyntaxKind::ARG_LIST && inside_parens(n, offset))?;
            let commas = args
                .children_with_tokens()
                .filter(|e| e.kind() == SyntaxKind::COMMA && e.text_range().end() <= offset)
                .count();
            let call = args.parent()?;
            let (label, parameters, documentation) = match call.kind() {
                SyntaxKind::PERFORM_EXPR => self.effect_signature(&ctx, &call)?,
                SyntaxKind::CALL_EXPR => self.callee_signature(&ctx, &call)?,
                _ => return None,
            };
            let active_parameter = (commas < parameters.len()).then_some(commas);
            Some(SignatureHelp { label, parameters, active_parameter, documentation })
        })
    }

    fn effect_signature(
        &self,
        ctx: &FileCtx<'_>,
        perform: &SyntaxNode,
    ) -> Option<(String, Vec<TextRange>, Option<String>)> {
        let name = perform
            .children()
            .find(|n| n.kind() == SyntaxKind::PATH)
            .and_then(|p| segment_tokens(&p).pop())
            .or_else(|| {
                perform
                    .children_with_tokens()
                    .filter_map(|e| e.into_token())
                    .find(|t| t.kind() == SyntaxKind::HASH)
            })?;
        let found = ctx.classify(&name)?;
        let Target::Def(def, _) = &found.target else { return None };
        let Signature::Effect(sig) = &*ctx.hir().signature(def)? else { return None };
        let (text, ranges) = label(
            &format!("perform {}", def.display_name()),
            &named(&sig.params),
            &format!(" -> {}", sig.ret),
        );
        Some((text, ranges, self.def_doc(ctx, def)))
    }

    fn callee_signature(
        &self,
        ctx: &FileCtx<'_>,
        call: &SyntaxNode,
    ) -> Option<(String, Vec<TextRange>, Option<String>)> {
        let callee = call.first_child()?;
        let target = match callee.kind() {
            SyntaxKind::PATH_EXPR => {
                segment_tokens(&callee).pop().and_then(|t| ctx.classify(&t)).map(|f| f.target)
            }
            SyntaxKind::HASH_EXPR => callee
                .children_with_tokens()
                .filter_map(|e| e.into_token())
                .find(|t| t.kind() == SyntaxKind::HASH)
                .and_then(|t| ctx.classify(&t))
                .map(|f| f.target),
            _ => None,
        };
        let hir = ctx.hir();
        match target {
            Some(Target::Def(def, _)) => match &*hir.signature(&def)? {
                Signature::Fn(sig) => {
                    let tail = format!(" -> {}{}", sig.ret, row(&sig.effects));
                    let (text, ranges) = label(&def.display_name(), &named(&sig.params), &tail);
                    Some((text, ranges, self.def_doc(ctx, &def)))
                }
                _ => None,
            },
            Some(Target::Builtin(b)) => {
                let (params, tail) = builtin_parts(b);
                let params: Vec<String> = params.iter().map(|p| (*p).to_owned()).collect();
                let (text, ranges) = label(b.name(), &params, tail);
                Some((text, ranges, None))
            }
            Some(Target::Variant(v)) => {
                let (owner, fields) = match &v.owner {
                    VariantOwner::Option => ("T?".to_owned(), vec!["T".to_owned()]),
                    VariantOwner::Enum(e) => match hir.signature(e).as_deref() {
                        Some(Signature::Enum(sig)) => (
                            e.display_name(),
                            sig.variants
                                .get(v.index as usize)?
                                .1
                                .iter()
                                .map(Ty::to_string)
                                .collect(),
                        ),
                        _ => return None,
                    },
                };
                let (text, ranges) = label(&format!("{owner}::{}", v.name), &fields, "");
                Some((text, ranges, None))
            }
            // A local of function type, or any other callee: the type inference gave it.
            _ => {
                let item = top_level_item(&call.first_token()?)?;
                let owner = ctx.item_def(&item)?;
                let loc = ctx.def_loc(owner);
                let (_, sm) = queries::body_with_source_map(ctx.db, loc).as_ref()?;
                let expr = sm.expr_at(callee.text_range())?;
                let inferred = queries::infer(ctx.db, loc)?;
                let Ty::Fn(f) = inferred.type_of_expr(expr) else { return None };
                let params: Vec<String> = f.params.iter().map(Ty::to_string).collect();
                let tail = format!(" -> {}{}", f.ret, row(&f.effects));
                let (text, ranges) = label(&callee.text().to_string(), &params, &tail);
                Some((text, ranges, None))
            }
        }
    }

    fn def_doc(&self, ctx: &FileCtx<'_>, def: &DefRef) -> Option<String> {
        match def {
            DefRef::Def(d) => self.doc_comment(ctx.db, ctx.file, d),
            DefRef::Hash(_) => None,
        }
    }
}

/// Whether `offset` is between an argument list's `(` and its `)` (or its end, when the `)`
/// is not typed yet).
fn inside_parens(args: &SyntaxNode, offset: TextSize) -> bool {
    let mut tokens = args.children_with_tokens().filter_map(|e| e.into_token());
    let Some(open) = tokens.find(|t| t.kind() == SyntaxKind::L_PAREN) else { return false };
    if offset < open.text_range().end() {
        return false;
    }
    match args
        .children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.kind() == SyntaxKind::R_PAREN)
    {
        Some(close) => offset <= close.text_range().start(),
        None => true,
    }
}
