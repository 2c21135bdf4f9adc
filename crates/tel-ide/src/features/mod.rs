//! Editor features over [`crate::Analysis`] (hover, inlay hints, lenses, navigation, completion, rename): one module each, answering in text ranges; the LSP layer converts.
