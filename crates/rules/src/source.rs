//! Where rule files come from: a folder on disk, or the catalog embedded at build time.

use std::path::Path;

use crate::model::SourceFile;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// The shipped `rules/` folder, as embedded in the binary.
pub fn embedded() -> Vec<SourceFile> {
    embedded::FILES.iter().map(|(path, text)| SourceFile { path: path.to_string(), text: text.to_string() }).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read the rules folder {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not UTF-8 text")]
    NotUtf8 { path: String },
}

/// Every `.toml` file under `dir`, with paths relative to it (`/`-separated), sorted.
pub fn load_dir(dir: &Path) -> Result<Vec<SourceFile>, SourceError> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<SourceFile>) -> Result<(), SourceError> {
    let io = |e| SourceError::Io { path: dir.display().to_string(), source: e };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, root, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            let bytes =
                std::fs::read(&path).map_err(|e| SourceError::Io { path: path.display().to_string(), source: e })?;
            let text =
                String::from_utf8(bytes).map_err(|_| SourceError::NotUtf8 { path: path.display().to_string() })?;
            out.push(SourceFile { path: rel, text });
        }
    }
    Ok(())
}
