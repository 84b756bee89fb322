//! `biolm models list` and `biolm models show SLUG`: the compiled-in catalog.

use std::io::Write;

use biolm::spec::{ActionSpec, VariantSpec};
use serde_json::{json, Value};

use crate::schema::{Field, RequestSchema};
use crate::CliError;

/// Every variant of the compiled-in catalog.
pub fn variants() -> &'static [VariantSpec] {
    biolm::catalog::variants()
}

/// The variant called `slug`, or a usage error suggesting close names.
pub fn find(slug: &str) -> Result<&'static VariantSpec, CliError> {
    if let Some(v) = variants().iter().find(|v| v.slug == slug) {
        return Ok(v);
    }
    let lower = slug.to_ascii_lowercase();
    let close: Vec<&str> = variants()
        .iter()
        .filter(|v| {
            v.slug.contains(&lower) || lower.contains(v.family) || v.family.contains(&lower)
        })
        .map(|v| v.slug)
        .take(8)
        .collect();
    let hint = if close.is_empty() {
        "run `biolm models list` to see every model".to_string()
    } else {
        format!(
            "did you mean {}? (`biolm models list` shows every model)",
            close.join(", ")
        )
    };
    Err(CliError::Usage(format!("unknown model '{slug}': {hint}")))
}

/// The action `name` of `variant`, or a usage error listing its actions.
pub fn find_action(
    variant: &'static VariantSpec,
    name: &str,
) -> Result<&'static ActionSpec, CliError> {
    variant
        .actions
        .iter()
        .find(|a| a.action == name || a.gateway_action == name)
        .ok_or_else(|| {
            let names: Vec<&str> = variant.actions.iter().map(|a| a.action.as_ref()).collect();
            CliError::Usage(format!(
                "model '{}' has no action '{name}' (actions: {})",
                variant.slug,
                names.join(", ")
            ))
        })
}

/// The parsed request schema of an action, or `None` when it has none.
pub fn request_schema(action: &ActionSpec) -> Option<RequestSchema> {
    action
        .request_schema
        .as_deref()
        .and_then(|t| RequestSchema::parse(t).ok())
}

fn action_summary(a: &ActionSpec) -> Value {
    let mut v = json!({
        "action": a.action,
        "gateway_action": a.gateway_action,
        "max_items": a.max_items,
        "min_items": a.min_items,
        "multi_result": a.multi_result,
    });
    if let (Some(rate), Some(map)) = (&a.throttle_rate, v.as_object_mut()) {
        map.insert("throttle_rate".into(), json!(rate));
    }
    v
}

fn variant_summary(v: &VariantSpec) -> Value {
    json!({
        "slug": v.slug,
        "family": v.family,
        "display_name": v.display_name,
        "embedding_dim": v.embedding_dim,
        "actions": v.actions.iter().map(action_summary).collect::<Vec<_>>(),
    })
}

fn field_json(f: &Field) -> Value {
    json!({
        "name": f.name,
        "type": f.types,
        "required": f.required,
        "enum": f.enum_values,
        "limits": f.limits,
        "default": f.default,
        "description": f.description,
    })
}

/// `biolm models list`.
pub fn list(out: &mut dyn Write, as_json: bool, family: Option<&str>) -> Result<(), CliError> {
    let chosen: Vec<&VariantSpec> = variants()
        .iter()
        .filter(|v| family.is_none_or(|f| v.family == f))
        .collect();
    if let (Some(f), true) = (family, chosen.is_empty()) {
        return Err(CliError::Usage(format!(
            "no model family '{f}'; `biolm models list` shows every family"
        )));
    }
    if as_json {
        let all: Vec<Value> = chosen.iter().map(|v| variant_summary(v)).collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&all).unwrap_or_default()
        )?;
        return Ok(());
    }
    let rows: Vec<[String; 4]> = chosen
        .iter()
        .map(|v| {
            let actions: Vec<String> = v
                .actions
                .iter()
                .map(|a| format!("{}({})", a.action, a.max_items))
                .collect();
            [
                v.slug.to_string(),
                v.family.to_string(),
                v.display_name.to_string(),
                actions.join(" "),
            ]
        })
        .collect();
    table(
        out,
        &["SLUG", "FAMILY", "NAME", "ACTIONS (items per request)"],
        &rows,
    )?;
    Ok(())
}

/// `biolm models show SLUG`.
pub fn show(out: &mut dyn Write, slug: &str, as_json: bool) -> Result<(), CliError> {
    let v = find(slug)?;
    if as_json {
        let mut doc = variant_summary(v);
        let actions: Vec<Value> = v
            .actions
            .iter()
            .map(|a| {
                let mut s = action_summary(a);
                if let (Some(schema), Some(map)) = (request_schema(a), s.as_object_mut()) {
                    map.insert(
                        "item_fields".into(),
                        schema.item_fields().iter().map(field_json).collect(),
                    );
                    map.insert(
                        "params_fields".into(),
                        schema.params_fields().iter().map(field_json).collect(),
                    );
                    map.insert("item_rules".into(), schema.item_rules().into());
                }
                s
            })
            .collect();
        if let Some(map) = doc.as_object_mut() {
            map.insert("actions".into(), Value::Array(actions));
        }
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        )?;
        return Ok(());
    }
    writeln!(out, "{} ({})", v.display_name, v.slug)?;
    writeln!(out, "family: {}", v.family)?;
    if let Some(d) = v.embedding_dim {
        writeln!(out, "embedding dimension: {d}")?;
    }
    for a in v.actions {
        writeln!(out)?;
        let gateway = if a.gateway_action != a.action {
            format!(" (gateway: {})", a.gateway_action)
        } else {
            String::new()
        };
        writeln!(
            out,
            "action {}{gateway}: {}..={} items per request",
            a.action, a.min_items, a.max_items
        )?;
        if a.multi_result {
            writeln!(out, "  several results per item")?;
        }
        if let Some(rate) = &a.throttle_rate {
            writeln!(out, "  server rate limit: {rate}")?;
        }
        let Some(schema) = request_schema(a) else {
            writeln!(out, "  (no request schema)")?;
            continue;
        };
        for (title, fields) in [
            ("item fields", schema.item_fields()),
            ("params", schema.params_fields()),
        ] {
            if fields.is_empty() {
                continue;
            }
            writeln!(out, "  {title}:")?;
            let rows: Vec<[String; 4]> = fields
                .iter()
                .map(|f| {
                    let req = if f.required {
                        "required".to_string()
                    } else {
                        f.default
                            .as_ref()
                            .map(|d| format!("default {d}"))
                            .unwrap_or_else(|| "optional".into())
                    };
                    let mut desc = f.description.clone().unwrap_or_default();
                    if !f.limits.is_empty() {
                        desc = if desc.is_empty() {
                            f.limits.clone()
                        } else {
                            format!("{desc} [{}]", f.limits)
                        };
                    }
                    [format!("    {}", f.name), f.type_label(), req, desc]
                })
                .collect();
            table(out, &["    NAME", "TYPE", "REQUIRED", "DESCRIPTION"], &rows)?;
        }
        let rules = schema.item_rules();
        if !rules.is_empty() {
            writeln!(
                out,
                "  item rules (checked before sending, as the server does):"
            )?;
            for r in rules {
                writeln!(out, "    {r}")?;
            }
        }
    }
    Ok(())
}

/// Writes left-aligned columns; the last column is not padded.
fn table<const N: usize>(
    out: &mut dyn Write,
    head: &[&str; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut width = [0usize; N];
    for (i, h) in head.iter().enumerate() {
        width[i] = h.chars().count();
    }
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(width[i] - c.chars().count() + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, head.to_vec())?;
    for r in rows {
        line(out, r.iter().map(String::as_str).collect())?;
    }
    Ok(())
}
