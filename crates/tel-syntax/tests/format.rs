//! The formatter on whole files (docs/formatting.md):
//! - snapshots: every `fixtures/format/<case>.tel.in` formats to `<case>.tel.out`
//!   (refresh with `UPDATE_EXPECT=1 cargo test -p tel-syntax --test format`);
//! - on every fixture that parses, and on generated and re-spaced programs: the output
//!   parses, has the same tokens and comments in the same tree (whitespace, trailing
//!   commas and optional semicolons aside), and formatting it again changes nothing;
//! - files with syntax errors are refused, naming the first error.

use std::path::{Path, PathBuf};

use expect_test::expect_file;
use proptest::prelude::*;
use tel_syntax::SyntaxKind::{self, *};
use tel_syntax::format::{FormatErrorKind, format, format_range, minimal_edit};
use tel_syntax::{TextRange, TextSize};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Files under `dir` whose name ends in `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every fixture program that parses: valid/, projects/, and the broken/ files whose
/// mistake is semantic.
fn clean_fixtures() -> Vec<(PathBuf, String)> {
    let out: Vec<_> = files(&fixtures_dir(), ".tel")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .filter(|(_, text)| tel_syntax::parse(text).errors.is_empty())
        .collect();
    assert!(out.len() >= 20, "expected the valid and project fixtures, found {}", out.len());
    out
}

fn is_optional(token: &tel_syntax::SyntaxToken) -> bool {
    let parent = token.parent().map(|p| p.kind());
    match token.kind() {
        SEMICOLON => {
            matches!(parent, Some(MODULE_DECL | USE_ITEM | TYPE_ITEM | EFFECT_ITEM))
        }
        COMMA => {
            let mut next = token.next_token();
            while let Some(t) = &next
                && t.kind().is_trivia()
            {
                next = t.next_token();
            }
            let before_closer =
                next.is_none_or(|t| matches!(t.kind(), R_PAREN | R_CURLY | R_BRACK | GT | PIPE));
            // a comma after an arm ending in `}` is optional, so arm separators are too
            before_closer || matches!(parent, Some(MATCH_ARM_LIST | HANDLER_CLAUSES))
        }
        _ => false,
    }
}

/// The program as the formatter must keep it: the tree's nodes and tokens in order, one
/// per line with its depth, leaving out whitespace and the punctuation the formatter may
/// add or drop.
fn shape(text: &str) -> String {
    let parse = tel_syntax::parse(text);
    assert!(parse.errors.is_empty(), "does not parse: {:?}\n{text}", parse.errors);
    let mut out = String::new();
    let mut depth = 0usize;
    for event in parse.syntax_node().preorder_with_tokens() {
        match event {
            rowan::WalkEvent::Enter(rowan::NodeOrToken::Node(n)) => {
                out += &format!("{depth} {:?}\n", n.kind());
                depth += 1;
            }
            rowan::WalkEvent::Leave(rowan::NodeOrToken::Node(_)) => depth -= 1,
            rowan::WalkEvent::Enter(rowan::NodeOrToken::Token(t)) => {
                if t.kind() == WHITESPACE || is_optional(&t) {
                    continue;
                }
                // a comment's place in the tree depends on the tokens around it, and those
                // next to a dropped `;` move out of the node: only its order counts
                if t.kind() == BLOCK_COMMENT {
                    out += &format!("- {:?} {}\n", t.kind(), t.text());
                } else if t.kind().is_trivia() {
                    out += &format!("- {:?} {}\n", t.kind(), t.text().trim_end());
                } else {
                    out += &format!("{depth} {:?} {}\n", t.kind(), t.text());
                }
            }
            rowan::WalkEvent::Leave(rowan::NodeOrToken::Token(_)) => {}
        }
    }
    out
}

/// Formats `text` and checks the guarantees; returns the output.
fn check(name: &str, text: &str) -> String {
    let out = format(text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
    let again = format(&out).unwrap_or_else(|e| panic!("{name}: output refused: {e}\n{out}"));
    if again != out {
        std::fs::write("/tmp/once.tel", &out).unwrap();
        std::fs::write("/tmp/twice.tel", &again).unwrap();
        std::fs::write("/tmp/input.tel", text).unwrap();
    }
    assert!(again == out, "{name}: not idempotent\n--- once:\n{out}\n--- twice:\n{again}");
    let (before, after) = (shape(text), shape(&out));
    if before != after {
        let first = before.lines().zip(after.lines()).position(|(a, b)| a != b).unwrap_or(0);
        let around = |s: &str| {
            s.lines().skip(first.saturating_sub(3)).take(6).collect::<Vec<_>>().join("\n")
        };
        panic!(
            "{name}: the program changed\n--- input:\n{text}\n--- output:\n{out}\n--- tree before:\n{}\n--- tree after:\n{}",
            around(&before),
            around(&after)
        );
    }
    assert!(!out.contains(" \n"), "{name}: trailing whitespace");
    out
}

#[test]
fn snapshots() {
    let cases = files(&fixtures_dir().join("format"), ".tel.in");
    assert!(cases.len() >= 8, "expected the format fixtures, found {}", cases.len());
    for input in cases {
        let text = std::fs::read_to_string(&input).unwrap();
        let out = check(&input.display().to_string(), &text);
        let expected = PathBuf::from(input.to_string_lossy().replace(".tel.in", ".tel.out"));
        expect_file![expected].assert_eq(&out);
    }
}

#[test]
fn formatted_snapshots_are_fixed_points() {
    for path in files(&fixtures_dir().join("format"), ".tel.out") {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(format(&text).unwrap(), text, "{}", path.display());
    }
}

#[test]
fn every_clean_fixture() {
    for (path, text) in clean_fixtures() {
        check(&path.display().to_string(), &text);
    }
}

#[test]
fn generated_benchmark_program() {
    let text = tel_testgen::generate_file(20);
    let out = check("generate_file(20)", &text);
    let long: Vec<&str> = out.lines().filter(|l| l.chars().count() > 100).collect();
    assert!(long.is_empty(), "lines over 100 characters: {long:#?}");
}

#[test]
fn syntax_errors_are_refused_with_the_first_one() {
    let e = format("fn f() {\n    let x = ;\n}\nfn g( {}").unwrap_err();
    assert_eq!(e.kind, FormatErrorKind::Syntax);
    assert_eq!((e.line, e.col), (2, 12));
    assert!(e.syntax_errors >= 2);
    let shown = e.to_string();
    assert!(shown.starts_with("2:12: expected an expression"), "{shown}");
    assert!(shown.contains("more syntax error"), "{shown}");
    for path in files(&fixtures_dir().join("broken"), ".tel") {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.starts_with("// Syntax") {
            let e = format(&text).unwrap_err();
            assert_eq!(e.kind, FormatErrorKind::Syntax, "{}", path.display());
        }
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    let depth = 200;
    let parens = format!("fn f() -> Int {{ {}1{} }}", "(".repeat(depth), ")".repeat(depth));
    check("parens", &parens);
    let negations = format!("fn f() -> Int {{ {}1 }}", "-".repeat(depth));
    check("negations", &negations);
    let mut chain = String::from("fn f(x: Int) -> Int { ");
    for i in 0..depth {
        chain += &format!("if x == {i} {{ {i} }} else ");
    }
    chain += "{ 0 } }";
    check("else-if chain", &chain);
    let lambdas = format!("fn f() -> Int {{ {}0 }}", "|x| ".repeat(depth));
    check("lambdas", &lambdas);
}

#[test]
fn range_formatting_touches_only_the_items_in_range() {
    let text = "fn a()->Int{1}\n\nfn  b( x:Int )->Int{x}\n\nfn c()->Int{3}\n";
    let at = TextSize::from(text.find("x:Int").unwrap() as u32);
    let edit = format_range(text, TextRange::empty(at)).unwrap().unwrap();
    let mut out = text.to_owned();
    out.replace_range(std::ops::Range::<usize>::from(edit.range), &edit.insert);
    assert_eq!(out, "fn a()->Int{1}\n\nfn b(x: Int) -> Int {\n    x\n}\n\nfn c()->Int{3}\n");
    // already formatted: nothing to do
    let formatted = format(text).unwrap();
    assert_eq!(
        format_range(&formatted, TextRange::up_to(TextSize::of(&formatted[..]))).unwrap(),
        None
    );
}

#[test]
fn minimal_edits_apply() {
    for (a, b) in [("abc", "abc"), ("abc", "abXc"), ("fn  f", "fn f"), ("é1", "é2"), ("", "x")] {
        let mut out = a.to_owned();
        if let Some(e) = minimal_edit(a, b) {
            out.replace_range(std::ops::Range::<usize>::from(e.range), &e.insert);
        }
        assert_eq!(out, b);
    }
    assert_eq!(minimal_edit("fn  f", "fn f").unwrap().range, TextRange::new(3.into(), 4.into()));
}

// ---- re-spacing: the same tokens with other whitespace and extra comments -------------

/// The non-whitespace tokens of `text` (comments included), as (kind, text) pairs, and
/// the whitespace before each (and after the last).
fn split(text: &str) -> (Vec<(SyntaxKind, &str)>, Vec<&str>) {
    let (tokens, _) = tel_syntax::lexer::lex(text);
    let mut toks = Vec::new();
    let mut gaps = vec![""];
    let mut offset = 0;
    for t in tokens {
        let s = &text[offset..offset + t.len as usize];
        offset += t.len as usize;
        if t.kind == WHITESPACE {
            *gaps.last_mut().unwrap() = s;
        } else {
            toks.push((t.kind, s));
            gaps.push("");
        }
    }
    (toks, gaps)
}

/// Whether `a` and `b` written without space between them still lex as themselves.
fn can_glue(a: &str, b: &str) -> bool {
    let joined = format!("{a}{b}");
    let (tokens, errors) = tel_syntax::lexer::lex(&joined);
    errors.is_empty() && tokens.len() == 2 && tokens[0].len as usize == a.len()
}

const SPACES: &[&str] = &["", " ", "  ", "\t", " \t "];
const BREAKS: &[&str] = &["\n", "\n\n", "\n    ", " \n\n\n  ", "\r\n", "\n\t"];
const COMMENTS: &[&str] =
    &["/* c */", "// c\n", "/// d\n", "/* a /* nested */ b */", "/*\n  two\n*/"];

/// `text` with its whitespace replaced according to `choices`: anything when `newlines`
/// is set (breaks added and removed), otherwise only horizontal whitespace, keeping every
/// line break and leaving the whitespace next to comments alone. With `comments`, some
/// gaps also get a comment.
fn respace(text: &str, choices: &[u8], newlines: bool, comments: bool) -> String {
    let (toks, gaps) = split(text);
    let mut out = String::with_capacity(text.len() * 2);
    let mut pick = choices.iter().cycle().copied();
    let mut next = || usize::from(pick.next().unwrap_or(0));
    out += gaps[0];
    for (i, &(kind, tok)) in toks.iter().enumerate() {
        out += tok;
        let original = gaps[i + 1];
        let Some(&(next_kind, next_tok)) = toks.get(i + 1) else {
            out += original;
            break;
        };
        let line_comment = matches!(kind, COMMENT | DOC_COMMENT);
        let near_comment = kind.is_trivia() || next_kind.is_trivia();
        let mut gap = if !newlines {
            if near_comment {
                original.to_owned()
            } else {
                let breaks = original.matches('\n').count();
                let indent = SPACES[next() % SPACES.len()];
                if breaks == 0 { indent.to_owned() } else { "\n".repeat(breaks) + indent }
            }
        } else {
            let c = next();
            if c % 3 == 0 {
                BREAKS[c / 3 % BREAKS.len()].to_owned()
            } else {
                SPACES[c % SPACES.len()].to_owned()
            }
        };
        if line_comment && !gap.contains('\n') {
            gap = "\n".to_owned();
        }
        if gap.is_empty() && !can_glue(tok, next_tok) {
            gap = " ".to_owned();
        }
        if comments && next() % 7 == 0 {
            let comment = COMMENTS[next() % COMMENTS.len()];
            // `/` then `/*` would lex as `//`
            if gap.is_empty() {
                gap = " ".to_owned();
            }
            gap = format!("{gap}{comment}{}", if comment.ends_with('\n') { "" } else { " " });
        }
        out += &gap;
    }
    out
}

fn samples() -> Vec<String> {
    let mut out: Vec<String> = clean_fixtures().into_iter().map(|(_, t)| t).collect();
    out.push(tel_testgen::generate_file(2));
    for case in files(&fixtures_dir().join("format"), ".tel.in") {
        out.push(std::fs::read_to_string(case).unwrap());
    }
    out
}

proptest! {
    // PROPTEST_CASES=5000 for a longer search
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64)
    ))]

    /// Any whitespace, any comments: still the same program, still idempotent.
    #[test]
    fn respaced_fixtures_keep_their_meaning(
        index in any::<prop::sample::Index>(),
        choices in prop::collection::vec(any::<u8>(), 1..512),
        comments in any::<bool>(),
    ) {
        let samples = samples();
        let text = respace(index.get(&samples).as_str(), &choices, true, comments);
        check("respaced", &text);
    }

    /// Whitespace within lines does not matter at all: the output is the same.
    #[test]
    fn horizontal_whitespace_is_irrelevant(
        index in any::<prop::sample::Index>(),
        choices in prop::collection::vec(any::<u8>(), 1..512),
    ) {
        let samples = samples();
        let text = index.get(&samples).as_str();
        let respaced = respace(text, &choices, false, false);
        prop_assert_eq!(format(&respaced).unwrap(), format(text).unwrap());
    }

    /// Generated programs, re-spaced and commented.
    #[test]
    fn generated_programs(
        program in program(),
        choices in prop::collection::vec(any::<u8>(), 1..256),
        newlines in any::<bool>(),
        comments in any::<bool>(),
    ) {
        check("generated", &program);
        check("generated and respaced", &respace(&program, &choices, newlines, comments));
    }
}

// ---- a generator of syntactically valid programs (not necessarily well typed) ---------

fn lower() -> impl Strategy<Value = String> {
    prop::sample::select(&["a", "x", "total", "amount_in_cents", "f", "quote_within", "acc"][..])
        .prop_map(str::to_owned)
}

fn upper() -> impl Strategy<Value = String> {
    prop::sample::select(&["A", "Quote", "Outcome", "Some", "Filled", "LongVariantName"][..])
        .prop_map(str::to_owned)
}

fn literal() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "1",
            "1_000",
            "0xff",
            "true",
            "false",
            "\"s\"",
            "\"a longer string literal\"",
            "10s",
            "250ms",
            "()",
            "#a7f3b2c1",
        ][..],
    )
    .prop_map(str::to_owned)
}

fn ty() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(&["Int", "String", "Bool", "()", "Quote", "#deadbeef"][..])
        .prop_map(str::to_owned);
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| format!("List<{t}>")),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| format!("Map<{k}, {v}>")),
            inner.clone().prop_map(|t| format!("{t}?")),
            prop::collection::vec((lower(), inner.clone()), 1..4).prop_map(|fs| {
                let fields: Vec<String> = fs.iter().map(|(n, t)| format!("{n}: {t}")).collect();
                format!("{{ {} }}", fields.join(", "))
            }),
            (prop::collection::vec(inner.clone(), 0..3), inner, any::<bool>()).prop_map(
                |(ps, r, e)| format!(
                    "fn({}) -> {r}{}",
                    ps.join(", "),
                    if e { " ! {Log}" } else { "" }
                )
            ),
        ]
    })
}

fn pattern() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("_".to_owned()),
        lower(),
        prop::sample::select(&["1", "-1", "\"s\"", "true", "()", "10s", "None"][..])
            .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            (upper(), prop::collection::vec(inner.clone(), 1..3))
                .prop_map(|(v, ps)| format!("{v}({})", ps.join(", "))),
            (
                prop::option::of(upper()),
                prop::collection::vec((lower(), inner), 1..3),
                any::<bool>()
            )
                .prop_map(|(name, fs, rest)| {
                    let mut fields: Vec<String> =
                        fs.iter().map(|(n, p)| format!("{n}: {p}")).collect();
                    if rest {
                        fields.push("..".to_owned());
                    }
                    format!(
                        "{}{{ {} }}",
                        name.map(|n| n + " ").unwrap_or_default(),
                        fields.join(", ")
                    )
                }),
        ]
    })
}

/// A simple expression: what may stand in an `if` condition or a `match` scrutinee.
fn simple() -> impl Strategy<Value = String> {
    prop_oneof![
        literal(),
        lower(),
        (lower(), prop::collection::vec(prop_oneof![literal(), lower()], 0..3))
            .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
        (lower(), prop::sample::select(&["+", "==", "<", "&&", "++"][..]), literal())
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![literal(), lower(), upper(), lower().prop_map(|x| format!("{x}.field"))];
    leaf.prop_recursive(4, 48, 4, |e| {
        let block = (prop::collection::vec(statement(e.clone()), 0..3), e.clone())
            // after a block-like statement, `||` would continue it as an operator
            .prop_map(|(stmts, tail)| {
                let tail = if tail.starts_with("||") { format!("({tail})") } else { tail };
                format!("{{ {} {tail} }}", stmts.join(" "))
            })
            .boxed();
        prop_oneof![
            // arithmetic chains (comparisons only between parenthesized operands: they do not chain)
            (
                e.clone(),
                prop::sample::select(&["+", "-", "*", "/", "%", "++", "&&", "||"][..]),
                e.clone()
            )
                .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
            (e.clone(), prop::sample::select(&["+", "++", "*"][..]), e.clone(), e.clone())
                .prop_map(|(a, op, b, c)| format!("({a}) {op} ({b}) {op} ({c})")),
            (e.clone(), prop::sample::select(&["==", "<", ">=", "!="][..]), e.clone())
                .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
            e.clone().prop_map(|a| format!("-({a})")),
            e.clone().prop_map(|a| format!("!({a})")),
            (lower(), prop::collection::vec(e.clone(), 0..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (upper(), prop::collection::vec(e.clone(), 0..3))
                .prop_map(|(op, args)| format!("perform {op}({})", args.join(", "))),
            (prop::collection::vec(lower(), 0..3), e.clone())
                .prop_map(|(ps, body)| format!("|{}| {body}", ps.join(", "))),
            (prop::collection::vec(lower(), 1..3), block.clone())
                .prop_map(|(ps, body)| format!("|{}: Int| {body}", ps.join(": Int, "))),
            (prop::option::of(upper()), prop::collection::vec((lower(), e.clone()), 1..4))
                .prop_map(|(name, fs)| {
                    let fields: Vec<String> = fs.iter().map(|(n, v)| format!("{n}: {v}")).collect();
                    format!(
                        "{}{{ {} }}",
                        name.map(|n| n + " ").unwrap_or_default(),
                        fields.join(", ")
                    )
                }),
            prop::collection::vec(e.clone(), 0..5).prop_map(|xs| format!("[{}]", xs.join(", "))),
            e.clone().prop_map(|x| format!("({x}).field")),
            block.clone(),
            (simple(), block.clone(), prop::option::of(block.clone())).prop_map(
                |(c, t, f)| match f {
                    Some(f) => format!("if {c} {t} else {f}"),
                    None => format!("if {c} {t}"),
                }
            ),
            (simple(), block.clone(), simple(), block.clone(), block.clone())
                .prop_map(|(c, t, d, u, f)| format!("if {c} {t} else if {d} {u} else {f}")),
            (
                simple(),
                prop::collection::vec((pattern(), prop::option::of(simple()), e.clone()), 1..4)
            )
                .prop_map(|(s, arms)| {
                    let arms: Vec<String> = arms
                        .iter()
                        .map(|(p, g, b)| match g {
                            Some(g) => format!("{p} if {g} => {b}"),
                            None => format!("{p} => {b}"),
                        })
                        .collect();
                    format!("match {s} {{ {} }}", arms.join(", "))
                }),
            (
                block.clone(),
                prop::collection::vec(
                    (upper(), prop::collection::vec(lower(), 0..3), e.clone()),
                    1..3
                )
            )
                .prop_map(|(body, clauses)| {
                    let clauses: Vec<String> = clauses
                        .iter()
                        .map(|(op, ps, b)| format!("{op}({}) => {b}", ps.join(", ")))
                        .collect();
                    format!("handle {body} with {{ {} }}", clauses.join(", "))
                }),
            (prop::sample::select(&["5s", "d", "1min + 30s"][..]), block.clone(), block.clone())
                .prop_map(|(d, b, f)| format!("within {d} {b} else {f}")),
            (prop::sample::select(&["5s", "d"][..]), block)
                .prop_map(|(d, b)| format!("after {d} {b}")),
            e.prop_map(|x| format!("resume({x})")),
        ]
    })
}

fn statement(e: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        (lower(), e.clone()).prop_map(|(x, v)| format!("let {x} = {v};")),
        (lower(), ty(), e.clone()).prop_map(|(x, t, v)| format!("let {x}: {t} = {v};")),
        (lower(), prop::collection::vec(e.clone(), 0..3))
            .prop_map(|(f, args)| format!("{f}({});", args.join(", "))),
        (simple(), e.clone()).prop_map(|(c, v)| format!("if {c} {{ {v} }}")),
        e.prop_map(|v| format!("{{ {v} }};")),
    ]
}

fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            lower(),
            prop::collection::vec((lower(), ty()), 0..4),
            prop::option::of(ty()),
            any::<bool>(),
            expr()
        )
            .prop_map(|(name, params, ret, effects, body)| {
                let params: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
                format!(
                    "/// Does {name}.\npub fn {name}({}){}{} {{ {body} }}",
                    params.join(", "),
                    ret.map(|t| format!(" -> {t}")).unwrap_or_default(),
                    if effects { " ! {Log, Sleep}" } else { "" }
                )
            }),
        (upper(), prop::collection::vec((upper(), prop::collection::vec(ty(), 0..3)), 0..5))
            .prop_map(|(name, variants)| {
                let vs: Vec<String> =
                    variants
                        .iter()
                        .map(|(v, ts)| {
                            if ts.is_empty() {
                                v.clone()
                            } else {
                                format!("{v}({})", ts.join(", "))
                            }
                        })
                        .collect();
                format!("enum {name} {{ {} }}", vs.join(", "))
            }),
        (upper(), ty()).prop_map(|(n, t)| format!("type {n} = {t};")),
        (upper(), prop::collection::vec((lower(), ty()), 0..3), prop::option::of(ty())).prop_map(
            |(n, ps, r)| {
                let ps: Vec<String> = ps.iter().map(|(p, t)| format!("{p}: {t}")).collect();
                format!(
                    "effect {n}({}){}",
                    ps.join(", "),
                    r.map(|t| format!(" -> {t}")).unwrap_or_default()
                )
            }
        ),
        (upper(), prop::collection::vec((lower(), ty(), prop::option::of(literal())), 0..4))
            .prop_map(|(n, fs)| {
                let fs: Vec<String> = fs
                    .iter()
                    .map(|(f, t, d)| match d {
                        Some(d) => format!("/// The {f}.\n{f}: {t} = {d}"),
                        None => format!("{f}: {t}"),
                    })
                    .collect();
                format!("schema {n} {{ {} }}", fs.join(", "))
            }),
        (lower(), prop::collection::vec(lower(), 0..4))
            .prop_map(|(m, names)| format!("use {m}::{{{}}}", names.join(", "))),
    ]
}

fn program() -> impl Strategy<Value = String> {
    prop::collection::vec(item(), 1..5)
        .prop_map(|items| format!("module gen\n\n{}\n", items.join("\n\n")))
}
