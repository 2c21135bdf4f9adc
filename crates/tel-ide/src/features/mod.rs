//! Editor features over [`crate::Analysis`] (hover, inlay hints, lenses, navigation, symbols,
//! semantic tokens, folding): one module each, answering in text ranges; the LSP layer
//! converts. What a name means is decided in one place, [`target`].

pub mod code_actions;
pub mod code_lens;
pub mod completion;
pub mod dependents;
pub mod document_symbols;
pub mod folding;
pub mod goto_definition;
pub mod hover;
pub mod inlay_hints;
pub mod references;
pub mod rename;
pub mod render;
pub mod semantic_tokens;
pub mod signature_help;
pub mod store;
pub mod target;
pub mod workspace_symbols;

pub use code_actions::{Assist, AssistKind};
pub use code_lens::{Lens, LensConfig, LensKind};
pub use completion::{CompletionItem, CompletionKind};
pub use document_symbols::{Symbol, SymbolKind};
pub use folding::{Fold, FoldKind};
pub use goto_definition::Destination;
pub use hover::HoverResult;
pub use inlay_hints::{InlayConfig, InlayHint, InlayKind};
pub use rename::RenameEdit;
pub use semantic_tokens::{SemanticToken, TokenKind};
pub use signature_help::SignatureHelp;
pub use store::{BatchError, StoreInfo, StoreStatus};
pub use target::{FileRange, Found, NavTarget, Reference, Target};
pub use workspace_symbols::WorkspaceSymbol;
