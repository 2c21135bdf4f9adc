//! The expressions a debugger evaluates in a paused frame: `evaluate` (watch, hover, the
//! debug console), breakpoint conditions and `print` in `tel debug`.
//!
//! A small subset of TEL's expression syntax, evaluated over the frame's values without
//! running any code (so evaluating never changes the run):
//!
//! - locals by name (`amount`), and `$position`, `$clock`, `$end`, `$balances` (the ledger
//!   as a `Map<String, Int>`);
//! - field paths `x.price`, list and map indexing `xs[0]`, `m["ETH"]`, enum and option
//!   fields by position `m.0`;
//! - literals: integers (`10_000`), strings, `true`, `false`, `()`, durations (`250ms`);
//! - `-x`, `!b`, `* / %`, `+ -`, `++` (strings and lists), comparisons
//!   (`== != < <= > >=`), `&&`, `||`, parentheses.
//!
//! Calls, `if`, `match` and effects are not supported: the error says so.

use std::sync::Arc;

use smol_str::SmolStr;
use tel_vm::Value;

/// Where names are looked up.
pub trait Scope {
    /// A local of the frame, or a `$` name (given without the `$`); `None` when unknown.
    fn lookup(&self, name: &str, dollar: bool) -> Option<Value>;
    /// The names a failed lookup lists.
    fn names(&self) -> Vec<String>;
    /// Whether `name` is a local whose value the code moved out on its last use.
    fn moved(&self, _name: &str) -> bool {
        false
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ast {
    Lit(Value),
    Name(SmolStr),
    Dollar(SmolStr),
    Field(Box<Ast>, SmolStr),
    Index(Box<Ast>, Box<Ast>),
    Neg(Box<Ast>),
    Not(Box<Ast>),
    Bin(Box<Ast>, Op, Box<Ast>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i64),
    Str(String),
    Duration(i64),
    Ident(String),
    Dollar(String),
    Punct(&'static str),
}

const PUNCTS: [&str; 21] = [
    "++", "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "<", ">", "!", ".", "[",
    "]", "(", ")", ",",
];

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = text[i..].chars().next().expect("inside the text");
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &text[start..i];
            if let Some(ms) = tel_vm::json::parse_duration(word) {
                out.push(Tok::Duration(ms));
            } else {
                let digits: String = word.chars().filter(|c| *c != '_').collect();
                let n = digits
                    .parse::<i64>()
                    .map_err(|_| format!("`{word}` is not an integer or a duration"))?;
                out.push(Tok::Int(n));
            }
            continue;
        }
        if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(c) = text[i..].chars().next() else {
                    return Err("a string is not closed".into());
                };
                i += c.len_utf8();
                match c {
                    '"' => break,
                    '\\' => {
                        let Some(e) = text[i..].chars().next() else {
                            return Err("a string is not closed".into());
                        };
                        i += e.len_utf8();
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '\\' | '"' => e,
                            _ => return Err(format!("unknown escape `\\{e}`")),
                        });
                    }
                    c => s.push(c),
                }
            }
            out.push(Tok::Str(s));
            continue;
        }
        if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            i += c.len_utf8();
            while let Some(c) = text[i..].chars().next() {
                if !(c.is_alphanumeric() || c == '_') {
                    break;
                }
                i += c.len_utf8();
            }
            let word = &text[start..i];
            match word.strip_prefix('$') {
                Some("") => return Err("`$` must be followed by a name".into()),
                Some(name) => out.push(Tok::Dollar(name.to_owned())),
                None => out.push(Tok::Ident(word.to_owned())),
            }
            continue;
        }
        match PUNCTS.iter().find(|p| text[i..].starts_with(**p)) {
            Some(p) => {
                out.push(Tok::Punct(p));
                i += p.len();
            }
            None => return Err(format!("unexpected `{c}`")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn binary(&mut self, level: usize) -> Result<Ast, String> {
        const LEVELS: [&[(&str, Op)]; 5] = [
            &[("||", Op::Or)],
            &[("&&", Op::And)],
            &[
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("<", Op::Lt),
                (">", Op::Gt),
            ],
            &[("++", Op::Concat), ("+", Op::Add), ("-", Op::Sub)],
            &[("*", Op::Mul), ("/", Op::Div), ("%", Op::Rem)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        'outer: loop {
            for (p, op) in LEVELS[level] {
                if self.eat(p) {
                    let rhs = self.binary(level + 1)?;
                    lhs = Ast::Bin(Box::new(lhs), *op, Box::new(rhs));
                    // Comparisons do not chain (as in TEL).
                    if level == 2 {
                        break 'outer;
                    }
                    continue 'outer;
                }
            }
            break;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Ast, String> {
        if self.eat("-") {
            return Ok(Ast::Neg(Box::new(self.unary()?)));
        }
        if self.eat("!") {
            return Ok(Ast::Not(Box::new(self.unary()?)));
        }
        let mut e = self.primary()?;
        loop {
            if self.eat(".") {
                match self.peek().cloned() {
                    Some(Tok::Ident(name)) => e = Ast::Field(Box::new(e), name.into()),
                    Some(Tok::Int(n)) => {
                        e = Ast::Index(Box::new(e), Box::new(Ast::Lit(Value::Int(n))))
                    }
                    _ => return Err("a field name or position must follow `.`".into()),
                }
                self.at += 1;
            } else if self.eat("[") {
                let index = self.binary(0)?;
                if !self.eat("]") {
                    return Err("`]` expected".into());
                }
                e = Ast::Index(Box::new(e), Box::new(index));
            } else if self.eat("(") {
                return Err("calls are not supported in the debugger's expressions".into());
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Ast, String> {
        let Some(t) = self.peek().cloned() else {
            return Err("an expression is missing".into());
        };
        self.at += 1;
        Ok(match t {
            Tok::Int(n) => Ast::Lit(Value::Int(n)),
            Tok::Duration(ms) => Ast::Lit(Value::Duration(ms)),
            Tok::Str(s) => Ast::Lit(Value::String(s.into())),
            Tok::Ident(w) if w == "true" => Ast::Lit(Value::Bool(true)),
            Tok::Ident(w) if w == "false" => Ast::Lit(Value::Bool(false)),
            Tok::Ident(w) if KEYWORDS.contains(&w.as_str()) => {
                return Err(format!("`{w}` is not supported in the debugger's expressions"));
            }
            Tok::Ident(w) => Ast::Name(w.into()),
            Tok::Dollar(w) => Ast::Dollar(w.into()),
            Tok::Punct("(") => {
                if self.eat(")") {
                    return Ok(Ast::Lit(Value::Unit));
                }
                let e = self.binary(0)?;
                if !self.eat(")") {
                    return Err("`)` expected".into());
                }
                e
            }
            Tok::Punct(p) => return Err(format!("unexpected `{p}`")),
        })
    }
}

const KEYWORDS: [&str; 10] =
    ["if", "match", "perform", "handle", "let", "fn", "within", "after", "resume", "abort"];

/// Parses an expression.
pub fn parse(text: &str) -> Result<Ast, String> {
    let mut p = Parser { toks: lex(text)?, at: 0 };
    let e = p.binary(0)?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(format!("unexpected {} after the expression", describe(t))),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Int(n) => format!("`{n}`"),
        Tok::Str(s) => format!("{s:?}"),
        Tok::Duration(ms) => format!("`{ms}ms`"),
        Tok::Ident(w) => format!("`{w}`"),
        Tok::Dollar(w) => format!("`${w}`"),
        Tok::Punct(p) => format!("`{p}`"),
    }
}

/// Evaluates `ast` in `scope`. `show` renders a value for messages.
pub fn eval(
    ast: &Ast,
    scope: &dyn Scope,
    show: &dyn Fn(&Value) -> String,
) -> Result<Value, String> {
    let ev = |a: &Ast| eval(a, scope, show);
    match ast {
        Ast::Lit(v) => Ok(v.clone()),
        Ast::Name(n) if scope.moved(n) => Err(format!(
            "`{n}` has no value here: the code moved it out on its last use, before this position"
        )),
        Ast::Name(n) => scope.lookup(n, false).ok_or_else(|| {
            let mut names = scope.names();
            names.sort();
            names.dedup();
            match names.is_empty() {
                true => format!("no local `{n}` here (this frame shows no locals)"),
                false => format!("no local `{n}` here (locals: {})", names.join(", ")),
            }
        }),
        Ast::Dollar(n) => scope
            .lookup(n, true)
            .ok_or_else(|| format!("no `${n}` (there are $position, $end, $clock and $balances)")),
        Ast::Field(e, name) => match &ev(e)? {
            Value::Record { fields, .. } => {
                fields.iter().find(|(f, _)| f == name).map(|(_, v)| v.clone()).ok_or_else(|| {
                    let have: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
                    format!("the record has no field `{name}` (fields: {})", have.join(", "))
                })
            }
            v => Err(format!("`.{name}`: {} is {}, not a record", show(v), article(v.kind()))),
        },
        Ast::Index(e, i) => index(ev(e)?, ev(i)?, show),
        Ast::Neg(e) => match &ev(e)? {
            Value::Int(n) => n.checked_neg().map(Value::Int).ok_or_else(|| "overflow".into()),
            Value::Duration(n) => {
                n.checked_neg().map(Value::Duration).ok_or_else(|| "overflow".into())
            }
            v => Err(format!("`-` needs an Int or a Duration, not {}", show(v))),
        },
        Ast::Not(e) => match &ev(e)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            v => Err(format!("`!` needs a Bool, not {}", show(v))),
        },
        Ast::Bin(l, Op::And, r) => match ev(l)? {
            Value::Bool(false) => Ok(Value::Bool(false)),
            Value::Bool(true) => truth(ev(r)?, "&&", show),
            v => Err(format!("`&&` needs Bools, not {}", show(&v))),
        },
        Ast::Bin(l, Op::Or, r) => match ev(l)? {
            Value::Bool(true) => Ok(Value::Bool(true)),
            Value::Bool(false) => truth(ev(r)?, "||", show),
            v => Err(format!("`||` needs Bools, not {}", show(&v))),
        },
        Ast::Bin(l, op, r) => binary(*op, ev(l)?, ev(r)?, show),
    }
}

fn article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

fn truth(v: Value, op: &str, show: &dyn Fn(&Value) -> String) -> Result<Value, String> {
    match v {
        Value::Bool(_) => Ok(v),
        v => Err(format!("`{op}` needs Bools, not {}", show(&v))),
    }
}

fn index(v: Value, i: Value, show: &dyn Fn(&Value) -> String) -> Result<Value, String> {
    match (&v, &i) {
        (Value::List(xs), Value::Int(n)) => usize::try_from(*n)
            .ok()
            .and_then(|k| xs.get(k).cloned())
            .ok_or_else(|| format!("index {n} is out of the list's bounds (length {})", xs.len())),
        (Value::Map(m), k) => {
            m.get(k).cloned().ok_or_else(|| format!("the map has no key {}", show(k)))
        }
        (Value::Variant { fields, .. }, Value::Int(n)) => usize::try_from(*n)
            .ok()
            .and_then(|k| fields.get(k).cloned())
            .ok_or_else(|| format!("{} has no field {n}", show(&v))),
        (Value::Option(Some(x)), Value::Int(0)) => Ok((**x).clone()),
        (Value::Option(None), _) => Err("the option is None".into()),
        (Value::Record { .. }, Value::String(name)) => {
            eval(&Ast::Field(Box::new(Ast::Lit(v.clone())), name.clone()), &NoScope, show)
        }
        _ => Err(format!("{} cannot be indexed by {}", show(&v), show(&i))),
    }
}

struct NoScope;

impl Scope for NoScope {
    fn lookup(&self, _: &str, _: bool) -> Option<Value> {
        None
    }
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
}

fn binary(op: Op, l: Value, r: Value, show: &dyn Fn(&Value) -> String) -> Result<Value, String> {
    use Value::{Bool, Duration, Int};
    let overflow = || format!("arithmetic overflow: {} {op:?} {}", show(&l), show(&r));
    let int = |f: fn(i64, i64) -> Option<i64>, a: i64, b: i64| f(a, b).ok_or_else(overflow);
    Ok(match (op, &l, &r) {
        (Op::Add, Int(a), Int(b)) => Int(int(i64::checked_add, *a, *b)?),
        (Op::Sub, Int(a), Int(b)) => Int(int(i64::checked_sub, *a, *b)?),
        (Op::Mul, Int(a), Int(b)) => Int(int(i64::checked_mul, *a, *b)?),
        (Op::Div | Op::Rem, Int(_), Int(0)) => return Err("division by zero".into()),
        (Op::Div, Int(a), Int(b)) => Int(int(i64::checked_div, *a, *b)?),
        (Op::Rem, Int(a), Int(b)) => Int(int(i64::checked_rem, *a, *b)?),
        (Op::Add, Duration(a), Duration(b)) => Duration(int(i64::checked_add, *a, *b)?),
        (Op::Sub, Duration(a), Duration(b)) => Duration(int(i64::checked_sub, *a, *b)?),
        (Op::Concat, Value::String(a), Value::String(b)) => Value::String(format!("{a}{b}").into()),
        (Op::Concat, Value::List(a), Value::List(b)) => {
            Value::List(Arc::new(a.iter().chain(b.iter()).cloned().collect()))
        }
        (Op::Eq, a, b) => Bool(a == b),
        (Op::Ne, a, b) => Bool(a != b),
        (Op::Lt | Op::Le | Op::Gt | Op::Ge, a, b) if a.kind() == b.kind() => {
            let o = a.cmp(b);
            Bool(match op {
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Gt => o.is_gt(),
                _ => o.is_ge(),
            })
        }
        _ => {
            let sym = match op {
                Op::Mul => "*",
                Op::Div => "/",
                Op::Rem => "%",
                Op::Add => "+",
                Op::Sub => "-",
                Op::Concat => "++",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Gt => ">",
                Op::Ge => ">=",
                Op::Eq | Op::Ne | Op::And | Op::Or => unreachable!("handled above"),
            };
            return Err(format!("`{sym}` cannot combine {} and {}", show(&l), show(&r)));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tel_vm::value::RecordType;

    struct Locals(Vec<(&'static str, Value)>);

    impl Scope for Locals {
        fn lookup(&self, name: &str, dollar: bool) -> Option<Value> {
            if dollar {
                return (name == "position").then_some(Value::Int(7));
            }
            self.0.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
        }
        fn names(&self) -> Vec<String> {
            self.0.iter().map(|(n, _)| n.to_string()).collect()
        }
    }

    fn run(text: &str) -> Result<String, String> {
        let quote = Value::Record {
            ty: RecordType(None),
            fields: Arc::new(vec![
                ("asset".into(), Value::String("ETH".into())),
                ("price".into(), Value::Int(3000)),
            ]),
        };
        let mut m = BTreeMap::new();
        m.insert(Value::String("ETH".into()), Value::Int(5));
        let scope = Locals(vec![
            ("q", quote),
            ("xs", Value::list(vec![Value::Int(1), Value::Int(2)])),
            ("m", Value::map(m)),
            ("n", Value::Int(10)),
            ("n", Value::Int(11)),
        ]);
        let show = |v: &Value| format!("{v:?}");
        eval(&parse(text)?, &scope, &show).map(|v| format!("{v:?}"))
    }

    #[test]
    fn paths_operators_and_errors() {
        let cases = [
            "q.price",
            "q.price * 2 + n",
            "xs[1]",
            "m[\"ETH\"] >= 5 && !false",
            "q.asset ++ \"/USD\"",
            "-n % 3",
            "250ms + 1s",
            "$position",
            "(1 + 2) * 3",
            "q.cost",
            "nope",
            "xs[5]",
            "f(1)",
            "1 +",
            "n / 0",
            "\"a\" < 1",
            "1 < 2 < 3",
            "if",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| match run(c) {
                Ok(v) => format!("{c} => {v}"),
                Err(e) => format!("{c} => error: {e}"),
            })
            .collect();
        expect_test::expect![[r#"
            q.price => Int(3000)
            q.price * 2 + n => Int(6011)
            xs[1] => Int(2)
            m["ETH"] >= 5 && !false => Bool(true)
            q.asset ++ "/USD" => String("ETH/USD")
            -n % 3 => Int(-2)
            250ms + 1s => Duration(1250)
            $position => Int(7)
            (1 + 2) * 3 => Int(9)
            q.cost => error: the record has no field `cost` (fields: asset, price)
            nope => error: no local `nope` here (locals: m, n, q, xs)
            xs[5] => error: index 5 is out of the list's bounds (length 2)
            f(1) => error: calls are not supported in the debugger's expressions
            1 + => error: an expression is missing
            n / 0 => error: division by zero
            "a" < 1 => error: `<` cannot combine String("a") and Int(1)
            1 < 2 < 3 => error: unexpected `<` after the expression
            if => error: `if` is not supported in the debugger's expressions"#]]
        .assert_eq(&out.join("\n"));
    }
}
