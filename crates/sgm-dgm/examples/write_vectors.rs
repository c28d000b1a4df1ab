//! Writes `test-vectors/dgm.json` exactly as `cargo xtask vectors` does,
//! without regenerating other crates' files.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut s = serde_json::to_string_pretty(&sgm_dgm::vectors::generate())?;
    s.push('\n');
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dgm.json");
    std::fs::write(&path, s)?;
    println!("wrote {}", path.display());
    Ok(())
}
