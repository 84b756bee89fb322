//! The README's table of supported JSON Schema keywords is `keywords::markdown_table()`
//! exactly, so the documentation cannot drift from the code. `UPDATE_README=1 cargo test
//! -p biolm-catalog --test readme_table` rewrites it.

use std::path::Path;

const START: &str = "<!-- keywords:start -->\n";
const END: &str = "<!-- keywords:end -->";

#[test]
fn readme_keyword_table_is_the_code_s() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md has no {START:?} ... {END:?} markers");
    };
    let table = biolm_catalog::keywords::markdown_table();
    let current = &readme[a + START.len()..b];
    if current == table {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{START}{table}{}", &readme[..a], &readme[b..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    panic!("README.md's keyword table is out of date: run UPDATE_README=1 cargo test -p biolm-catalog --test readme_table");
}
