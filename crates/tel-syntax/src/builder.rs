//! Builds the green tree. It does what rowan's `GreenNodeBuilder` does — the same tree,
//! with equal tokens and equal small nodes shared — but keywords and punctuation, whose
//! text is fixed by their kind, are found by kind without hashing their text. On a large
//! file this builder is most of the parse time, hence the special case.

use rowan::{GreenNode, GreenToken, NodeOrToken};
use rustc_hash::FxHashMap;

use crate::SyntaxKind;

type Element = NodeOrToken<GreenNode, GreenToken>;

/// A position in the current node's children where a node can later be started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checkpoint(usize);

/// Nodes with at most this many children are shared when equal (as rowan does): they are
/// the frequent ones (`NAME_REF`, `PATH`, `LITERAL`, …), and sharing saves an allocation.
const SHARED_NODE_MAX_CHILDREN: usize = 3;

const MAX_CACHED_WHITESPACE: usize = 16;

#[derive(Debug, PartialEq, Eq, Hash)]
struct NodeKey {
    kind: u16,
    /// Identities (addresses) of the children: equal children are the same shared
    /// allocation, and the cache keeps them alive, so an address cannot be reused.
    children: [usize; SHARED_NODE_MAX_CHILDREN],
    len: u8,
}

pub(crate) struct TreeBuilder<'t> {
    parents: Vec<(SyntaxKind, usize)>,
    /// The children of the open nodes, each with whether it is shared: a node with an
    /// unshared child can never equal another, so it is not looked up (rowan's rule too).
    children: Vec<(Element, bool)>,
    /// One token per keyword or punctuation kind.
    fixed: Vec<Option<GreenToken>>,
    /// Whitespace tokens by spelling, most frequent first in practice (first seen).
    whitespace: Vec<(&'t str, GreenToken)>,
    tokens: FxHashMap<(SyntaxKind, &'t str), GreenToken>,
    nodes: FxHashMap<NodeKey, GreenNode>,
}

fn element_id(element: &Element) -> usize {
    match element {
        NodeOrToken::Node(n) => &**n as *const rowan::GreenNodeData as usize,
        NodeOrToken::Token(t) => &**t as *const rowan::GreenTokenData as usize,
    }
}

impl<'t> TreeBuilder<'t> {
    pub(crate) fn new() -> TreeBuilder<'t> {
        TreeBuilder {
            parents: Vec::with_capacity(64),
            children: Vec::with_capacity(256),
            fixed: vec![None; SyntaxKind::SOURCE_FILE as usize],
            whitespace: Vec::new(),
            tokens: FxHashMap::default(),
            nodes: FxHashMap::default(),
        }
    }

    pub(crate) fn token(&mut self, kind: SyntaxKind, text: &'t str) {
        let token = if kind.is_keyword() || kind.is_punct() {
            let slot = &mut self.fixed[kind as usize];
            match slot {
                // The lexer gives each of these kinds one spelling (and the parser remaps
                // only `as` to AS_KW), so the kind alone identifies the token.
                Some(t) => {
                    debug_assert_eq!(t.text(), text);
                    t.clone()
                }
                None => {
                    let t = GreenToken::new(kind.into(), text);
                    *slot = Some(t.clone());
                    t
                }
            }
        } else if kind == SyntaxKind::WHITESPACE && text.len() <= MAX_CACHED_WHITESPACE {
            // a third of all tokens: a handful of spellings (" ", "\n    ", …), found by a
            // short scan instead of hashing
            match self.whitespace.iter().find(|(t, _)| *t == text) {
                Some((_, token)) => token.clone(),
                None => {
                    let token = GreenToken::new(kind.into(), text);
                    if self.whitespace.len() < 32 {
                        self.whitespace.push((text, token.clone()));
                    }
                    token
                }
            }
        } else {
            self.tokens
                .entry((kind, text))
                .or_insert_with(|| GreenToken::new(kind.into(), text))
                .clone()
        };
        self.children.push((NodeOrToken::Token(token), true));
    }

    pub(crate) fn start_node(&mut self, kind: SyntaxKind) {
        self.parents.push((kind, self.children.len()));
    }

    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.children.len())
    }

    /// Starts a node whose first child is the element added right after `checkpoint`.
    /// The checkpoint must have been taken inside the current node.
    pub(crate) fn start_node_at(&mut self, checkpoint: Checkpoint, kind: SyntaxKind) {
        let first = checkpoint.0.min(self.children.len());
        debug_assert!(self.parents.last().is_none_or(|&(_, parent_first)| parent_first <= first));
        self.parents.push((kind, first));
    }

    pub(crate) fn finish_node(&mut self) {
        let Some((kind, first)) = self.parents.pop() else {
            debug_assert!(false, "finish_node without a node");
            return;
        };
        let children = &self.children[first..];
        let shareable = children.len() <= SHARED_NODE_MAX_CHILDREN
            && children.iter().all(|&(_, shared)| shared);
        if !shareable {
            let node = GreenNode::new(kind.into(), self.children.drain(first..).map(|(e, _)| e));
            self.children.push((NodeOrToken::Node(node), false));
            return;
        }
        let mut ids = [0; SHARED_NODE_MAX_CHILDREN];
        for (id, (child, _)) in ids.iter_mut().zip(children) {
            *id = element_id(child);
        }
        let key = NodeKey { kind: kind as u16, children: ids, len: children.len() as u8 };
        let node = match self.nodes.get(&key) {
            Some(node) => {
                let node = node.clone();
                self.children.truncate(first);
                node
            }
            None => {
                let children = self.children.drain(first..).map(|(e, _)| e);
                let node = GreenNode::new(kind.into(), children);
                self.nodes.insert(key, node.clone());
                node
            }
        };
        self.children.push((NodeOrToken::Node(node), true));
    }

    /// The root, once every node is finished.
    pub(crate) fn finish(mut self) -> GreenNode {
        debug_assert!(self.parents.is_empty() && self.children.len() == 1);
        match self.children.pop() {
            Some((NodeOrToken::Node(root), _)) => root,
            _ => GreenNode::new(SyntaxKind::SOURCE_FILE.into(), std::iter::empty()),
        }
    }
}
