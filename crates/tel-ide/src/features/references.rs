//! Find all references and document highlight: every place that names what the name at the
//! cursor names.

use super::target::{FileCtx, Reference};
use crate::{Analysis, Cancellable, FileId, TextRange, TextSize};

impl Analysis {
    /// Every reference to the name at `offset` in the project (declaration included when
    /// `include_declaration`), sorted by file and position.
    pub fn find_all_references(
        &self,
        file: FileId,
        offset: TextSize,
        include_declaration: bool,
    ) -> Cancellable<Vec<Reference>> {
        let Some(found) = self.classify(file, offset)? else { return Ok(Vec::new()) };
        let mut refs = self.references(file, &found.target)?;
        refs.retain(|r| include_declaration || !r.is_definition);
        refs.sort_by_key(|r| (r.file, r.range.start()));
        refs.dedup();
        Ok(refs)
    }

    /// The ranges in `file` naming what the name at `offset` names (for highlighting), with
    /// whether each is the declaration.
    pub fn highlight_related(
        &self,
        file: FileId,
        offset: TextSize,
    ) -> Cancellable<Vec<(TextRange, bool)>> {
        let refs = self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            let Some(found) = ctx.token_at(offset).and_then(|t| ctx.classify(&t)) else {
                return Vec::new();
            };
            self.references_in(db, file, &[file], &found.target)
        })?;
        let mut out: Vec<(TextRange, bool)> =
            refs.into_iter().map(|r| (r.range, r.is_definition)).collect();
        out.sort_by_key(|(r, _)| r.start());
        out.dedup();
        Ok(out)
    }
}
