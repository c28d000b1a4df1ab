//! `cargo xtask vectors`: every crate's known-answer vectors, one JSON file
//! each, generated from fixed seeds. Both modes also check that every field
//! (JSON key) of every file is mentioned in the file's section of
//! `docs/test-vectors.md` (rule in [`crate::vector_docs`]).

use std::path::{Path, PathBuf};

/// A vector file and the function that produces its contents.
struct VectorFile {
    name: &'static str,
    generate: fn() -> String,
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("serialization failed: {e}\n"),
    }
}

/// Every vector file in the repository. Add a line here when a crate grows
/// vectors.
const FILES: &[VectorFile] = &[
    VectorFile {
        name: "crypto.json",
        generate: || to_json(&sgm_crypto::vectors::generate()),
    },
    VectorFile {
        name: "2sm.json",
        generate: || to_json(&sgm_2sm::vectors::generate()),
    },
    VectorFile {
        name: "acb.json",
        generate: || to_json(&sgm_acb::vectors::generate()),
    },
    VectorFile {
        name: "dgm.json",
        generate: || to_json(&sgm_dgm::vectors::generate()),
    },
    VectorFile {
        name: "dcgka.json",
        generate: || to_json(&sgm_dcgka::vectors::generate()),
    },
    VectorFile {
        name: "ratchet.json",
        generate: || to_json(&sgm_dcgka::vectors::generate_ratchet()),
    },
    VectorFile {
        name: "sender-keys.json",
        generate: || to_json(&sgm_sender_keys::vectors::generate()),
    },
    VectorFile {
        name: "pairwise.json",
        generate: || to_json(&sgm_sender_keys::vectors::generate_pairwise()),
    },
    VectorFile {
        name: "mpenc.json",
        generate: || to_json(&sgm_mpenc::vectors::generate()),
    },
    VectorFile {
        name: "state.json",
        generate: || to_json(&sgm_messaging::vectors::generate()),
    },
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn vector_dir() -> PathBuf {
    repo_root().join("test-vectors")
}

/// The documentation every vector file's fields must appear in.
const VECTOR_DOC: &str = "docs/test-vectors.md";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            return Err(format!(
                "unexpected arguments {args:?}; usage: vectors [--check]"
            ));
        }
    };
    let dir = vector_dir();
    let doc_path = repo_root().join(VECTOR_DOC);
    let doc =
        std::fs::read_to_string(&doc_path).map_err(|e| format!("{}: {e}", doc_path.display()))?;
    let mut stale = Vec::new();
    let mut undocumented = Vec::new();
    for (i, file) in FILES.iter().enumerate() {
        if FILES[..i].iter().any(|f| f.name == file.name) {
            return Err(format!("{}: listed twice in FILES", file.name));
        }
    }
    for file in FILES {
        let fresh = (file.generate)();
        let again = (file.generate)();
        if fresh != again {
            return Err(format!("{}: generation is not deterministic", file.name));
        }
        match crate::vector_docs::undocumented_keys(&doc, file.name, &fresh) {
            Ok(keys) if keys.is_empty() => {}
            Ok(keys) => {
                println!("UNDOCUMENTED {}: {}", file.name, keys.join(", "));
                undocumented.push(format!("{}: {}", file.name, keys.join(", ")));
            }
            Err(e) => {
                println!("UNDOCUMENTED {e}");
                undocumented.push(e);
            }
        }
        let path = dir.join(file.name);
        if check {
            match std::fs::read_to_string(&path) {
                Ok(committed) if committed == fresh => println!("ok       {}", file.name),
                Ok(_) => {
                    println!("DIFFERS  {}", file.name);
                    stale.push(file.name);
                }
                Err(e) => {
                    println!("MISSING  {} ({e})", file.name);
                    stale.push(file.name);
                }
            }
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            std::fs::write(&path, &fresh).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote    {}", path.display());
        }
    }
    let mut problems = Vec::new();
    if !stale.is_empty() {
        problems.push(format!(
            "{} vector file(s) differ from what the code generates: {stale:?}; \
             run `cargo xtask vectors` and review the diff",
            stale.len()
        ));
    }
    if !undocumented.is_empty() {
        problems.push(format!(
            "vector fields not mentioned (in backticks) in their section of {VECTOR_DOC}: {}; \
             document each field there",
            undocumented.join("; ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
