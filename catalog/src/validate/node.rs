//! The compiled form of a schema: one [`Node`] per schema object, linked by index.

use serde_json::Value;

use super::alphabet::{Alphabet, TokenCount};
use super::format::Format;
use super::pattern::Pattern;

/// Index of a node in [`Compiled::nodes`].
pub(super) type NodeId = usize;

pub(super) const T_NULL: u8 = 1;
pub(super) const T_BOOL: u8 = 2;
pub(super) const T_INT: u8 = 4;
pub(super) const T_NUM: u8 = 8;
pub(super) const T_STR: u8 = 16;
pub(super) const T_ARR: u8 = 32;
pub(super) const T_OBJ: u8 = 64;

/// What `additionalProperties` says about keys no other keyword covers.
#[derive(Debug, Clone, Default)]
pub(super) enum Additional {
    #[default]
    Allow,
    Deny,
    /// pydantic's `dict[constr(pattern=...), V]`: `patternProperties` alone (no
    /// `properties`, no `additionalProperties`) and pydantic refuses any other key.
    PatternsOnly,
    Schema(NodeId),
}

/// `discriminator` (OpenAPI, as pydantic emits it next to `oneOf`): the arm is chosen
/// by the value of one property.
#[derive(Debug, Clone)]
pub(super) struct Discriminator {
    /// The tag property (`propertyName`).
    pub(super) property: String,
    /// Tag value -> arm, in the schema's order.
    pub(super) tags: Vec<(String, NodeId)>,
}

/// `contentMediaType: application/json` on a string: the string holds JSON, checked
/// against `contentSchema` when there is one.
#[derive(Debug, Clone)]
pub(super) struct JsonContent {
    pub(super) schema: Option<NodeId>,
}

/// One compiled schema object. Absent keywords are `None` / empty and cost nothing.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    /// The `false` schema: nothing passes.
    pub(super) never: bool,
    pub(super) types: Option<u8>,
    pub(super) enum_values: Option<Vec<Value>>,
    pub(super) const_value: Option<Value>,
    pub(super) min_length: Option<usize>,
    pub(super) max_length: Option<usize>,
    pub(super) pattern: Option<Pattern>,
    pub(super) format: Option<Format>,
    pub(super) content_json: Option<JsonContent>,
    pub(super) minimum: Option<f64>,
    pub(super) maximum: Option<f64>,
    pub(super) exclusive_minimum: Option<f64>,
    pub(super) exclusive_maximum: Option<f64>,
    pub(super) multiple_of: Option<f64>,
    pub(super) min_items: Option<usize>,
    pub(super) max_items: Option<usize>,
    pub(super) unique_items: bool,
    pub(super) items: Option<NodeId>,
    pub(super) prefix_items: Vec<NodeId>,
    pub(super) contains: Option<NodeId>,
    pub(super) min_contains: Option<usize>,
    pub(super) max_contains: Option<usize>,
    pub(super) required: Vec<String>,
    pub(super) properties: Vec<(String, NodeId)>,
    /// alias key -> index into `properties`.
    pub(super) aliases: Vec<(String, usize)>,
    pub(super) additional: Additional,
    pub(super) pattern_properties: Vec<(Pattern, NodeId)>,
    pub(super) property_names: Option<NodeId>,
    pub(super) min_properties: Option<usize>,
    pub(super) max_properties: Option<usize>,
    pub(super) dependent_required: Vec<(String, Vec<String>)>,
    pub(super) dependent_schemas: Vec<(String, NodeId)>,
    pub(super) any_of: Vec<NodeId>,
    pub(super) all_of: Vec<NodeId>,
    pub(super) one_of: Vec<NodeId>,
    pub(super) not: Option<NodeId>,
    pub(super) if_then_else: Option<(NodeId, Option<NodeId>, Option<NodeId>)>,
    pub(super) discriminator: Option<Discriminator>,
    pub(super) reference: Option<NodeId>,
    pub(super) alphabet: Option<Alphabet>,
    pub(super) token_counts: Vec<TokenCount>,
    pub(super) max_residues: Option<usize>,
    pub(super) lenient: bool,
}

/// A whole compiled request schema.
#[derive(Debug)]
pub(super) struct Compiled {
    pub(super) nodes: Vec<Node>,
    /// The request body (the document's root).
    pub(super) root: Option<NodeId>,
    /// `properties.items.items`: one item.
    pub(super) item: Option<NodeId>,
    /// `properties.params`.
    pub(super) params: Option<NodeId>,
    pub(super) min_items: Option<usize>,
    pub(super) max_items: Option<usize>,
}
