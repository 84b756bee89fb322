//! Reading schema directories in the project layout and the reference layout.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::LoadError;
use crate::model::{Action, Family, SchemaSet, Variant, VariantOverride};

/// Which layout a schema directory uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `schemas/<family>.json`, one file per family (this project's format).
    Project,
    /// `index.json` plus `<slug>/<action>.{request,response}.json` (the public catalog's).
    Reference,
}

impl Layout {
    /// Guesses the layout of `dir`: a directory with `index.json` is a reference corpus.
    pub fn detect(dir: &Path) -> Layout {
        if dir.join("index.json").is_file() {
            Layout::Reference
        } else {
            Layout::Project
        }
    }
}

/// Loads a schema directory in whichever layout it uses.
pub fn load_dir(dir: &Path) -> Result<SchemaSet, LoadError> {
    match Layout::detect(dir) {
        Layout::Project => load_project_dir(dir),
        Layout::Reference => load_reference_dir(dir),
    }
}

fn read_json(path: &Path) -> Result<Value, LoadError> {
    let text = fs::read_to_string(path)
        .map_err(|e| LoadError::new(path, "", format!("cannot read the file: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        LoadError::new(
            path,
            "",
            format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path, value: Value) -> Result<T, LoadError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        LoadError::new(path, pointer, e.inner().to_string())
    })
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

// ---------------------------------------------------------------- project layout

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyFile {
    family: String,
    display_name: String,
    #[serde(default)]
    description: Option<String>,
    variants: Vec<VariantFile>,
    actions: Vec<ActionFile>,
}

#[derive(Deserialize)]
struct VariantFile {
    slug: String,
    display_name: String,
    #[serde(default)]
    overrides: BTreeMap<String, OverrideFile>,
    #[serde(flatten)]
    extensions: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    #[serde(default)]
    request: Option<Value>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    params_name: Option<String>,
}

#[derive(Deserialize)]
struct ActionFile {
    name: String,
    #[serde(default)]
    gateway_name: Option<String>,
    request: Value,
    response: Value,
    #[serde(flatten)]
    extensions: BTreeMap<String, Value>,
}

fn check_extension_keys(
    path: &Path,
    pointer: &str,
    extensions: &BTreeMap<String, Value>,
) -> Result<(), LoadError> {
    for key in extensions.keys() {
        if !key.starts_with("x-biolm-") {
            return Err(LoadError::new(
                path,
                format!("{pointer}/{key}"),
                format!("unknown key `{key}` (extension keys must start with `x-biolm-`)"),
            ));
        }
    }
    Ok(())
}

fn not_a_schema_dir(dir: &Path) -> LoadError {
    LoadError::new(
        dir,
        "",
        "no index.json and no <family>.json files: not a schema directory",
    )
}

/// Loads `dir/*.json` in the project layout (one file per family).
///
/// Files are read in name order; `README.md` and other non-JSON files are ignored.
/// A directory without any `.json` file is an error (not an empty set): it is
/// almost always a wrong path.
pub fn load_project_dir(dir: &Path) -> Result<SchemaSet, LoadError> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| LoadError::new(dir, "", format!("cannot list the schema directory: {e}")))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    if paths.is_empty() {
        return Err(not_a_schema_dir(dir));
    }
    paths.sort();
    let mut families = Vec::with_capacity(paths.len());
    for path in paths {
        families.push(load_family_file(&path)?);
    }
    families.sort_by(|a, b| a.name.cmp(&b.name));
    check_unique(&families)?;
    Ok(SchemaSet { families })
}

/// Loads one family file of the project layout.
pub fn load_family_file(path: &Path) -> Result<Family, LoadError> {
    let file: FamilyFile = parse(path, read_json(path)?)?;
    let mut variants = Vec::with_capacity(file.variants.len());
    for (i, v) in file.variants.into_iter().enumerate() {
        check_extension_keys(path, &format!("/variants/{i}"), &v.extensions)?;
        let overrides = v
            .overrides
            .into_iter()
            .map(|(action, o)| {
                (
                    action,
                    VariantOverride {
                        request: o.request,
                        params: o.params,
                        params_name: o.params_name,
                    },
                )
            })
            .collect();
        variants.push(Variant {
            slug: v.slug,
            display_name: v.display_name,
            extensions: v.extensions,
            overrides,
        });
    }
    let mut actions = Vec::with_capacity(file.actions.len());
    for (i, a) in file.actions.into_iter().enumerate() {
        let pointer = format!("/actions/{i}");
        check_extension_keys(path, &pointer, &a.extensions)?;
        let throttle_rate = match a.extensions.get("x-biolm-throttle-rate") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(LoadError::new(
                    path,
                    format!("{pointer}/x-biolm-throttle-rate"),
                    "a throttle rate is a string like \"20/second\"",
                ))
            }
        };
        for (key, schema) in [("request", &a.request), ("response", &a.response)] {
            if !schema.is_object() {
                return Err(LoadError::new(
                    path,
                    format!("{pointer}/{key}"),
                    "a schema must be a JSON object",
                ));
            }
        }
        actions.push(Action {
            gateway_name: a.gateway_name.unwrap_or_else(|| a.name.clone()),
            name: a.name,
            request: a.request,
            response: a.response,
            throttle_rate,
            extensions: a.extensions,
        });
    }
    for (i, v) in variants.iter().enumerate() {
        for action in v.overrides.keys() {
            if !actions.iter().any(|a| &a.name == action) {
                return Err(LoadError::new(
                    path,
                    format!("/variants/{i}/overrides/{action}"),
                    format!("override for `{action}`, which the family does not have"),
                ));
            }
        }
    }
    Ok(Family {
        name: file.family,
        display_name: file.display_name,
        description: file.description,
        variants,
        actions,
        source: path.to_path_buf(),
    })
}

fn check_unique(families: &[Family]) -> Result<(), LoadError> {
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for f in families {
        if let Some(other) = seen.insert(&f.name, &f.source) {
            return Err(LoadError::new(
                &f.source,
                "/family",
                format!("family `{}` is also defined in {}", f.name, other.display()),
            ));
        }
    }
    let mut slugs: BTreeMap<&str, &str> = BTreeMap::new();
    for f in families {
        for (i, v) in f.variants.iter().enumerate() {
            if let Some(other) = slugs.insert(&v.slug, &f.name) {
                return Err(LoadError::new(
                    &f.source,
                    format!("/variants/{i}/slug"),
                    format!("slug `{}` also belongs to family `{other}`", v.slug),
                ));
            }
        }
    }
    Ok(())
}

// -------------------------------------------------------------- reference layout

#[derive(Deserialize)]
struct IndexRecord {
    slug: String,
    family: String,
    display_name: String,
    #[serde(default)]
    family_display_name: Option<String>,
    actions: Vec<String>,
    schema_files: BTreeMap<String, SchemaFiles>,
}

#[derive(Deserialize)]
struct SchemaFiles {
    request: String,
    response: String,
}

/// Loads a reference corpus: `index.json` plus per-slug schema files. An index that
/// is an empty list is an error.
///
/// Variants of one family must share their schemas; the first variant's files
/// stand for the family. Action names are the gateway's; the platform names are
/// not known to this layout, so `name == gateway_name` for every action.
pub fn load_reference_dir(dir: &Path) -> Result<SchemaSet, LoadError> {
    let index_path = dir.join("index.json");
    let records: Vec<IndexRecord> = parse(&index_path, read_json(&index_path)?)?;
    if records.is_empty() {
        return Err(LoadError::new(
            &index_path,
            "",
            "the index lists no models (an empty list): not a schema directory",
        ));
    }
    let mut families: Vec<Family> = Vec::new();
    for (i, rec) in records.into_iter().enumerate() {
        let overrides = reference_overrides(dir, &rec)?;
        let variant = Variant {
            slug: rec.slug.clone(),
            display_name: rec.display_name.clone(),
            extensions: BTreeMap::new(),
            overrides,
        };
        if let Some(family) = families.iter_mut().find(|f| f.name == rec.family) {
            family.variants.push(variant);
            continue;
        }
        let mut actions = Vec::with_capacity(rec.actions.len());
        for action in &rec.actions {
            let files = rec.schema_files.get(action).ok_or_else(|| {
                LoadError::new(
                    &index_path,
                    format!("/{i}/schema_files"),
                    format!("no schema files for action `{action}`"),
                )
            })?;
            actions.push(Action {
                name: action.clone(),
                gateway_name: action.clone(),
                request: read_json(&dir.join(&files.request))?,
                response: read_json(&dir.join(&files.response))?,
                throttle_rate: None,
                extensions: BTreeMap::new(),
            });
        }
        families.push(Family {
            name: rec.family.clone(),
            display_name: rec
                .family_display_name
                .clone()
                .unwrap_or_else(|| rec.display_name.clone()),
            description: None,
            variants: vec![variant],
            actions,
            source: dir.join(&rec.slug),
        });
    }
    families.sort_by(|a, b| a.name.cmp(&b.name));
    check_unique(&families)?;
    Ok(SchemaSet { families })
}

fn reference_overrides(
    dir: &Path,
    rec: &IndexRecord,
) -> Result<BTreeMap<String, VariantOverride>, LoadError> {
    let slug_dir = dir.join(&rec.slug);
    let mut overrides: BTreeMap<String, VariantOverride> = BTreeMap::new();
    for action in &rec.actions {
        let container = slug_dir.join(format!("{action}.request.container.json"));
        if container.is_file() {
            overrides.entry(action.clone()).or_default().request = Some(read_json(&container)?);
        }
    }
    let Ok(entries) = fs::read_dir(&slug_dir) else {
        return Ok(overrides);
    };
    let mut maps: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("variant.") && n.ends_with(".json"))
        })
        .collect();
    maps.sort();
    for path in maps {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // variant.<map name>.<DefinitionName>.json
        let def_name = name
            .trim_end_matches(".json")
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let action = match rec.actions.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(LoadError::new(
                    &path,
                    "",
                    "a variant params map in a family with several actions: cannot tell which action it belongs to",
                ))
            }
        };
        let entry = overrides.entry(action).or_default();
        entry.params = Some(read_json(&path)?);
        entry.params_name = Some(def_name);
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_file_errors_name_file_and_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        fs::write(&path, r#"{"family":"x","display_name":"X","variants":[{"slug":"x","display_name":"X","colour":1}],"actions":[]}"#).unwrap();
        let err = load_project_dir(dir.path()).unwrap_err();
        assert_eq!(err.pointer, "/variants/0/colour");
        assert!(
            err.to_string().contains("bad.json: at /variants/0/colour"),
            "{err}"
        );
    }

    #[test]
    fn project_file_type_errors_have_pointers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        fs::write(&path, r#"{"family":"x","display_name":"X","variants":[],"actions":[{"name":3,"request":{},"response":{}}]}"#).unwrap();
        let err = load_project_dir(dir.path()).unwrap_err();
        assert_eq!(err.pointer, "/actions/0/name", "{err}");
    }

    #[test]
    fn a_directory_without_schemas_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("README.md"), "# nothing here").unwrap();
        for result in [load_dir(dir.path()), load_project_dir(dir.path())] {
            let err = result.unwrap_err();
            assert_eq!(err.file, dir.path());
            assert_eq!(
                err.message,
                "no index.json and no <family>.json files: not a schema directory"
            );
            assert!(err
                .to_string()
                .starts_with(&dir.path().display().to_string()));
        }
        fs::write(dir.path().join("index.json"), "[]").unwrap();
        let err = load_dir(dir.path()).unwrap_err();
        assert_eq!(err.file, dir.path().join("index.json"));
        assert_eq!(
            err.message,
            "the index lists no models (an empty list): not a schema directory"
        );
        let missing = dir.path().join("nope");
        assert!(load_dir(&missing)
            .unwrap_err()
            .message
            .starts_with("cannot list the schema directory"));
    }

    #[test]
    fn invalid_json_names_line() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.json"), "{\n  \"family\": ,\n}").unwrap();
        let err = load_project_dir(dir.path()).unwrap_err();
        assert!(err.message.contains("line 2"), "{err}");
    }
}
