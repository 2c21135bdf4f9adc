//! Go to definition: from a name to where it is declared.

use tel_hash::CodeHash;
use tel_hir::DefRef;

use super::target::{FileCtx, NavTarget, Target};
use crate::{Analysis, Cancellable, FileId, TextRange, TextSize};

/// Where a name leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A declaration in a file the engine knows (the prelude is `FileId(0)`).
    Source(NavTarget),
    /// A definition that exists only in the code store (`#hash` references).
    Stored(CodeHash),
}

impl Analysis {
    /// The declaration of the name at `offset`, with the name's own range. Builtins have none.
    pub fn goto_definition(
        &self,
        file: FileId,
        offset: TextSize,
    ) -> Cancellable<Option<(TextRange, Destination)>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            let found = ctx.token_at(offset).and_then(|t| ctx.classify(&t))?;
            let dest = match &found.target {
                Target::Def(DefRef::Hash(h), _) => Destination::Stored(*h),
                target => Destination::Source(self.nav_target(db, file, target)?),
            };
            Some((found.range, dest))
        })
    }
}
