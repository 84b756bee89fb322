//! The compiled form of a schema: one [`Node`] per schema object, linked by index.

use serde_json::Value;

use super::alphabet::{Alphabet, TokenCount};
use super::format::Format;
use super::pattern::Pattern;
use super::rules::ObjectRule;
use super::textformat::TextFormat;

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
    /// Set (after compiling) on a node that is only a `$ref`: where the walk goes instead.
    pub(super) skip_to: Option<NodeId>,
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
    pub(super) text_format: Option<TextFormat>,
    pub(super) rules: Vec<ObjectRule>,
    pub(super) key_alphabet: Option<Alphabet>,
    /// `x-biolm-length`: (min, max) characters of a non-empty string or entries of a list.
    pub(super) length: Option<(Option<usize>, Option<usize>)>,
    /// `x-biolm-ignored-params`: keys the server checks (against the family's schema
    /// for each) and the variant's model then drops.
    pub(super) ignored_keys: Vec<(String, NodeId)>,
    pub(super) lenient: bool,
    /// With `x-biolm-lenient: {"if_key": K}`: lenient only for an object holding `K`.
    pub(super) lenient_if_key: Option<String>,
}

impl Node {
    /// The target of a node that is only a `$ref` (annotations aside), if it is one.
    fn bare_reference(&self) -> Option<NodeId> {
        let r = self.reference?;
        let bare = !self.never
            && self.types.is_none()
            && !self.lenient
            && self.lenient_if_key.is_none()
            && self.enum_values.is_none()
            && self.const_value.is_none()
            && self.min_length.is_none()
            && self.max_length.is_none()
            && self.pattern.is_none()
            && self.format.is_none()
            && self.content_json.is_none()
            && self.minimum.is_none()
            && self.maximum.is_none()
            && self.exclusive_minimum.is_none()
            && self.exclusive_maximum.is_none()
            && self.multiple_of.is_none()
            && self.min_items.is_none()
            && self.max_items.is_none()
            && !self.unique_items
            && self.items.is_none()
            && self.prefix_items.is_empty()
            && self.contains.is_none()
            && self.required.is_empty()
            && self.properties.is_empty()
            && matches!(self.additional, Additional::Allow)
            && self.pattern_properties.is_empty()
            && self.property_names.is_none()
            && self.min_properties.is_none()
            && self.max_properties.is_none()
            && self.dependent_required.is_empty()
            && self.dependent_schemas.is_empty()
            && self.any_of.is_empty()
            && self.all_of.is_empty()
            && self.one_of.is_empty()
            && self.not.is_none()
            && self.if_then_else.is_none()
            && self.discriminator.is_none()
            && self.alphabet.is_none()
            && self.token_counts.is_empty()
            && self.text_format.is_none()
            && self.rules.is_empty()
            && self.key_alphabet.is_none()
            && self.length.is_none()
            && self.ignored_keys.is_empty();
        bare.then_some(r)
    }
}

/// Sets [`Node::skip_to`] on every node that is only a `$ref`.
pub(super) fn link_bare_references(nodes: &mut [Node]) {
    for node in nodes.iter_mut() {
        node.skip_to = node.bare_reference();
    }
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
    /// `x-biolm-strict: true` at the root: integers must be written as integers (`5`,
    /// never `5.0`), as the server's strict pydantic models require.
    pub(super) strict: bool,
    /// `x-biolm-refusal-note` at the root: added to every violation's message.
    pub(super) note: Option<String>,
}
