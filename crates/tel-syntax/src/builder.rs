//! Builds the green tree. It does what rowan's `GreenNodeBuilder` does — the same tree,
//! with equal tokens and equal small nodes shared — but faster on the cases that dominate a
//! large file: keywords and punctuation (whose text is fixed by their kind) and the frequent
//! whitespace shapes are found by index, without hashing, and the small-node cache has compact keys (32-bit ids of the
//! children instead of hashes and pointers), so more of it stays in the CPU cache.

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

/// Whitespace of the shapes `" "×k` and `"\n" + " "×k` for k below this is found by index.
const INDEXED_SPACES: usize = 32;

/// The slot of the frequent whitespace shapes (a third of all tokens): runs of spaces, and
/// a newline followed by indentation. Found by looking at the bytes, without hashing.
fn whitespace_slot(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (newline, spaces) = match bytes.first() {
        Some(b'\n') => (1, &bytes[1..]),
        _ => (0, bytes),
    };
    (spaces.len() < INDEXED_SPACES && spaces.iter().all(|&b| b == b' '))
        .then(|| newline * INDEXED_SPACES + spaces.len())
}

/// The id of a shared element: equal shared elements have equal ids. Unshared elements
/// (nodes too big to share, or with an unshared child) have none.
type Id = u32;
const UNSHARED: Id = Id::MAX;

/// A shareable node by its kind and its children's ids, packed into two words: built in
/// registers and hashed in two steps. (An array of ids written one by one and read back
/// whole stalls the CPU's store forwarding, which was a tenth of the parse.)
#[derive(Debug, PartialEq, Eq, Hash)]
struct NodeKey(u64, u64);

impl NodeKey {
    fn new(kind: SyntaxKind, children: &[(Element, Id)]) -> NodeKey {
        let id = |i: usize| children.get(i).map_or(UNSHARED, |&(_, id)| id) as u64;
        let head = ((kind as u64) << 48) | ((children.len() as u64) << 32);
        NodeKey(head | id(0), (id(1) << 32) | id(2))
    }
}

pub(crate) struct TreeBuilder<'t> {
    parents: Vec<(SyntaxKind, usize)>,
    /// The children of the open nodes, with their ids.
    children: Vec<(Element, Id)>,
    next_id: Id,
    /// One token per keyword or punctuation kind.
    fixed: Vec<Option<(GreenToken, Id)>>,
    /// Whitespace tokens by [`whitespace_slot`] (a third of all tokens).
    whitespace: Vec<Option<(GreenToken, Id)>>,
    tokens: FxHashMap<(SyntaxKind, &'t str), (GreenToken, Id)>,
    nodes: FxHashMap<NodeKey, (GreenNode, Id)>,
}

impl<'t> TreeBuilder<'t> {
    /// `tokens`: the number of tokens to come, to size the caches once.
    pub(crate) fn new(tokens: usize) -> TreeBuilder<'t> {
        let mut nodes = FxHashMap::default();
        nodes.reserve(tokens / 8);
        let mut token_cache = FxHashMap::default();
        token_cache.reserve(tokens / 32);
        TreeBuilder {
            parents: Vec::with_capacity(64),
            children: Vec::with_capacity(256),
            next_id: 0,
            fixed: vec![None; SyntaxKind::SOURCE_FILE as usize],
            whitespace: vec![None; 2 * INDEXED_SPACES],
            tokens: token_cache,
            nodes,
        }
    }

    fn fresh_id(&mut self) -> Id {
        // past 4 billion shared elements, stop sharing rather than reuse an id
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    pub(crate) fn token(&mut self, kind: SyntaxKind, text: &'t str) {
        let (token, id) = if kind.is_keyword() || kind.is_punct() {
            // The lexer gives each of these kinds one spelling (and the parser remaps only
            // `as` to AS_KW), so the kind alone identifies the token.
            match &self.fixed[kind as usize] {
                Some((t, id)) => {
                    debug_assert_eq!(t.text(), text);
                    (t.clone(), *id)
                }
                None => {
                    let entry = (GreenToken::new(kind.into(), text), self.fresh_id());
                    self.fixed[kind as usize] = Some(entry.clone());
                    entry
                }
            }
        } else if let Some(slot) = whitespace_slot(text).filter(|_| kind == SyntaxKind::WHITESPACE)
        {
            match &self.whitespace[slot] {
                Some((t, id)) => (t.clone(), *id),
                None => {
                    let entry = (GreenToken::new(kind.into(), text), self.fresh_id());
                    self.whitespace[slot] = Some(entry.clone());
                    entry
                }
            }
        } else {
            match self.tokens.get(&(kind, text)) {
                Some((token, id)) => (token.clone(), *id),
                None => {
                    let entry = (GreenToken::new(kind.into(), text), self.fresh_id());
                    self.tokens.insert((kind, text), entry.clone());
                    entry
                }
            }
        };
        self.children.push((NodeOrToken::Token(token), id));
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
        // A node with an unshared child can never equal another: no lookup (rowan's rule).
        let shareable = children.len() <= SHARED_NODE_MAX_CHILDREN
            && children.iter().all(|&(_, id)| id != UNSHARED);
        if !shareable {
            let node = GreenNode::new(kind.into(), self.children.drain(first..).map(|(e, _)| e));
            self.children.push((NodeOrToken::Node(node), UNSHARED));
            return;
        }
        let key = NodeKey::new(kind, children);
        let (node, id) = match self.nodes.get(&key) {
            Some((node, id)) => {
                let found = (node.clone(), *id);
                self.children.truncate(first);
                found
            }
            None => {
                let children = self.children.drain(first..).map(|(e, _)| e);
                let node = GreenNode::new(kind.into(), children);
                let id = self.fresh_id();
                self.nodes.insert(key, (node.clone(), id));
                (node, id)
            }
        };
        self.children.push((NodeOrToken::Node(node), id));
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
