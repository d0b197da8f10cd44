//! Compressing a representation once, ahead of serving it: the frontend's files at build time
//! (`build.rs` includes this file) and the OpenRPC document at start. Gzip at its best; brotli
//! at the quality the caller can afford (11, the best, takes half a second for 40 KB in a debug
//! build) with a 2^22 window.

use std::io::Write as _;

pub(crate) fn brotli_of(bytes: &[u8], quality: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
        writer.write_all(bytes).expect("brotli into memory");
    }
    out
}

pub(crate) fn gzip_of(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}
