//! Counts the green node allocations of the benchmark's generated 1,000-function file, by
//! kind and number of children, next to how many of them are structurally distinct: what
//! the tree builder's sharing leaves to allocate.
use std::collections::{HashMap, HashSet};

fn main() {
    let text = tel_testgen::generate_file(1_000);
    let parse = tel_syntax::parse(&text);
    let mut seen: HashSet<*const tel_syntax::GreenNodeData> = HashSet::new();
    let mut by: HashMap<(String, usize), (usize, usize, usize)> = HashMap::new();
    let mut structural: HashSet<tel_syntax::GreenNode> = HashSet::new();
    let mut stack = vec![parse.green.clone()];
    let mut total = 0;
    while let Some(n) = stack.pop() {
        let ptr = &*n as *const tel_syntax::GreenNodeData;
        if !seen.insert(ptr) {
            continue;
        }
        total += 1;
        let k = (
            format!("{:?}", tel_syntax::SyntaxKind::from_raw(n.kind().0).unwrap()),
            n.children().len(),
        );
        let e = by.entry(k).or_default();
        e.0 += 1;
        if structural.insert(n.clone()) {
            e.1 += 1;
        }
        e.2 += n.children().len();
        for c in n.children() {
            if let rowan::NodeOrToken::Node(c) = c {
                stack.push(c.to_owned());
            }
        }
    }
    let mut v: Vec<_> = by.into_iter().collect();
    v.sort_by_key(|(_, (n, _, _))| std::cmp::Reverse(*n));
    println!("{total} distinct node allocations, {} structurally distinct", structural.len());
    for ((k, c), (n, d, ch)) in v.iter().take(40) {
        println!("{n:>7} allocs {d:>7} distinct {ch:>8} child slots  {k} x{c}");
    }
}
