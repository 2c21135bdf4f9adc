//! Random well-typed programs of the subset, as TEL source, from a seed: a few functions over
//! `Int` and `Bool` (each calling only earlier ones, so every program ends), arithmetic that
//! overflows now and then, `let`, `if`, `match` with literals, bindings and guards, bounded
//! recursion (in tail position or not, sometimes past the call-depth limit) and host effects
//! (some of which the host refuses). tel-testgen's generator covers the whole language for
//! benchmarks; this one stays inside the subset so every program compiles on both backends.

use std::fmt::Write;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Int,
    Bool,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Int => "Int",
            Ty::Bool => "Bool",
        }
    }
}

const ROW: &str = "! {Log, Observe, Deposit, Withdraw, Random, Now}";

struct Gen {
    rng: u64,
    funcs: Vec<(String, Vec<Ty>, Ty)>,
    vars: Vec<(String, Ty)>,
    next_var: u32,
}

impl Gen {
    fn next(&mut self) -> u64 {
        // SplitMix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn ty(&mut self) -> Ty {
        if self.chance(70) { Ty::Int } else { Ty::Bool }
    }

    fn int_lit(&mut self) -> String {
        match self.below(10) {
            0 => "9223372036854775807".into(),
            1 => "(-9223372036854775807 - 1)".into(),
            2 => ["4294967296", "2147483647", "2147483648", "3037000500", "(-4294967297)"]
                [self.below(5) as usize]
                .into(),
            3 => format!("{}", self.next() as i64 >> self.below(64)).replace('-', "0 - "),
            _ => {
                let v = self.below(41) as i64 - 20;
                if v < 0 { format!("({v})") } else { v.to_string() }
            }
        }
    }

    fn var(&mut self, ty: Ty) -> Option<String> {
        let of: Vec<String> =
            self.vars.iter().filter(|(_, t)| *t == ty).map(|(n, _)| n.clone()).collect();
        (!of.is_empty()).then(|| of[self.below(of.len() as u64) as usize].clone())
    }

    fn fresh(&mut self) -> String {
        self.next_var += 1;
        format!("v{}", self.next_var)
    }

    fn call(&mut self, ret: Ty, depth: u32) -> Option<String> {
        let callable: Vec<usize> =
            (0..self.funcs.len()).filter(|&i| self.funcs[i].2 == ret).collect();
        if callable.is_empty() {
            return None;
        }
        let i = callable[self.below(callable.len() as u64) as usize];
        let (name, params, _) = self.funcs[i].clone();
        let args: Vec<String> =
            params.iter().map(|p| self.expr(*p, depth.saturating_sub(1))).collect();
        Some(format!("{name}({})", args.join(", ")))
    }

    fn expr(&mut self, ty: Ty, depth: u32) -> String {
        if depth == 0 || self.chance(15) {
            return match (ty, self.var(ty)) {
                (_, Some(v)) if self.chance(60) => v,
                (Ty::Int, _) => self.int_lit(),
                (Ty::Bool, _) => if self.chance(50) { "true" } else { "false" }.into(),
            };
        }
        let d = depth - 1;
        match (ty, self.below(10)) {
            (_, 0) => {
                let c = self.expr(Ty::Bool, d);
                let (a, b) = (self.expr(ty, d), self.expr(ty, d));
                format!("if {c} {{ {a} }} else {{ {b} }}")
            }
            (_, 1) => {
                let t = self.ty();
                let value = self.expr(t, d);
                let name = self.fresh();
                self.vars.push((name.clone(), t));
                let body = self.expr(ty, d);
                self.vars.pop();
                let stmt = if self.chance(20) {
                    "perform Log(\"step\"); ".to_string()
                } else {
                    String::new()
                };
                format!("{{ let {name} = {value}; {stmt}{body} }}")
            }
            (_, 2) => {
                let on = self.ty();
                let scrutinee = self.expr(on, d);
                let mut arms = Vec::new();
                for _ in 0..self.below(3) {
                    let lit = match on {
                        Ty::Int => (self.below(7) as i64 - 3).to_string(),
                        Ty::Bool => if self.chance(50) { "true" } else { "false" }.into(),
                    };
                    let body = self.expr(ty, d);
                    arms.push(format!("{lit} => {body}"));
                }
                let name = self.fresh();
                self.vars.push((name.clone(), on));
                let guard = self.expr(Ty::Bool, d);
                let body = self.expr(ty, d);
                arms.push(format!("{name} if {guard} => {body}"));
                self.vars.pop();
                let last = self.expr(ty, d);
                arms.push(format!("_ => {last}"));
                format!("match {scrutinee} {{ {} }}", arms.join(", "))
            }
            (_, 3) => self.call(ty, depth).unwrap_or_else(|| self.expr(ty, d)),
            (Ty::Int, 4) => match self.below(4) {
                0 => format!(
                    "perform Random({})",
                    if self.chance(80) {
                        (self.below(100) + 1).to_string()
                    } else {
                        self.expr(Ty::Int, d)
                    }
                ),
                1 => {
                    format!("perform Observe(\"{}\")", if self.chance(90) { "ETH" } else { "BTC" })
                }
                2 => "now()".into(),
                _ => {
                    let (op, amount) = (
                        if self.chance(50) { "Deposit" } else { "Withdraw" },
                        self.expr(Ty::Int, d),
                    );
                    format!("{{ perform {op}(\"alice\", {amount}); {} }}", self.expr(Ty::Int, d))
                }
            },
            (Ty::Int, 5) => format!("(-{})", self.expr(Ty::Int, d)),
            (Ty::Int, _) => {
                let op = ["+", "-", "*", "+", "-", "*", "/", "%"][self.below(8) as usize];
                format!("({} {op} {})", self.expr(Ty::Int, d), self.expr(Ty::Int, d))
            }
            (Ty::Bool, 4 | 5) => {
                let op = ["==", "!=", "<", "<=", ">", ">="][self.below(6) as usize];
                format!("({} {op} {})", self.expr(Ty::Int, d), self.expr(Ty::Int, d))
            }
            (Ty::Bool, 6) => format!("(!{})", self.expr(Ty::Bool, d)),
            (Ty::Bool, 7) => format!("({} == {})", self.expr(Ty::Bool, d), self.expr(Ty::Bool, d)),
            (Ty::Bool, _) => {
                let op = if self.chance(50) { "&&" } else { "||" };
                format!("({} {op} {})", self.expr(Ty::Bool, d), self.expr(Ty::Bool, d))
            }
        }
    }

    fn function(&mut self, out: &mut String, i: usize) {
        let name = format!("f{i}");
        let ret = self.ty();
        let params: Vec<Ty> = (0..self.below(6)).map(|_| self.ty()).collect();
        self.vars = params.iter().enumerate().map(|(k, t)| (format!("p{k}"), *t)).collect();
        let list: Vec<String> =
            params.iter().enumerate().map(|(k, t)| format!("p{k}: {}", t.name())).collect();
        let body = self.expr(ret, 4);
        let _ =
            writeln!(out, "fn {name}({}) -> {} {ROW} {{ {body} }}", list.join(", "), ret.name());
        self.funcs.push((name, params, ret));
    }

    /// `r{i}(n, acc)`: recursion on `n` down to 0, in tail position or not.
    fn recursive(&mut self, out: &mut String, i: usize) {
        let name = format!("r{i}");
        self.vars = vec![("n".into(), Ty::Int), ("acc".into(), Ty::Int)];
        let base = self.expr(Ty::Int, 2);
        let step = self.expr(Ty::Int, 2);
        let recurse = if self.chance(50) {
            format!("{name}(n - 1, {step})")
        } else {
            format!("({step} + {name}(n - 1, acc))")
        };
        let _ = writeln!(
            out,
            "fn {name}(n: Int, acc: Int) -> Int {ROW} {{ if n <= 0 {{ {base} }} else {{ {recurse} }} }}"
        );
        self.funcs.push((name, vec![Ty::Int, Ty::Int], Ty::Int));
    }
}

/// A program whose `main` takes no argument.
pub fn program(seed: u64) -> String {
    let mut g = Gen { rng: seed, funcs: Vec::new(), vars: Vec::new(), next_var: 0 };
    let mut out = String::new();
    for i in 0..1 + g.below(4) as usize {
        if g.chance(25) {
            g.recursive(&mut out, i);
        } else {
            g.function(&mut out, i);
        }
    }
    g.vars.clear();
    let ret = g.ty();
    // main calls the recursive functions with a depth now and then past the limit.
    let body = match g.funcs.iter().position(|f| f.0.starts_with('r')) {
        Some(r) if g.chance(60) => {
            let n = ["3", "10", "100", "1000", "150000"][g.below(5) as usize];
            let name = g.funcs[r].0.clone();
            let call = format!("{name}({n}, {})", g.int_lit());
            if ret == Ty::Int {
                format!("({call} - {})", g.expr(Ty::Int, 2))
            } else {
                format!("({call} > 0)")
            }
        }
        _ => g.call(ret, 3).unwrap_or_else(|| g.expr(ret, 3)),
    };
    let _ = writeln!(out, "fn main() -> {} {ROW} {{ {body} }}", ret.name());
    out
}
