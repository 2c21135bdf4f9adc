//! Builds the green tree. It does what rowan's `GreenNodeBuilder` does — the same tree —
//! but shares more and costs less on the cases that dominate a large file:
//! - keywords and punctuation (whose text is fixed by their kind) and the frequent
//!   whitespace shapes are found by index, short names and numbers by a 128-bit key (no
//!   string hashed or compared);
//! - equal nodes of any size are shared, not only the small ones: in a typical file most
//!   large nodes repeat one already built, and each shared one is an allocation saved now
//!   and a free saved when the tree is dropped;
//! - the open nodes' children are 32-bit ids of shared elements, not elements, so a child
//!   costs no reference count change until it goes into a node that is really built.
//!
//! Sharing is invisible: green trees compare by structure, and a shared node is immutable.

use rowan::{GreenNode, GreenToken, NodeOrToken};
use std::collections::hash_map::Entry;
use std::ops::Range;

use rustc_hash::FxHashMap;

use crate::SyntaxKind;

type Element = NodeOrToken<GreenNode, GreenToken>;

/// A position in the current node's children where a node can later be started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checkpoint(usize);

/// Nodes with at most this many children (the frequent ones: `NAME_REF`, `PATH`,
/// `LITERAL`, …) are looked up by a [`NodeKey`] packed in two words; nodes with at most
/// [`MEDIUM_KEY_MAX_CHILDREN`] by a [`MediumKey`] of five words; larger ones by their kind
/// and children's ids as a slice.
const PACKED_KEY_MAX_CHILDREN: usize = 3;
const MEDIUM_KEY_MAX_CHILDREN: usize = 9;

/// Whitespace of the shapes `" "×k` and `"\n" + " "×k` for k below this is found by index.
const INDEXED_SPACES: usize = 32;

/// The slot of the frequent whitespace shapes (a third of all tokens): runs of spaces, and
/// a newline followed by indentation. Found by looking at the bytes, without hashing.
fn whitespace_slot(bytes: &[u8]) -> Option<usize> {
    let (newline, spaces) = match bytes.first() {
        Some(b'\n') => (1, &bytes[1..]),
        _ => (0, bytes),
    };
    (spaces.len() < INDEXED_SPACES && all_spaces(spaces))
        .then(|| newline * INDEXED_SPACES + spaces.len())
}

/// Whether `bytes` are all spaces: eight at a time (indentation is mostly 4 to 16 spaces).
fn all_spaces(bytes: &[u8]) -> bool {
    const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let whole = chunks.by_ref().all(
        |chunk| matches!(<[u8; 8]>::try_from(chunk), Ok(c) if u64::from_le_bytes(c) == SPACES),
    );
    whole && chunks.remainder().iter().all(|&b| b == b' ')
}

/// Tokens of at most this many bytes have a [`short_token_key`].
const SHORT_TOKEN_MAX_LEN: usize = 13;

/// The token of `kind` at `range` in `text`, of at most [`SHORT_TOKEN_MAX_LEN`] bytes, as
/// one number holding its bytes, its length and its kind: found without hashing a string
/// or comparing bytes.
fn short_token_key(kind: SyntaxKind, text: &[u8], range: Range<usize>) -> Option<u128> {
    let len = range.len();
    if len > SHORT_TOKEN_MAX_LEN {
        return None;
    }
    // the 16 bytes from the token's start, when the text has them: one load, no copy loop
    let window: [u8; 16] = match text.get(range.start..range.start + 16) {
        Some(window) => window.try_into().ok()?,
        None => {
            let mut window = [0u8; 16];
            window[..len].copy_from_slice(text.get(range)?);
            window
        }
    };
    let bytes = u128::from_le_bytes(window) & ((1u128 << (8 * len)) - 1);
    Some(bytes | (len as u128) << 104 | (kind as u128) << 112)
}

/// The id of a shared element: its index in [`TreeBuilder::shared`]. Equal shared
/// elements have equal ids; an unshared element (a node too big to share, or with an
/// unshared child) has none, and stands in `children` as [`UNSHARED`].
type Id = u32;
const UNSHARED: Id = Id::MAX;

/// A shareable node by its kind and its children's ids, packed into two words: built in
/// registers and hashed in two steps. (An array of ids written one by one and read back
/// whole stalls the CPU's store forwarding, which was a tenth of the parse.)
#[derive(Debug, PartialEq, Eq, Hash)]
struct NodeKey(u64, u64);

impl NodeKey {
    fn new(kind: SyntaxKind, children: &[Id]) -> NodeKey {
        let id = |i: usize| children.get(i).copied().unwrap_or(UNSHARED) as u64;
        let head = ((kind as u64) << 48) | ((children.len() as u64) << 32);
        NodeKey(head | id(0), (id(1) << 32) | id(2))
    }
}

/// A node of at most [`MEDIUM_KEY_MAX_CHILDREN`] children, all shared, by its kind, its
/// number of children and their ids packed into five words (no slice to copy, hash or
/// compare byte by byte: most large nodes are of this size).
#[derive(Debug, PartialEq, Eq)]
struct MediumKey([u64; 5]);

impl MediumKey {
    fn new(kind: SyntaxKind, children: &[Id]) -> MediumKey {
        let id = |i: usize| children.get(i).copied().unwrap_or(UNSHARED) as u64;
        let pair = |i: usize| (id(i) << 32) | id(i + 1);
        let head = ((kind as u64) << 48) | ((children.len() as u64) << 32) | id(0);
        MediumKey([head, pair(1), pair(3), pair(5), pair(7)])
    }
}

impl std::hash::Hash for MediumKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // word by word: an array's derived hash would hash its bytes as a slice
        for &word in &self.0 {
            state.write_u64(word);
        }
    }
}

/// The open nodes' children are ids, not elements: a child that an equal, already shared
/// node replaces is then never cloned nor dropped (each of those is an atomic reference
/// count change), and an element is cloned only into the node that keeps it.
pub(crate) struct TreeBuilder<'t> {
    /// The text the tokens are ranges of.
    text: &'t str,
    parents: Vec<(SyntaxKind, usize)>,
    /// The children of the open nodes.
    children: Vec<Id>,
    /// The unshared children of the open nodes, in the order of their [`UNSHARED`] entries
    /// in `children`: the children of the node being finished are a suffix of `children`,
    /// so its unshared ones are a suffix of this.
    unshared: Vec<Element>,
    /// The shared elements, by id.
    shared: Vec<Element>,
    /// The token of each keyword or punctuation kind, or [`UNSHARED`] until there is one.
    fixed: Vec<Id>,
    /// Whitespace tokens by [`whitespace_slot`] (a third of all tokens).
    whitespace: [Id; 2 * INDEXED_SPACES],
    /// The other tokens of at most [`SHORT_TOKEN_MAX_LEN`] bytes (most names and
    /// numbers), by [`short_token_key`].
    short_tokens: FxHashMap<u128, Id>,
    /// The other tokens.
    tokens: FxHashMap<(SyntaxKind, &'t str), Id>,
    nodes: FxHashMap<NodeKey, Id>,
    /// Nodes of more than [`PACKED_KEY_MAX_CHILDREN`] children and at most
    /// [`MEDIUM_KEY_MAX_CHILDREN`]. (rowan shares only small nodes; in a typical file,
    /// though, four large nodes in five repeat one already built: a `match` arm, a
    /// parameter, a binary expression. Sharing them saves most of the allocations, and as
    /// much again when the tree is freed.)
    medium_nodes: FxHashMap<MediumKey, Id>,
    /// Nodes of more than [`MEDIUM_KEY_MAX_CHILDREN`] children, by their kind followed by
    /// their children's ids.
    large_nodes: FxHashMap<Box<[Id]>, Id>,
    /// Scratch space for a key of `large_nodes`.
    large_key: Vec<Id>,
    /// How many elements may be shared ([`ID_LIMIT`] but in tests).
    id_limit: usize,
}

/// The children `ids` as elements: shared ones cloned, unshared ones taken from the end of
/// `unshared`, in order.
struct Elements<'a> {
    ids: std::slice::Iter<'a, Id>,
    shared: &'a [Element],
    unshared: std::vec::Drain<'a, Element>,
}

impl Iterator for Elements<'_> {
    type Item = Element;

    fn next(&mut self) -> Option<Element> {
        let &id = self.ids.next()?;
        if id == UNSHARED { self.unshared.next() } else { Some(self.shared[id as usize].clone()) }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }
}

impl ExactSizeIterator for Elements<'_> {}

/// A new node of `kind` over the children `ids` (whose unshared elements end `unshared`).
fn new_node(
    kind: SyntaxKind,
    ids: &[Id],
    shared: &[Element],
    unshared: &mut Vec<Element>,
) -> GreenNode {
    let taken = ids.iter().filter(|&&id| id == UNSHARED).count();
    let from = unshared.len() - taken;
    let elements = Elements { ids: ids.iter(), shared, unshared: unshared.drain(from..) };
    GreenNode::new(kind.into(), elements)
}

/// The children `ids`, all shared, as elements.
struct SharedElements<'a> {
    ids: std::slice::Iter<'a, Id>,
    shared: &'a [Element],
}

impl Iterator for SharedElements<'_> {
    type Item = Element;

    // inlined into rowan's loop that fills the node (as a closure it was a call per child)
    #[inline(always)]
    fn next(&mut self) -> Option<Element> {
        let &id = self.ids.next()?;
        self.shared.get(id as usize).cloned()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }
}

impl ExactSizeIterator for SharedElements<'_> {}

/// A new node of `kind` over the children `ids`, all shared.
fn new_shared_node(kind: SyntaxKind, ids: &[Id], shared: &[Element]) -> GreenNode {
    GreenNode::new(kind.into(), SharedElements { ids: ids.iter(), shared })
}

/// How many elements can be shared: every id but [`UNSHARED`].
const ID_LIMIT: usize = UNSHARED as usize;

/// Stores a new element: shared under a fresh id, or (past `limit` shared elements,
/// rather than reuse an id) unshared.
/// The id of the node already built under `key`, else of the one `build` makes (remembered
/// under `key` unless it is past the id limit, where nothing is shared).
fn interned<K: std::hash::Hash + Eq>(
    map: &mut FxHashMap<K, Id>,
    key: K,
    build: impl FnOnce() -> Id,
) -> Id {
    match map.entry(key) {
        Entry::Occupied(entry) => *entry.get(),
        Entry::Vacant(entry) => {
            let id = build();
            if id != UNSHARED {
                entry.insert(id);
            }
            id
        }
    }
}

fn add(shared: &mut Vec<Element>, unshared: &mut Vec<Element>, limit: usize, e: Element) -> Id {
    if shared.len() < limit {
        shared.push(e);
        (shared.len() - 1) as Id
    } else {
        unshared.push(e);
        UNSHARED
    }
}

impl<'t> TreeBuilder<'t> {
    /// A builder for the tokens of `text`.
    pub(crate) fn new(text: &'t str) -> TreeBuilder<'t> {
        Self::with_id_limit(text, ID_LIMIT)
    }

    /// A builder that shares at most `id_limit` (at most [`ID_LIMIT`]) elements: the
    /// elements past the limit are built unshared.
    pub(crate) fn with_id_limit(text: &'t str, id_limit: usize) -> TreeBuilder<'t> {
        // Typical TEL averages more than 2 bytes per token: size the caches once.
        let tokens = text.len() / 2;
        let mut nodes = FxHashMap::default();
        nodes.reserve(tokens / 8);
        let mut short_tokens = FxHashMap::default();
        short_tokens.reserve(tokens / 32);
        let mut medium_nodes = FxHashMap::default();
        medium_nodes.reserve(tokens / 64);
        let mut large_nodes = FxHashMap::default();
        large_nodes.reserve(tokens / 256);
        TreeBuilder {
            text,
            parents: Vec::with_capacity(64),
            children: Vec::with_capacity(256),
            unshared: Vec::with_capacity(64),
            shared: Vec::with_capacity(tokens / 8),
            fixed: vec![UNSHARED; SyntaxKind::SOURCE_FILE as usize],
            whitespace: [UNSHARED; 2 * INDEXED_SPACES],
            short_tokens,
            tokens: FxHashMap::default(),
            nodes,
            medium_nodes,
            large_nodes,
            large_key: Vec::new(),
            id_limit: id_limit.min(ID_LIMIT),
        }
    }

    /// Adds the token of `kind` spanning `start..end` in the text. The text is looked at
    /// only when the kind does not tell it.
    #[inline(always)]
    pub(crate) fn token(&mut self, kind: SyntaxKind, start: u32, end: u32) {
        let range = start as usize..end as usize;
        let id = if kind.is_keyword() || kind.is_punct() {
            // The lexer gives each of these kinds one spelling (and the parser remaps only
            // `as` to AS_KW), so the kind alone identifies the token.
            match self.fixed[kind as usize] {
                UNSHARED => {
                    let id = self.new_token(kind, range);
                    self.fixed[kind as usize] = id;
                    id
                }
                id => {
                    debug_assert_eq!(
                        self.shared[id as usize].as_token().map(|t| t.text()),
                        self.text.get(range)
                    );
                    id
                }
            }
        } else if let Some(slot) = (kind == SyntaxKind::WHITESPACE)
            .then(|| self.text.as_bytes().get(range.clone()).and_then(whitespace_slot))
            .flatten()
        {
            match self.whitespace[slot] {
                UNSHARED => {
                    let id = self.new_token(kind, range);
                    self.whitespace[slot] = id;
                    id
                }
                id => id,
            }
        } else {
            self.other_token(kind, range)
        };
        self.children.push(id);
    }

    #[cold]
    #[inline(never)]
    fn new_token(&mut self, kind: SyntaxKind, range: Range<usize>) -> Id {
        let token = GreenToken::new(kind.into(), &self.text[range]);
        add(&mut self.shared, &mut self.unshared, self.id_limit, NodeOrToken::Token(token))
    }

    #[inline(never)]
    fn other_token(&mut self, kind: SyntaxKind, range: Range<usize>) -> Id {
        if let Some(key) = short_token_key(kind, self.text.as_bytes(), range.clone()) {
            match self.short_tokens.get(&key) {
                Some(&id) => id,
                None => self.new_short_token(kind, range, key),
            }
        } else {
            self.long_token(kind, range)
        }
    }

    // apart from `other_token`, whose frequent case (a name seen before) is then lighter
    #[cold]
    #[inline(never)]
    fn new_short_token(&mut self, kind: SyntaxKind, range: Range<usize>, key: u128) -> Id {
        let id = self.new_token(kind, range);
        if id != UNSHARED {
            self.short_tokens.insert(key, id);
        }
        id
    }

    #[inline(never)]
    fn long_token(&mut self, kind: SyntaxKind, range: Range<usize>) -> Id {
        let text = &self.text[range.clone()];
        if let Some(&id) = self.tokens.get(&(kind, text)) {
            return id;
        }
        let id = self.new_token(kind, range);
        if id != UNSHARED {
            self.tokens.insert((kind, text), id);
        }
        id
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
        let ids = &self.children[first..];
        // A node with an unshared child can never equal another: no lookup (rowan's rule).
        // (There are unshared elements only past the id limit: test that first.)
        let id = if !self.unshared.is_empty() && ids.contains(&UNSHARED) {
            let node = new_node(kind, ids, &self.shared, &mut self.unshared);
            self.unshared.push(NodeOrToken::Node(node));
            UNSHARED
        } else {
            let (shared, unshared, limit) = (&mut self.shared, &mut self.unshared, self.id_limit);
            let mut build = move || {
                let node = new_shared_node(kind, ids, shared);
                add(shared, unshared, limit, NodeOrToken::Node(node))
            };
            if ids.len() <= PACKED_KEY_MAX_CHILDREN {
                interned(&mut self.nodes, NodeKey::new(kind, ids), build)
            } else if ids.len() <= MEDIUM_KEY_MAX_CHILDREN {
                interned(&mut self.medium_nodes, MediumKey::new(kind, ids), build)
            } else {
                // Looked up by the scratch key: a boxed key is made only for a new node.
                self.large_key.clear();
                self.large_key.push(kind as Id);
                self.large_key.extend_from_slice(ids);
                match self.large_nodes.get(self.large_key.as_slice()) {
                    Some(&id) => id,
                    None => {
                        let id = build();
                        if id != UNSHARED {
                            self.large_nodes.insert(self.large_key.as_slice().into(), id);
                        }
                        id
                    }
                }
            }
        };
        self.children.truncate(first);
        self.children.push(id);
    }

    /// The root, once every node is finished.
    pub(crate) fn finish(mut self) -> GreenNode {
        debug_assert!(self.parents.is_empty() && self.children.len() == 1);
        let root = match self.children.pop() {
            Some(UNSHARED) => self.unshared.pop(),
            Some(id) => self.shared.get(id as usize).cloned(),
            None => None,
        };
        match root {
            Some(NodeOrToken::Node(root)) => root,
            _ => GreenNode::new(SyntaxKind::SOURCE_FILE.into(), std::iter::empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::Parser;
    use crate::{GreenNodeData, grammar};

    fn parse_with_id_limit(text: &str, limit: usize) -> GreenNode {
        let mut p = Parser::with_builder(text, TreeBuilder::with_id_limit(text, limit));
        grammar::source_file(&mut p);
        p.finish_tree().0
    }

    #[test]
    fn past_the_id_limit_the_tree_is_the_same() {
        let valid = tel_testgen::generate_file(3);
        let broken = format!("{valid}\nfn (( let x = ; }} match {{ 1 => }} \"unterminated\n/* x");
        for text in [valid, broken] {
            let full = crate::parse(&text).green;
            for limit in [0, 1, 2, 10, 100, 1000] {
                assert_eq!(parse_with_id_limit(&text, limit), full, "limit {limit}");
            }
        }
    }

    /// The green nodes of `kind` in the tree of `text`, by address.
    fn green_nodes(text: &str, kind: SyntaxKind) -> Vec<*const GreenNodeData> {
        let parse = crate::parse(text);
        assert!(parse.ok(), "{:?}", parse.errors);
        let root = parse.syntax_node();
        let nodes = root.descendants().filter(|n| n.kind() == kind);
        nodes.map(|n| &*n.green() as *const GreenNodeData).collect()
    }

    #[test]
    fn equal_large_nodes_are_one_allocation() {
        // an `if` has nine children (a medium key)
        let text = "fn f(x: Int) -> Int {\n    let a = if x > 1 { x } else { 0 };\n    let b = if x > 1 { x } else { 0 };\n    a + b\n}\n";
        let ifs = green_nodes(text, SyntaxKind::IF_EXPR);
        assert_eq!(ifs.len(), 2);
        assert_eq!(ifs[0], ifs[1], "the two equal `if` expressions share one green node");
        // these blocks have eleven (a slice key)
        let body = "{\n    let a = 1;\n    let b = 2;\n    let c = 3;\n    a + b + c\n}";
        let text = format!("fn f() -> Int {body}\nfn g() -> Int {body}\nfn h() -> Int {{ 1 }}\n");
        let blocks = green_nodes(&text, SyntaxKind::BLOCK_EXPR);
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0], blocks[1], "the two equal bodies share one green node");
        assert_ne!(blocks[0], blocks[2]);
    }

    #[test]
    fn whitespace_slots() {
        let slot = |text: &str| whitespace_slot(text.as_bytes());
        let spaces = |n: usize| " ".repeat(n);
        assert_eq!(slot(" "), Some(1));
        assert_eq!(slot("\n"), Some(INDEXED_SPACES));
        for n in [7, 8, 9, 16, 17, 31] {
            assert_eq!(slot(&spaces(n)), Some(n));
            assert_eq!(slot(&format!("\n{}", spaces(n))), Some(INDEXED_SPACES + n));
            // a stray byte anywhere, in the eight-byte chunks or the rest, is no slot
            for at in 0..n {
                let mut text = spaces(n).into_bytes();
                text[at] = b'\t';
                assert_eq!(whitespace_slot(&text), None, "{n} spaces, tab at {at}");
            }
        }
        assert_eq!(slot(&spaces(32)), None);
        assert_eq!(slot("\n\n"), None);
        assert_eq!(slot(" \n"), None);
    }

    #[test]
    fn short_token_keys_tell_tokens_apart() {
        use SyntaxKind::{IDENT, INT};
        let text = "abc abc\0 abd ab abc";
        let key = |kind, range| short_token_key(kind, text.as_bytes(), range);
        // far from the end the key is read from a 16-byte window, at the end it is copied
        assert_eq!(key(IDENT, 0..3), key(IDENT, 16..19));
        assert_ne!(key(IDENT, 0..3), key(IDENT, 4..8));
        assert_ne!(key(IDENT, 0..3), key(IDENT, 9..12));
        assert_ne!(key(IDENT, 0..3), key(IDENT, 13..15));
        assert_ne!(key(IDENT, 0..3), key(INT, 0..3));
        assert_eq!(short_token_key(IDENT, b"abcdefghijklmn", 0..14), None);
        assert!(short_token_key(IDENT, b"abcdefghijklm", 0..13).is_some());
    }
}
