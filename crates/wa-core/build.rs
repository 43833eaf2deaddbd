//! Compiles the protobuf subset in `proto/` with prost. The .proto files are parsed by protox, a
//! pure-Rust compiler, so building this crate never needs a system `protoc`.

use std::error::Error;

const PROTOS: &[&str] = &[
    "proto/wa6.proto",
    "proto/cert.proto",
    "proto/adv.proto",
    "proto/companion_reg.proto",
    "proto/e2e.proto",
    "proto/history.proto",
    "proto/signal_wire.proto",
    "proto/signal_records.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    // The descriptors are kept too: tools map these messages to and from JSON by reflection
    // (`proto::FILE_DESCRIPTOR_SET`).
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("descriptors.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
