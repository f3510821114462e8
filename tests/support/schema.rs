//! JSON Schema validation for end-to-end tests of the report formats: runs `python3` with the
//! `jsonschema` package against a schema vendored in `tests/data/schemas/`; a missing tool fails
//! the test with the command that installs it.

use std::path::Path;
use std::process::Command;

const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schemas");

/// Validates argv[2] against the JSON schema argv[1]; prints every violation.
///
/// Python's `re` has no `\p{L}`/`\p{N}` classes, which the OSCAL token pattern uses, so they are
/// rewritten in memory to their Python equivalents before validation.
const VALIDATE: &str = r#"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit("MISSING: the Python package jsonschema (python3 -m pip install jsonschema)")
def fix(o):
    if isinstance(o, dict):
        return {k: (v.replace("\\p{L}", "[^\\W\\d_]").replace("\\p{N}", "\\d")
                    if k == "pattern" and isinstance(v, str) else fix(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [fix(x) for x in o]
    return o
with open(sys.argv[1], encoding="utf-8") as f:
    schema = fix(json.load(f))
with open(sys.argv[2], encoding="utf-8") as f:
    doc = json.load(f)
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(doc))
for e in errors[:25]:
    print("/" + "/".join(map(str, e.absolute_path)) + ": " + e.message[:400])
print(f"{len(errors)} schema violation(s)")
sys.exit(1 if errors else 0)
"#;

/// Validates `doc` against the vendored schema file `schema`; panics with every violation.
pub fn validate_json(schema: &str, doc: &Path) {
    let schema = Path::new(SCHEMAS).join(schema);
    let out = Command::new("python3")
        .arg("-c")
        .arg(VALIDATE)
        .arg(&schema)
        .arg(doc)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): install python3 and run: python3 -m pip install jsonschema")
        });
    assert!(
        out.status.success(),
        "{} does not validate against {}:\n{}{}",
        doc.display(),
        schema.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
