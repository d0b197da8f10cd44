//! Prepares the frontend (`web-folder/`) for embedding: copies it to `$OUT_DIR/web-folder` with
//! a brotli (`NAME.br`) and a gzip (`NAME.gz`) twin beside each text file, made once here at
//! the highest quality, so the server never compresses a static file while serving it. A twin is
//! kept only when it is smaller than the file. `src/embedded.rs` embeds the result.

#[path = "src/compress.rs"]
mod compress;

use compress::{brotli_of, gzip_of};
use std::fs;
use std::path::{Path, PathBuf};

/// Extensions of the files worth compressing; fonts and images are compressed already.
const TEXT_EXTENSIONS: &[&str] = &["html", "css", "js", "mjs", "json", "svg", "txt", "map", "webmanifest"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let source = manifest_dir.join("../../web-folder");
    let target = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("web-folder");
    // A directory here is watched whole: any file added, changed or removed under it reruns this.
    println!("cargo:rerun-if-changed={}", source.display());
    if target.exists() {
        fs::remove_dir_all(&target).expect("remove the previous copy");
    }
    copy_tree(&source, &target);
}

fn copy_tree(source: &Path, target: &Path) {
    fs::create_dir_all(target).expect("create the copy's folder");
    for entry in fs::read_dir(source).unwrap_or_else(|e| panic!("read {}: {e}", source.display())) {
        let entry = entry.expect("read a folder entry");
        let (from, to) = (entry.path(), target.join(entry.file_name()));
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&from, &to);
            continue;
        }
        let extension = from.extension().and_then(|e| e.to_str()).unwrap_or_default();
        // The server takes `NAME.br` and `NAME.gz` for twins, never for files of their own.
        assert!(!matches!(extension, "br" | "gz"), "{}: the frontend may not hold .br or .gz files", from.display());
        let bytes = fs::read(&from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
        if TEXT_EXTENSIONS.contains(&extension) {
            write_if_smaller(&twin(&to, "br"), &brotli_of(&bytes, 11), bytes.len());
            write_if_smaller(&twin(&to, "gz"), &gzip_of(&bytes), bytes.len());
        }
        fs::write(&to, bytes).expect("write the copy");
    }
}

fn twin(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
}

fn write_if_smaller(path: &Path, compressed: &[u8], original_len: usize) {
    if compressed.len() < original_len {
        fs::write(path, compressed).expect("write a compressed twin");
    }
}
