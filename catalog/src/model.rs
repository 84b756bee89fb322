use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// Every model family of one schema directory.
#[derive(Debug, Clone, Default)]
pub struct SchemaSet {
    /// Families in a stable order (sorted by name).
    pub families: Vec<Family>,
}

impl SchemaSet {
    /// The family called `name`.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The family and variant whose slug is `slug`.
    pub fn variant(&self, slug: &str) -> Option<(&Family, &Variant)> {
        self.families
            .iter()
            .find_map(|f| f.variants.iter().find(|v| v.slug == slug).map(|v| (f, v)))
    }

    /// Number of (variant, action) pairs in the set.
    pub fn pair_count(&self) -> usize {
        self.families
            .iter()
            .map(|f| f.variants.len() * f.actions.len())
            .sum()
    }
}

/// A model family: variants that share request and response schemas.
#[derive(Debug, Clone)]
pub struct Family {
    /// Family name (`esm2`), used for the Rust module and the cargo feature.
    pub name: String,
    /// Human name (`ESM-2`).
    pub display_name: String,
    /// One paragraph about the family, in the project's words.
    pub description: Option<String>,
    /// The deployable variants (slugs) of the family.
    pub variants: Vec<Variant>,
    /// The actions every variant of the family offers.
    pub actions: Vec<Action>,
    /// The file the family was loaded from.
    pub source: PathBuf,
}

impl Family {
    /// The action called `name` on the platform or on a gateway.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions
            .iter()
            .find(|a| a.name == name || a.gateway_name == name)
    }
}

/// One deployable model variant (a slug in the URL).
#[derive(Debug, Clone)]
pub struct Variant {
    /// URL slug (`esm2-650m`).
    pub slug: String,
    /// Human name (`ESM-2 650M`).
    pub display_name: String,
    /// Extension facts (`x-biolm-*` keys), such as `x-biolm-embedding-dim`.
    pub extensions: BTreeMap<String, Value>,
    /// Per-action schema overrides where this variant is stricter than its family.
    pub overrides: BTreeMap<String, VariantOverride>,
}

impl Variant {
    /// The request schema this variant really applies for `action` (an action of
    /// its family): the family's, with the variant's override (if any) applied.
    /// Codegen, the validator and the sandbox all use this one rule.
    ///
    /// A whole-request override replaces the family schema. A params override is
    /// added as `$defs/<params_name>` (its own `$defs`, if any, merged into the root's)
    /// and `properties.params` is pointed at it, keeping the property's other keys.
    pub fn effective_request(&self, action: &Action) -> Value {
        let Some(o) = self
            .overrides
            .get(&action.name)
            .or_else(|| self.overrides.get(&action.gateway_name))
        else {
            return action.request.clone();
        };
        if let Some(request) = &o.request {
            return request.clone();
        }
        let mut schema = action.request.clone();
        if let (Some(params), Some(root)) = (&o.params, schema.as_object_mut()) {
            let name = o
                .params_name
                .clone()
                .unwrap_or_else(|| "VariantParams".to_string());
            let mut params = params.clone();
            let nested = params.as_object_mut().and_then(|p| p.remove("$defs"));
            let defs = root
                .entry("$defs")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Some(defs) = defs.as_object_mut() {
                if let Some(Value::Object(nested)) = nested {
                    for (k, v) in nested {
                        defs.entry(k).or_insert(v);
                    }
                }
                defs.insert(name.clone(), params);
            }
            let props = root
                .entry("properties")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Some(props) = props.as_object_mut() {
                let slot = props
                    .entry("params")
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Some(slot) = slot.as_object_mut() {
                    slot.remove("anyOf");
                    slot.remove("allOf");
                    slot.remove("type");
                    slot.insert("$ref".to_string(), Value::String(format!("#/$defs/{name}")));
                } else {
                    *slot = serde_json::json!({ "$ref": format!("#/$defs/{name}") });
                }
            }
        }
        schema
    }
}

impl Variant {
    /// The embedding dimension, when the schema set records it.
    pub fn embedding_dim(&self) -> Option<u64> {
        self.extensions
            .get("x-biolm-embedding-dim")
            .and_then(Value::as_u64)
    }
}

/// Where a variant applies a stricter schema than the family's.
#[derive(Debug, Clone, Default)]
pub struct VariantOverride {
    /// A whole request schema that replaces the family's for this variant.
    pub request: Option<Value>,
    /// A params schema that replaces the family request's `params` definition.
    pub params: Option<Value>,
    /// The definition name of `params` (the reference file's name).
    pub params_name: Option<String>,
}

/// One action of a family (`encode`, `predict`, `generate`, ...).
#[derive(Debug, Clone)]
pub struct Action {
    /// The action's name on the hosted platform (`/api/v3/{slug}/{name}/`), which
    /// is also the Rust method name.
    pub name: String,
    /// The action's name on a catalog gateway (`/api/v1/{slug}/{gateway_name}`).
    pub gateway_name: String,
    /// The request JSON Schema (with `$defs`).
    pub request: Value,
    /// The response JSON Schema (with `$defs`).
    pub response: Value,
    /// The server's rate limit, like `"20/second"`, when known.
    pub throttle_rate: Option<String>,
    /// Extension facts on the action (`x-biolm-*`).
    pub extensions: BTreeMap<String, Value>,
}

impl Action {
    /// The batch limit: `properties.items.maxItems` of the request schema.
    pub fn max_items(&self) -> Option<u64> {
        self.request
            .pointer("/properties/items/maxItems")
            .and_then(Value::as_u64)
    }

    /// The least number of items per request: `properties.items.minItems`.
    pub fn min_items(&self) -> Option<u64> {
        self.request
            .pointer("/properties/items/minItems")
            .and_then(Value::as_u64)
    }
}
