//! The check that keeps `docs/test-vectors.md` and `test-vectors/*.json`
//! together (part of `cargo xtask vectors --check`).
//!
//! Rule: for every vector file `X.json`, `docs/test-vectors.md` has a
//! section (exactly one) whose heading starts with ``## `X.json` ``, and every JSON object
//! key that occurs anywhere in `X.json` appears in that section inside an
//! inline code span (between backticks) as a whole word: `` `key` ``,
//! `` `key[]` ``, `` `parent.key` `` and `` `key = value` `` all count,
//! `` `keys_after` `` and `` `key-ack` `` do not count for `key` (words are
//! runs of letters, digits, `_` and `-`). Fenced code blocks and other
//! sections do not count, so a field is documented where a replaying
//! implementation looks for it. Values (strings, numbers) are not checked.

use std::collections::BTreeSet;

/// Every object key in a JSON value, at any depth.
pub(crate) fn json_keys(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                json_keys(v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                json_keys(v, out);
            }
        }
        _ => {}
    }
}

/// The section of `doc` for vector file `name`: from its `## `name``
/// heading to the next `## ` heading. `None` if there is none.
pub(crate) fn section<'a>(doc: &'a str, name: &str) -> Option<String> {
    let heading = format!("## `{name}`");
    let mut lines = doc.lines();
    lines.by_ref().find(|l| l.starts_with(&heading))?;
    let body: Vec<&'a str> = lines.take_while(|l| !l.starts_with("## ")).collect();
    Some(body.join("\n"))
}

/// The words (runs of ASCII letters, digits, `_` and `-`) inside inline
/// code spans of `text`, outside fenced code blocks.
pub(crate) fn code_words(text: &str) -> BTreeSet<String> {
    let mut prose = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    let mut words = BTreeSet::new();
    // Odd-numbered pieces between backticks are code spans.
    for span in prose.split('`').skip(1).step_by(2) {
        for word in span.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
            if !word.is_empty() {
                words.insert(word.to_string());
            }
        }
    }
    words
}

/// The keys of vector file `name` (contents `json`) that its section of
/// `doc` does not mention, or an error if the file does not parse or has no
/// section.
pub(crate) fn undocumented_keys(doc: &str, name: &str, json: &str) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("{name}: not JSON: {e}"))?;
    let heading = format!("## `{name}`");
    if doc.lines().filter(|l| l.starts_with(&heading)).count() > 1 {
        return Err(format!(
            "{name}: docs/test-vectors.md has more than one section headed \"{heading}\""
        ));
    }
    let section = section(doc, name).ok_or_else(|| {
        format!("{name}: docs/test-vectors.md has no section headed \"{heading}\"")
    })?;
    let documented = code_words(&section);
    let mut keys = BTreeSet::new();
    json_keys(&value, &mut keys);
    Ok(keys
        .into_iter()
        .filter(|k| !documented.contains(k))
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const DOC: &str = "# Test vectors\n\n## Conventions\n\n`version` everywhere\n\n\
        ## `a.json`: first\n\n| field | meaning |\n|---|---|\n\
        | `version` | 1 |\n| `items[]` | `name`, `op = send`, `x.inner` |\n\
        ```text\n`hidden`\n```\n\n## `b.json`: second\n\n`outer` and `hidden_too`\n";

    #[test]
    fn documented_keys_pass() {
        let json = r#"{"version":1,"items":[{"name":"n","op":"send","x":{"inner":1}}]}"#;
        assert_eq!(
            undocumented_keys(DOC, "a.json", json).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_key_missing_from_its_section_is_reported() {
        // `outer` is documented, but in b.json's section; `hidden` only in
        // a fenced block; `nam` is a prefix of a documented word only.
        let json = r#"{"version":1,"outer":2,"hidden":3,"nam":4,"items":[{"fresh":0}]}"#;
        assert_eq!(
            undocumented_keys(DOC, "a.json", json).unwrap(),
            vec!["fresh", "hidden", "nam", "outer"]
        );
    }

    #[test]
    fn keys_with_hyphens_are_whole_words() {
        let doc = "## `c.json`\n\n`add-ack`, `ack_x`\n";
        assert_eq!(
            undocumented_keys(doc, "c.json", r#"{"add-ack":1,"ack":2,"add":3}"#).unwrap(),
            vec!["ack", "add"]
        );
    }

    #[test]
    fn the_conventions_section_does_not_count() {
        let json = r#"{"outer":1,"version":2}"#;
        assert_eq!(
            undocumented_keys(DOC, "b.json", json).unwrap(),
            vec!["version"]
        );
    }

    #[test]
    fn two_sections_for_one_file_are_an_error() {
        // A merge that kept both versions of a section: the first one
        // would silently win.
        let doc = "## `d.json`: old\n\n`x`\n\n## `d.json`: new\n\n`x`, `version`\n";
        assert!(undocumented_keys(doc, "d.json", r#"{"x":1}"#).is_err());
    }

    #[test]
    fn a_file_without_a_section_is_an_error() {
        assert!(undocumented_keys(DOC, "c.json", "{}").is_err());
        assert!(undocumented_keys(DOC, "a.json", "not json").is_err());
    }
}
