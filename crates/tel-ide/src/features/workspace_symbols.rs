//! Workspace symbols: the definitions of every file whose name contains the query.

use super::document_symbols::SymbolKind;
use crate::{Analysis, Cancellable, FileId, TextRange};
use tel_hash::core::DefKind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceSymbol {
    /// `module::name`.
    pub name: String,
    pub kind: SymbolKind,
    pub file: FileId,
    pub range: TextRange,
    pub hash: Option<tel_hash::CodeHash>,
}

impl Analysis {
    /// Definitions of every file (the prelude included) whose qualified name contains
    /// `query`, ignoring case, sorted by name; at most `limit`.
    pub fn workspace_symbols(
        &self,
        query: &str,
        limit: usize,
    ) -> Cancellable<Vec<WorkspaceSymbol>> {
        let query = query.to_lowercase();
        let mut out = Vec::new();
        for file in self.files() {
            for d in self.definitions(file)? {
                let name = d.qualified();
                if !name.to_lowercase().contains(&query) {
                    continue;
                }
                let kind = match d.kind {
                    DefKind::Fn => SymbolKind::Function,
                    DefKind::Type => SymbolKind::Type,
                    DefKind::Enum => SymbolKind::Enum,
                    DefKind::Effect => SymbolKind::Effect,
                    DefKind::Schema => SymbolKind::Schema,
                };
                out.push(WorkspaceSymbol { name, kind, file, range: d.name_range, hash: d.hash });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.file.cmp(&b.file)));
        out.dedup_by(|a, b| a.name == b.name && a.file == b.file);
        out.truncate(limit);
        Ok(out)
    }
}
