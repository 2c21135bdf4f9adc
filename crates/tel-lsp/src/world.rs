//! What a request sees: an engine snapshot with the file table, settings and position
//! encoding of the moment it was taken.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tel_ide::{Analysis, FileId, LineIndex, TextRange, TextSize};
use tower_lsp_server::ls_types::{Location, Position, Range, Uri};

use crate::config::Config;
use crate::convert::{self, Encoding};
use crate::error::{HandlerError, HandlerResult};

/// Every file the engine knows, by id (the engine numbers files from 0, the prelude).
#[derive(Clone, Debug, Default)]
pub struct FileMap {
    files: Vec<FileInfo>,
    by_path: FxHashMap<PathBuf, FileId>,
}

#[derive(Clone, Debug)]
pub struct FileInfo {
    pub path: PathBuf,
    /// The URI the client used (for an open document), else one made from the path; `None`
    /// for the prelude, which has no file.
    pub uri: Option<Uri>,
    pub line_index: Arc<LineIndex>,
    /// The editor's version while the document is open.
    pub version: Option<i32>,
}

impl FileMap {
    pub fn push(&mut self, id: FileId, info: FileInfo) {
        debug_assert_eq!(id.0 as usize, self.files.len(), "file ids are dense");
        self.by_path.insert(info.path.clone(), id);
        self.files.push(info);
    }

    pub fn get(&self, id: FileId) -> Option<&FileInfo> {
        self.files.get(id.0 as usize)
    }

    pub fn get_mut(&mut self, id: FileId) -> Option<&mut FileInfo> {
        self.files.get_mut(id.0 as usize)
    }

    pub fn by_path(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &FileInfo)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }
}

/// The path the engine knows a document by: the file path for `file:` URIs, the URI text
/// for anything else (an unsaved buffer is still a document the server can check).
pub fn uri_to_path(uri: &Uri) -> PathBuf {
    if uri.scheme().as_str().eq_ignore_ascii_case("file")
        && let Some(path) = uri.to_file_path()
    {
        return path.into_owned();
    }
    PathBuf::from(uri.as_str())
}

pub fn path_to_uri(path: &Path) -> Option<Uri> {
    if path.is_absolute() { Uri::from_file_path(path) } else { path.to_str()?.parse().ok() }
}

/// The code store as the language server reads it (a connection of its own, beside the
/// engine's): names, history, dependents.
pub type StoreHandle = Arc<Mutex<tel_store::Store>>;

/// One consistent view for one request (cloning shares it).
#[derive(Clone)]
pub struct Snapshot {
    pub analysis: Analysis,
    pub files: Arc<FileMap>,
    pub config: Arc<Config>,
    pub encoding: Encoding,
    pub store: Option<StoreHandle>,
    /// Where the codebase is (or would be created): `tel.storeAdd` writes there.
    pub codebase_path: Option<PathBuf>,
}

impl Snapshot {
    pub fn file_id(&self, uri: &Uri) -> HandlerResult<FileId> {
        self.files.by_path(&uri_to_path(uri)).ok_or_else(|| {
            HandlerError::InvalidParams(format!(
                "{} is not a document of this workspace (open it first)",
                uri.as_str()
            ))
        })
    }

    fn info(&self, file: FileId) -> HandlerResult<&FileInfo> {
        self.files.get(file).ok_or_else(|| {
            HandlerError::Internal(format!("file {} is not in the file table", file.0))
        })
    }

    pub fn line_index(&self, file: FileId) -> HandlerResult<&LineIndex> {
        Ok(&self.info(file)?.line_index)
    }

    pub fn offset(&self, file: FileId, pos: Position) -> HandlerResult<TextSize> {
        convert::offset(self.line_index(file)?, pos, self.encoding)
            .map_err(|e| HandlerError::InvalidParams(e.to_string()))
    }

    /// A range of a request (what the editor shows, for hints and tokens): past the end of
    /// the document means up to its end.
    pub fn text_range(&self, file: FileId, range: Range) -> HandlerResult<TextRange> {
        let index = self.line_index(file)?;
        let start = convert::offset_clamped(index, range.start, self.encoding);
        let end = convert::offset_clamped(index, range.end, self.encoding);
        Ok(TextRange::new(start.min(end), end.max(start)))
    }

    pub fn range(&self, file: FileId, range: TextRange) -> HandlerResult<Range> {
        Ok(convert::range(self.line_index(file)?, range, self.encoding))
    }

    pub fn uri(&self, file: FileId) -> Option<Uri> {
        self.files.get(file)?.uri.clone()
    }

    pub fn location(&self, file: FileId, range: TextRange) -> HandlerResult<Option<Location>> {
        let Some(uri) = self.uri(file) else { return Ok(None) };
        Ok(Some(Location { uri, range: self.range(file, range)? }))
    }
}
