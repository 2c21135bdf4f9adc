//! The layout rules: the syntax tree, node by node, as builder commands.
//!
//! The tree is walked on its green nodes (no cursor allocation). Most nodes are laid out
//! by one generic rule, [`Builder::seq`]: their parts in order, separated by a space
//! unless punctuation says otherwise, with every bracketed list handed to
//! [`Builder::list`]. The nodes with a layout of their own are blocks and the block-like
//! expressions, operator chains, lambdas and match arms.

use rowan::{Children, GreenNodeData, NodeOrToken};

use super::builder::Builder;
use super::doc::{Cmd, GroupKind};
use crate::SyntaxKind::{self, *};

/// A significant child of a node: a node, or a token of which only the kind matters (its
/// text and comments come from the token table).
#[derive(Clone, Copy)]
enum El<'g> {
    Node(&'g GreenNodeData),
    Tok(SyntaxKind),
}

fn kind_of(raw: rowan::SyntaxKind) -> SyntaxKind {
    SyntaxKind::from_raw(raw.0).unwrap_or(ERROR)
}

impl El<'_> {
    fn kind(self) -> SyntaxKind {
        match self {
            El::Node(n) => kind_of(n.kind()),
            El::Tok(k) => k,
        }
    }
}

/// The significant children of a node, in order.
#[derive(Clone)]
struct Kids<'g>(Children<'g>);

impl<'g> Iterator for Kids<'g> {
    type Item = El<'g>;

    fn next(&mut self) -> Option<El<'g>> {
        loop {
            match self.0.next()? {
                NodeOrToken::Node(n) => return Some(El::Node(n)),
                NodeOrToken::Token(t) => {
                    let kind = kind_of(t.kind());
                    if !kind.is_trivia() {
                        return Some(El::Tok(kind));
                    }
                }
            }
        }
    }
}

fn kids(node: &GreenNodeData) -> Kids<'_> {
    Kids(node.children())
}

fn node_kind(node: &GreenNodeData) -> SyntaxKind {
    kind_of(node.kind())
}

/// Where an expression stands: a statement (or a function body) lays its blocks out on
/// lines of their own; elsewhere a short block-like expression may stay on one line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    Stmt,
    Expr,
}

/// How a bracketed list is laid out.
#[derive(Clone, Copy)]
enum ListGroup {
    /// Never breaks: `<A, B>`, `! {E}`, `|a, b|`, `Op(a, b)`.
    Inline,
    /// Its own group of this kind.
    Own(GroupKind),
}

#[derive(Clone, Copy)]
struct ListStyle {
    group: ListGroup,
    /// Flat, a space inside the delimiters: `{ a: 1 }` rather than `(a)`.
    pad: bool,
    /// Keep blank lines between elements (at most one).
    blank_lines: bool,
}

fn closer(open: SyntaxKind) -> SyntaxKind {
    match open {
        L_PAREN => R_PAREN,
        L_CURLY => R_CURLY,
        L_BRACK => R_BRACK,
        LT => GT,
        _ => open, // `|`
    }
}

fn is_opener(kind: SyntaxKind) -> bool {
    matches!(kind, L_PAREN | L_CURLY | L_BRACK | LT | PIPE)
}

/// Whether `seq` puts a space between parts of kinds `prev` and `next`.
fn space_between(prev: SyntaxKind, next: SyntaxKind) -> bool {
    let glued_to_prev = matches!(
        next,
        COLON
            | COMMA
            | SEMICOLON
            | QUESTION
            | DOT
            | COLON2
            | L_PAREN
            | R_PAREN
            | R_BRACK
            | GT
            | ARG_LIST
            | PARAM_LIST
            | CLAUSE_PARAMS
            | VARIANT_FIELDS
            | GENERIC_ARGS
            | USE_TREE
    );
    let glued_to_next = matches!(prev, COLON2 | DOT | L_PAREN | L_BRACK | LT);
    !(glued_to_prev || glued_to_next)
}

/// Nodes whose parts are written without spaces: `a::b`, `-x`, `(e)`, `Int?`.
fn is_glued(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        NAME | NAME_REF
            | PATH
            | PATH_EXPR
            | PATH_TYPE
            | LITERAL
            | HASH_EXPR
            | HASH_REF
            | UNIT_EXPR
            | UNIT_TYPE
            | PAREN_EXPR
            | PAREN_TYPE
            | PREFIX_EXPR
            | OPTION_TYPE
            | WILDCARD_PAT
            | BIND_PAT
            | LITERAL_PAT
    )
}

fn is_block_like(kind: SyntaxKind) -> bool {
    matches!(kind, BLOCK_EXPR | IF_EXPR | MATCH_EXPR | HANDLE_EXPR | WITHIN_EXPR | AFTER_EXPR)
}

/// Whether a block has statements (not just a final expression).
fn has_statements(block: &GreenNodeData) -> bool {
    kids(block).any(|k| matches!(k.kind(), LET_STMT | EXPR_STMT))
}

/// The last node child of `node`.
fn last_node(node: &GreenNodeData) -> Option<&GreenNodeData> {
    kids(node)
        .filter_map(|k| match k {
            El::Node(n) => Some(n),
            El::Tok(_) => None,
        })
        .last()
}

/// Whether an argument list can hug its last argument: `f(a, |x| {` … `})`.
fn hugs_last_argument(args: &GreenNodeData) -> bool {
    let mut count = 0;
    let mut last = None;
    for k in kids(args) {
        if let El::Node(n) = k {
            count += 1;
            last = Some(n);
        }
    }
    last.is_some_and(|n| huggable(n, count == 1))
}

/// Expressions whose first possible line break comes right after an opening brace.
fn huggable(node: &GreenNodeData, alone: bool) -> bool {
    match node_kind(node) {
        BLOCK_EXPR | MATCH_EXPR | HANDLE_EXPR | RECORD_EXPR | IF_EXPR | WITHIN_EXPR
        | AFTER_EXPR => true,
        LIST_EXPR => alone,
        LAMBDA_EXPR => last_node(node).is_some_and(|body| huggable(body, false)),
        CALL_EXPR | PERFORM_EXPR => {
            kids(node).find_map(|k| match k {
                El::Node(n) if node_kind(n) == ARG_LIST => Some(n),
                _ => None,
            })
        }
        .is_some_and(hugs_last_argument),
        _ => false,
    }
}

/// Arm and clause bodies that start on the line of their `=>` even when they break.
fn stays_on_arrow_line(kind: SyntaxKind) -> bool {
    is_block_like(kind)
        || matches!(
            kind,
            RECORD_EXPR
                | LIST_EXPR
                | CALL_EXPR
                | PERFORM_EXPR
                | RESUME_EXPR
                | ABORT_EXPR
                | LAMBDA_EXPR
        )
}

fn binding_power(op: SyntaxKind) -> u8 {
    match op {
        PIPE2 => 1,
        AMP2 => 2,
        EQ2 | NEQ | LT | LTEQ | GT | GTEQ => 3,
        PLUS | MINUS | PLUS2 => 4,
        STAR | SLASH | PERCENT => 5,
        _ => 0,
    }
}

fn bin_op(node: &GreenNodeData) -> SyntaxKind {
    kids(node).find_map(|k| if let El::Tok(t) = k { Some(t) } else { None }).unwrap_or(ERROR)
}

impl Builder<'_, '_> {
    pub(crate) fn source_file(&mut self, root: &GreenNodeData) {
        let mut previous: Option<SyntaxKind> = None;
        for k in kids(root) {
            let kind = k.kind();
            if let Some(prev) = previous {
                // a function is set apart by blank lines, except where a comment stands
                // between the items: there the author's blank lines decide
                let g = self.cursor();
                let blank = self.toks.separator_newlines(g) >= 2
                    || ((prev == FN_ITEM || kind == FN_ITEM)
                        && !self.toks.gap_has_plain_leading(g));
                self.push(if blank { Cmd::BlankLine } else { Cmd::HardLine });
            }
            self.el(k, Pos::Stmt);
            previous = Some(kind);
        }
    }

    fn el(&mut self, k: El, pos: Pos) {
        match k {
            El::Tok(kind) => self.tok(kind),
            El::Node(n) => self.node(n, pos),
        }
    }

    fn node(&mut self, n: &GreenNodeData, pos: Pos) {
        match node_kind(n) {
            kind if is_glued(kind) => {
                for k in kids(n) {
                    self.el(k, Pos::Expr);
                }
            }
            BIN_EXPR => self.bin(n),
            BLOCK_EXPR => self.block(n, pos == Pos::Stmt),
            IF_EXPR => {
                let forced = pos == Pos::Stmt || if_needs_break(n);
                self.begin(if forced { GroupKind::Forced } else { GroupKind::Normal });
                self.if_chain(n);
                self.end();
            }
            HANDLE_EXPR => self.handle(n, pos),
            WITHIN_EXPR | AFTER_EXPR => self.joint_blocks(n, pos),
            LAMBDA_EXPR => self.lambda(n),
            MATCH_ARM | HANDLER_CLAUSE => self.arm(n),
            _ => self.seq(n),
        }
    }

    /// The generic rule: parts in order, spaced by [`space_between`], lists by [`Self::list`].
    fn seq(&mut self, n: &GreenNodeData) {
        let parent = node_kind(n);
        // a function body and the expression of an expression statement stand alone
        let child_pos = if matches!(parent, FN_ITEM | EXPR_STMT) { Pos::Stmt } else { Pos::Expr };
        let drops_semicolon = matches!(parent, MODULE_DECL | USE_ITEM | TYPE_ITEM | EFFECT_ITEM);
        let mut kids = kids(n);
        let mut prev: Option<SyntaxKind> = None;
        while let Some(k) = kids.next() {
            let kind = k.kind();
            if prev.is_some_and(|p| space_between(p, kind)) {
                self.space();
            }
            match k {
                // unless a doc comment before it would then document the next item
                El::Tok(SEMICOLON) if drops_semicolon && !self.toks.gap_has_doc(self.cursor()) => {
                    self.drop_tok()
                }
                El::Tok(open) if is_opener(open) && !(open == LT && parent != GENERIC_ARGS) => {
                    let style =
                        list_style(n, parent, self.toks.separator_newlines(self.cursor() + 1));
                    self.list(&mut kids, open, style);
                    prev = Some(closer(open));
                    continue;
                }
                _ => self.el(k, child_pos),
            }
            prev = Some(kind);
        }
    }

    /// `open elem, elem, … close`, from the opener (taken from `kids`, not yet emitted) to
    /// the closer. Trailing commas appear exactly when the list breaks.
    fn list(&mut self, kids: &mut Kids, open: SyntaxKind, style: ListStyle) {
        let close = closer(open);
        let kind = match style.group {
            ListGroup::Inline => return self.inline_list(kids, open, close),
            ListGroup::Own(kind) => kind,
        };
        // nothing inside: `()`, `[]`, `{}` force no break
        let empty = matches!(kids.clone().next(), Some(El::Tok(k)) if k == close);
        let kind = if empty && self.toks.gap_is_bare(self.cursor() + 1) {
            GroupKind::Normal
        } else {
            kind
        };
        let hug = kind == GroupKind::Hug;
        self.begin(kind);
        self.tok(open);
        if let Some(El::Tok(k)) = kids.clone().next()
            && k == close
        {
            kids.next();
            if self.comments_ahead() {
                self.comments_inside(if style.pad { Cmd::Line } else { Cmd::SoftLine });
            }
            self.tok(close);
            self.end();
            return;
        }
        self.push(Cmd::Indent);
        self.push(if style.pad { Cmd::Line } else { Cmd::SoftLine });
        let mut first = true;
        while let Some(k) = kids.next() {
            if let El::Tok(kind) = k
                && kind == close
            {
                break;
            }
            if !first {
                let blank = style.blank_lines && self.toks.separator_newlines(self.cursor()) >= 2;
                self.push(if blank { Cmd::BlankLine } else { Cmd::Line });
            }
            first = false;
            let mut ahead = kids.clone();
            let comma = matches!(ahead.next(), Some(El::Tok(COMMA)));
            let last = {
                let mut after = kids.clone();
                if comma {
                    after.next();
                }
                match after.next() {
                    None => true,
                    Some(El::Tok(kind)) => kind == close,
                    Some(El::Node(_)) => false,
                }
            };
            if last && hug {
                self.push(Cmd::HugPoint);
            }
            // no trailing comma after the `..` of a record pattern
            let trailing = k.kind() != DOT2;
            self.el(k, Pos::Expr);
            if comma {
                kids.next();
                if last {
                    self.drop_tok();
                } else {
                    self.tok(COMMA);
                    continue;
                }
            }
            // a missing comma is a trailing one, or one after an arm ending in `}`
            if trailing || !last {
                self.push(Cmd::IfBreakComma);
            }
        }
        self.comments_before();
        self.push(Cmd::Dedent);
        self.push(if style.pad { Cmd::Line } else { Cmd::SoftLine });
        self.tok(close);
        self.end();
    }

    /// A list that never breaks: elements joined by `, `, no trailing comma.
    fn inline_list(&mut self, kids: &mut Kids, open: SyntaxKind, close: SyntaxKind) {
        self.tok(open);
        let mut first = true;
        while let Some(k) = kids.next() {
            match k {
                El::Tok(kind) if kind == close => {
                    // `| |`: written `||`, it would be one token
                    if first && open == PIPE {
                        self.space();
                    }
                    self.tok(close);
                    return;
                }
                El::Tok(COMMA) => {
                    let trailing = matches!(kids.clone().next(), Some(El::Tok(k)) if k == close);
                    if trailing {
                        self.drop_tok();
                    } else {
                        self.tok(COMMA);
                        self.space();
                    }
                }
                _ => {
                    first = false;
                    self.el(k, Pos::Expr);
                }
            }
        }
    }

    /// `{ statements… tail }`. Function bodies, blocks in statement position and blocks
    /// with statements are always broken; a block holding only an expression may stay on
    /// one line if it fits.
    fn block(&mut self, n: &GreenNodeData, forced: bool) {
        let empty = kids(n).count() == 2 && self.toks.gap_is_bare(self.cursor() + 1);
        let kind = if (forced && !empty) || has_statements(n) {
            GroupKind::Forced
        } else {
            GroupKind::Normal
        };
        self.begin(kind);
        self.block_body(n);
        self.end();
    }

    /// A block's braces and contents, breaking with the enclosing group.
    fn block_body(&mut self, n: &GreenNodeData) {
        let mut kids = kids(n);
        let mut first = true;
        let mut opened = false;
        for k in kids.by_ref() {
            match k.kind() {
                L_CURLY if !opened => {
                    opened = true;
                    self.tok(L_CURLY);
                }
                R_CURLY => {
                    if first {
                        // empty: `{}`, unless comments are inside
                        if self.comments_ahead() {
                            self.comments_inside(Cmd::Line);
                        }
                    } else {
                        self.comments_before();
                        self.push(Cmd::Dedent);
                        self.push(Cmd::Line);
                    }
                    self.tok(R_CURLY);
                }
                _ => {
                    if first {
                        self.push(Cmd::Indent);
                        self.push(Cmd::Line);
                    } else {
                        let blank = self.toks.separator_newlines(self.cursor()) >= 2;
                        self.push(if blank { Cmd::BlankLine } else { Cmd::HardLine });
                    }
                    first = false;
                    let pos = if matches!(k.kind(), LET_STMT | EXPR_STMT) {
                        Pos::Stmt
                    } else {
                        Pos::Expr
                    };
                    self.el(k, pos);
                }
            }
        }
    }

    /// `if c { … } else if d { … } else { … }`: one group, so the chain is either on one
    /// line or has every block broken.
    fn if_chain(&mut self, n: &GreenNodeData) {
        for k in kids(n) {
            match k {
                El::Tok(IF_KW) => self.tok(IF_KW),
                El::Tok(ELSE_KW) => {
                    self.space();
                    self.tok(ELSE_KW);
                }
                El::Node(block) if node_kind(block) == BLOCK_EXPR => {
                    self.space();
                    self.block_body(block);
                }
                El::Node(nested) if node_kind(nested) == IF_EXPR => {
                    self.space();
                    self.if_chain(nested);
                }
                _ => {
                    self.space();
                    self.el(k, Pos::Expr);
                }
            }
        }
    }

    /// `handle { … } with { … }`: the handled block and the clauses break separately, so
    /// `handle { body() } with {` can keep a short body on its line.
    fn handle(&mut self, n: &GreenNodeData, pos: Pos) {
        let forced = pos == Pos::Stmt;
        let mut first = true;
        for k in kids(n) {
            if !first {
                self.space();
            }
            first = false;
            match k {
                El::Node(b) if node_kind(b) == BLOCK_EXPR => self.block(b, forced),
                El::Node(clauses) if node_kind(clauses) == HANDLER_CLAUSES => {
                    let kind = if forced { GroupKind::Forced } else { GroupKind::Normal };
                    let style =
                        ListStyle { group: ListGroup::Own(kind), pad: true, blank_lines: true };
                    let mut kids = kids(clauses);
                    if let Some(El::Tok(L_CURLY)) = kids.next() {
                        self.list(&mut kids, L_CURLY, style);
                    }
                }
                _ => self.el(k, Pos::Expr),
            }
        }
    }

    /// `within d { … } else { … }`, `after d { … }`: like an `if` chain, one group for all
    /// their blocks.
    fn joint_blocks(&mut self, n: &GreenNodeData, pos: Pos) {
        let forced = pos == Pos::Stmt
            || kids(n).any(
                |k| matches!(k, El::Node(b) if node_kind(b) == BLOCK_EXPR && has_statements(b)),
            );
        self.begin(if forced { GroupKind::Forced } else { GroupKind::Normal });
        let mut first = true;
        for k in kids(n) {
            if !first {
                self.space();
            }
            first = false;
            match k {
                El::Node(b) if node_kind(b) == BLOCK_EXPR => self.block_body(b),
                _ => self.el(k, Pos::Expr),
            }
        }
        self.end();
    }

    /// `|params| body`.
    fn lambda(&mut self, n: &GreenNodeData) {
        let mut first = true;
        for k in kids(n) {
            if !first {
                self.space();
            }
            first = false;
            match k {
                El::Node(b) if node_kind(b) == BLOCK_EXPR => self.block(b, false),
                _ => self.el(k, Pos::Expr),
            }
        }
    }

    /// `pattern [if guard] => body` and `Op(x) => body`: the body breaks onto its own line
    /// only when it is not a block-like or bracketed expression.
    fn arm(&mut self, n: &GreenNodeData) {
        let mut arrow_seen = false;
        let mut prev: Option<SyntaxKind> = None;
        for k in kids(n) {
            let kind = k.kind();
            if arrow_seen {
                if stays_on_arrow_line(kind) {
                    self.space();
                    self.el(k, Pos::Expr);
                } else {
                    self.begin(GroupKind::Normal);
                    self.push(Cmd::Indent);
                    self.push(Cmd::Line);
                    self.el(k, Pos::Expr);
                    self.push(Cmd::Dedent);
                    self.end();
                }
                continue;
            }
            if prev.is_some_and(|p| space_between(p, kind)) {
                self.space();
            }
            self.el(k, Pos::Expr);
            arrow_seen = kind == FAT_ARROW;
            prev = Some(kind);
        }
    }

    /// A chain of operators of one precedence, `a + b - c`: each operand is a unit, and
    /// the chain breaks before an operator where the next operand would not fit.
    fn bin(&mut self, n: &GreenNodeData) {
        let power = binding_power(bin_op(n));
        let mut spine = vec![n];
        let mut cur = n;
        while let Some(El::Node(lhs)) = kids(cur).next()
            && node_kind(lhs) == BIN_EXPR
            && binding_power(bin_op(lhs)) == power
        {
            spine.push(lhs);
            cur = lhs;
        }
        self.begin(GroupKind::Fill);
        let mut indented = false;
        for (depth, node) in spine.iter().rev().enumerate() {
            let mut kids = kids(node);
            let lhs = kids.next();
            if depth == 0
                && let Some(lhs) = lhs
            {
                self.el(lhs, Pos::Expr);
            }
            if !indented {
                self.push(Cmd::Indent);
                indented = true;
            }
            for k in kids {
                match k {
                    El::Tok(op) => {
                        self.push(Cmd::Line);
                        self.tok(op);
                    }
                    El::Node(_) => {
                        self.space();
                        self.el(k, Pos::Expr);
                    }
                }
            }
        }
        if indented {
            self.push(Cmd::Dedent);
        }
        self.end();
    }
}

/// An `if` stays on one line only with an `else` and no statements in any block.
fn if_needs_break(n: &GreenNodeData) -> bool {
    let mut has_else = false;
    for k in kids(n) {
        match k {
            El::Tok(ELSE_KW) => has_else = true,
            El::Node(b) if node_kind(b) == BLOCK_EXPR && has_statements(b) => return true,
            El::Node(nested) if node_kind(nested) == IF_EXPR => return if_needs_break(nested),
            _ => {}
        }
    }
    !has_else
}

fn list_style(n: &GreenNodeData, parent: SyntaxKind, newlines_after_open: u32) -> ListStyle {
    // an object-like list the author broke stays broken, as prettier does for objects
    let object = if newlines_after_open > 0 { GroupKind::Kept } else { GroupKind::Normal };
    let (group, pad, blank_lines) = match parent {
        ARG_LIST => {
            let kind = if hugs_last_argument(n) { GroupKind::Hug } else { GroupKind::Normal };
            (ListGroup::Own(kind), false, false)
        }
        PARAM_LIST | USE_TREE | VARIANT_PAT => (ListGroup::Own(GroupKind::Normal), false, false),
        ENUM_ITEM | SCHEMA_ITEM | RECORD_TYPE | RECORD_FIELDS => {
            (ListGroup::Own(object), true, true)
        }
        LIST_EXPR => (ListGroup::Own(object), false, true),
        RECORD_PAT => (ListGroup::Own(GroupKind::Normal), true, false),
        MATCH_ARM_LIST => (ListGroup::Own(GroupKind::Forced), true, true),
        _ => (ListGroup::Inline, false, false),
    };
    ListStyle { group, pad, blank_lines }
}
