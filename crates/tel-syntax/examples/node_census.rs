//! Counts the nodes and tokens of each kind in the benchmark's generated 1,000-function
//! file: where the tree's size (and so the parser's time) goes.

use std::collections::HashMap;

fn main() {
    let text = tel_testgen::generate_file(1_000);
    let parse = tel_syntax::parse(&text);
    let mut counts: HashMap<String, usize> = HashMap::new();
    let (mut nodes, mut tokens) = (0, 0);
    for e in parse.syntax_node().descendants_with_tokens() {
        match &e {
            rowan::NodeOrToken::Node(_) => nodes += 1,
            rowan::NodeOrToken::Token(_) => tokens += 1,
        }
        *counts.entry(format!("{:?}", e.kind())).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    println!(
        "{} bytes, {} lines: {nodes} nodes, {tokens} tokens",
        text.len(),
        text.lines().count()
    );
    for (kind, n) in counts.iter().take(25) {
        println!("{n:>8} {kind}");
    }
}
