"""The pydantic construct corpus: one small pydantic v2 API per construct.

Every construct is a family of its own (family == slug) with one action, `predict`:

* request  = ``{items: list[Item] (1..=4), params: Optional[Params] = None}`` with
  ``extra='forbid'`` on the wrapper (``params: Params`` without default where the
  construct says ``params_required=True``; no ``params`` at all when it has none);
* response = ``{results: list[Result]}``.

``Item``, ``Params`` and ``Result`` carry the construct. Each construct lists request
bodies (``cases``); ``export.py`` labels each one with pydantic's own verdict
(``Request.model_validate_json``) and cross-checks it against a standard JSON Schema
validator. A case is marked ``nx="reason"`` (not expressible) when pydantic's verdict
depends on something the exported JSON Schema cannot say (a lax coercion, a callable
discriminator's logic, a custom validator, ...). ``explain`` documents every case where a
standard Draft 2020-12 validator disagrees with pydantic on an expressible case: the Rust
validator follows pydantic there (pydantic is what the server runs).

Run ``regen.sh`` (or ``export.py``) after changing this file.
"""

import datetime
import enum
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, Optional, TypeVar, Union

from pydantic import (
    AliasChoices,
    AnyUrl,
    BaseModel,
    ConfigDict,
    Discriminator,
    EmailStr,
    Field,
    HttpUrl,
    NonNegativeInt,
    PositiveFloat,
    RootModel,
    StringConstraints,
    Tag,
    WithJsonSchema,
    computed_field,
    conint,
    conlist,
    constr,
    create_model,
    field_validator,
    model_validator,
)

# --------------------------------------------------------------------------- framework

_MISSING = object()


@dataclass
class Case:
    """One request body of a construct (labelled later by pydantic)."""

    name: str
    body: dict
    nx: Optional[str] = None  # reason when not expressible in JSON Schema


@dataclass
class Construct:
    """One construct: its models, its cases and the explanations of disagreements."""

    slug: str
    display_name: str
    feature: str
    item: type
    result: type
    params: Optional[type] = None
    params_required: bool = False
    cases: list = field(default_factory=list)
    explain: dict = field(default_factory=dict)
    request: Any = None
    response: Any = None
    # JSON Schema draft the cross-check validates with ("2020-12" or "7").
    draft: str = "2020-12"


CONSTRUCTS: list = []


def pascal(slug: str) -> str:
    """`union-smart` -> `UnionSmart`."""
    return "".join(p[:1].upper() + p[1:] for p in slug.split("-"))


def body(*items, params=_MISSING, **extra) -> dict:
    """A request body: the given items, params if given, and extra top-level keys."""
    out = {"items": list(items)}
    if params is not _MISSING:
        out["params"] = params
    out.update(extra)
    return out


def case(name, *items, params=_MISSING, nx=None, **extra) -> Case:
    """A case whose body is built from items (and params)."""
    return Case(name, body(*items, params=params, **extra), nx)


def raw(name, whole_body, nx=None) -> Case:
    """A case with a hand-written body (e.g. missing `items`)."""
    return Case(name, whole_body, nx)


def register(
    slug,
    feature,
    item,
    result,
    cases,
    params=None,
    params_required=False,
    explain=None,
    display_name=None,
    draft="2020-12",
):
    """Builds the request/response wrappers for a construct and records it."""
    name = pascal(slug)
    items_t = Annotated[list[item], Field(min_length=1, max_length=4)]
    fields = {"items": (items_t, ...)}
    if params is not None:
        if params_required:
            fields["params"] = (params, ...)
        else:
            fields["params"] = (Optional[params], None)
    request = create_model(
        f"{name}PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"Request of the `{slug}` construct.",
        **fields,
    )
    response = create_model(
        f"{name}PredictResponse",
        __doc__=f"Response of the `{slug}` construct.",
        results=(list[result], ...),
    )
    c = Construct(
        slug=slug,
        display_name=display_name or slug.replace("-", " ").capitalize(),
        feature=feature,
        item=item,
        result=result,
        params=params,
        params_required=params_required,
        cases=list(cases),
        explain=dict(explain or {}),
        request=request,
        response=response,
        draft=draft,
    )
    CONSTRUCTS.append(c)
    return c


LAX = "lax coercion: pydantic (lax mode) converts the value; the schema's type forbids it"


# =========================================================================== optional


class OptionalOrderItem(BaseModel):
    """`Optional[int]`, `Union[None, int]`, and a schema forced to list `null` first."""

    a: Optional[int]
    b: Union[None, int]
    c: Optional[str] = None
    d: Annotated[
        Optional[int],
        WithJsonSchema({"anyOf": [{"type": "null"}, {"type": "integer"}], "default": None}),
    ] = None


class OptionalOrderResult(BaseModel):
    value: Union[None, int]
    label: Optional[str] = None


register(
    "optional-order",
    "`Optional[int]`, `Union[None, int]` (pydantic emits both as `anyOf[integer, null]`), "
    "and a `WithJsonSchema` forcing `anyOf[null, integer]`",
    OptionalOrderItem,
    OptionalOrderResult,
    [
        case("all-set", {"a": 1, "b": 2, "c": "x", "d": 3}),
        case("nulls", {"a": None, "b": None, "c": None, "d": None}),
        case("defaults-omitted", {"a": 1, "b": None}),
        case("missing-required-nullable", {"b": 1}),
        case("wrong-type-b", {"a": 1, "b": "x"}),
        case("wrong-type-d", {"a": 1, "b": 1, "d": 1.5}),
        case("null-first-int", {"a": 0, "b": 0, "d": -7}),
        case("float-for-int", {"a": 1.5, "b": 1}),
    ],
)

# ---------------------------------------------------------------------------- nullable


class NullableRequiredItem(BaseModel):
    """Required but nullable (no default) next to optional-with-default."""

    required_nullable: Optional[str]
    optional_nullable: Optional[str] = None
    optional_non_null: str = "x"


class NullableRequiredResult(BaseModel):
    maybe: Optional[float]


register(
    "nullable-required",
    "a field that is `Optional[...]` with no default: in `required`, and `null` allowed",
    NullableRequiredItem,
    NullableRequiredResult,
    [
        case("null-given", {"required_nullable": None}),
        case("value-given", {"required_nullable": "v", "optional_nullable": "w"}),
        case("missing", {}),
        case("non-null-default-given-null", {"required_nullable": "v", "optional_non_null": None}),
        case("wrong-type", {"required_nullable": 5}),
        case("all", {"required_nullable": "", "optional_nullable": None, "optional_non_null": ""}),
    ],
)

# ============================================================================ literal


class LiteralStrItem(BaseModel):
    mode: Literal["fast", "accurate", "balanced"]
    maybe: Optional[Literal["a", "b"]] = None


class LiteralStrResult(BaseModel):
    mode: Literal["fast", "accurate", "balanced"]


register(
    "literal-str",
    "`Literal['fast', 'accurate', 'balanced']` and an optional literal",
    LiteralStrItem,
    LiteralStrResult,
    [
        case("ok", {"mode": "fast"}),
        case("ok-optional", {"mode": "balanced", "maybe": "b"}),
        case("optional-null", {"mode": "accurate", "maybe": None}),
        case("wrong-value", {"mode": "slow"}),
        case("wrong-case", {"mode": "Fast"}),
        case("wrong-type", {"mode": 1}),
        case("missing", {}),
    ],
)


class LiteralIntItem(BaseModel):
    k: Literal[1, 2, 4, 8]


class LiteralIntResult(BaseModel):
    k: Literal[1, 2, 4, 8]


register(
    "literal-int",
    "`Literal[1, 2, 4, 8]`",
    LiteralIntItem,
    LiteralIntResult,
    [
        case("ok", {"k": 4}),
        case("ok-last", {"k": 8}),
        case("not-member", {"k": 3}),
        case("string-of-member", {"k": "4"}),
        case("float-of-member", {"k": 4.0}),
        case("bool", {"k": True}, nx=LAX + " (true == 1 for an int literal)"),
        case("missing", {}),
    ],
)


class LiteralMixedItem(BaseModel):
    v: Literal["auto", 0, 1, True, None]


class LiteralMixedResult(BaseModel):
    v: Literal["auto", 0, 1]


register(
    "literal-mixed",
    "`Literal['auto', 0, 1, True, None]`: an `enum` with no `type`",
    LiteralMixedItem,
    LiteralMixedResult,
    [
        case("str", {"v": "auto"}),
        case("zero", {"v": 0}),
        case("one", {"v": 1}),
        case("true", {"v": True}),
        case("null", {"v": None}),
        case("false", {"v": False}, nx=LAX + " (false == 0 for the int literal 0)"),
        case("two", {"v": 2}),
        case("other-str", {"v": "manual"}),
        case("missing", {}),
    ],
)


class ConstLiteralItem(BaseModel):
    kind: Literal["sequence"]
    version: Literal[2] = 2


class ConstLiteralResult(BaseModel):
    kind: Literal["embedding"] = "embedding"


register(
    "const-literal",
    "`Literal['sequence']` (a single value): `const` + `type`. "
    "`Field(json_schema_extra={'const': ...})` alone is not validated by pydantic, so it is not used",
    ConstLiteralItem,
    ConstLiteralResult,
    [
        case("ok", {"kind": "sequence"}),
        case("ok-version", {"kind": "sequence", "version": 2}),
        case("wrong-const", {"kind": "structure"}),
        case("wrong-version", {"kind": "sequence", "version": 3}),
        case("version-string", {"kind": "sequence", "version": "2"}),
        case("missing-kind", {}),
    ],
)

# ============================================================================== enums


class Color(str, enum.Enum):
    """A `str`-mixin enum."""

    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class EnumStrItem(BaseModel):
    color: Color
    fallback: Color = Color.RED


class EnumStrResult(BaseModel):
    color: Color


register(
    "enum-str",
    "`class Color(str, Enum)`: a `$defs` entry with `enum` + `type: string`, a default member",
    EnumStrItem,
    EnumStrResult,
    [
        case("ok", {"color": "green"}),
        case("ok-fallback", {"color": "blue", "fallback": "green"}),
        case("name-not-value", {"color": "GREEN"}),
        case("not-member", {"color": "purple"}),
        case("wrong-type", {"color": 1}),
        case("missing", {}),
    ],
)


class Level(enum.IntEnum):
    LOW = 1
    MID = 5
    HIGH = 10


class EnumIntItem(BaseModel):
    level: Level


class EnumIntResult(BaseModel):
    level: Level


register(
    "enum-int",
    "`IntEnum`: `enum` of integers + `type: integer`",
    EnumIntItem,
    EnumIntResult,
    [
        case("ok", {"level": 5}),
        case("ok-high", {"level": 10}),
        case("not-member", {"level": 2}),
        case("string-member", {"level": "5"}, nx=LAX),
        case("float-member", {"level": 5.0}),
        case("name", {"level": "MID"}),
        case("missing", {}),
    ],
)


class Strand(enum.StrEnum):
    FORWARD = "+"
    REVERSE = "-"
    BOTH = "both"


class EnumStrenumItem(BaseModel):
    strand: Strand
    strands: list[Strand] = []


class EnumStrenumResult(BaseModel):
    strand: Strand


register(
    "enum-strenum",
    "`StrEnum` with punctuation values, alone and in a list",
    EnumStrenumItem,
    EnumStrenumResult,
    [
        case("plus", {"strand": "+"}),
        case("list", {"strand": "both", "strands": ["+", "-", "both"]}),
        case("name", {"strand": "FORWARD"}),
        case("bad-in-list", {"strand": "-", "strands": ["+", "x"]}),
        case("wrong-type", {"strand": None}),
        case("missing", {}),
    ],
)

# ============================================================================= unions


class UnionSmartItem(BaseModel):
    x: Union[int, str]
    y: Union[float, int] = 0
    z: Union[str, list[str]] = "a"


class UnionSmartResult(BaseModel):
    x: Union[int, str]


register(
    "union-smart",
    "smart-mode unions (default): `Union[int, str]`, `Union[float, int]`, `Union[str, list[str]]`",
    UnionSmartItem,
    UnionSmartResult,
    [
        case("int", {"x": 1}),
        case("str", {"x": "1"}),
        case("float-in-float-int", {"x": 1, "y": 1.5}),
        case("list-branch", {"x": "a", "z": ["a", "b"]}),
        case("neither", {"x": [1]}),
        case("null", {"x": None}),
        case("bad-list-member", {"x": 1, "z": ["a", 1]}),
        case("bool-x", {"x": True}, nx=LAX + " (bool matches int in lax mode)"),
    ],
)


class UnionL2RItem(BaseModel):
    x: Union[str, int] = Field(union_mode="left_to_right")
    y: Union[int, float] = Field(0, union_mode="left_to_right")


class UnionL2RResult(BaseModel):
    x: Union[str, int] = Field(union_mode="left_to_right")


register(
    "union-left-to-right",
    "`Field(union_mode='left_to_right')`: same `anyOf`; first matching branch wins",
    UnionL2RItem,
    UnionL2RResult,
    [
        case("str", {"x": "a"}),
        case("int", {"x": 3}),
        case("float-y", {"x": 3, "y": 2.5}),
        case("null", {"x": None}),
        case("object", {"x": {}}),
        case("bad-y", {"x": "a", "y": "2.5x"}),
        case("string-y", {"x": "a", "y": "2"}, nx=LAX),
    ],
)


# ------------------------------------------------------------- discriminated unions


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=0, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Fish(BaseModel):
    kind: Literal["fish"]
    fins: int


class DiscriminatedUnionItem(BaseModel):
    pet: Annotated[Union[Cat, Dog, Fish], Field(discriminator="kind")]
    pets: list[Annotated[Union[Cat, Dog], Field(discriminator="kind")]] = []


class DiscriminatedUnionResult(BaseModel):
    pet: Annotated[Union[Cat, Dog, Fish], Field(discriminator="kind")]


register(
    "discriminated-union",
    "`Field(discriminator='kind')`: `oneOf` + `discriminator.mapping`, also inside a list",
    DiscriminatedUnionItem,
    DiscriminatedUnionResult,
    [
        case("cat", {"pet": {"kind": "cat", "lives": 9}}),
        case("dog", {"pet": {"kind": "dog"}}),
        case("fish-list", {"pet": {"kind": "fish", "fins": 2}, "pets": [{"kind": "dog", "good": False}, {"kind": "cat", "lives": 0}]}),
        case("wrong-tag", {"pet": {"kind": "bird"}}),
        case("missing-tag", {"pet": {"lives": 3}}),
        case("tag-ok-body-bad", {"pet": {"kind": "cat", "lives": 10}}),
        case("fish-missing-fins", {"pet": {"kind": "fish"}}),
        case("fish-in-cat-dog-list", {"pet": {"kind": "dog"}, "pets": [{"kind": "fish", "fins": 1}]}),
        case("tag-not-string", {"pet": {"kind": 1}}),
    ],
)


class BlackCat(BaseModel):
    pet_type: Literal["cat"]
    color: Literal["black"]
    black_name: str


class WhiteCat(BaseModel):
    pet_type: Literal["cat"]
    color: Literal["white"]
    white_name: str


class Hound(BaseModel):
    pet_type: Literal["dog"]
    name: str


NestedPet = Annotated[
    Union[Annotated[Union[BlackCat, WhiteCat], Field(discriminator="color")], Hound],
    Field(discriminator="pet_type"),
]


class NestedDiscriminatedUnionItem(BaseModel):
    pet: NestedPet


class NestedDiscriminatedUnionResult(BaseModel):
    pet: NestedPet


register(
    "nested-discriminated-union",
    "a discriminated union (`color`) nested in a discriminated union (`pet_type`)",
    NestedDiscriminatedUnionItem,
    NestedDiscriminatedUnionResult,
    [
        case("black-cat", {"pet": {"pet_type": "cat", "color": "black", "black_name": "b"}}),
        case("white-cat", {"pet": {"pet_type": "cat", "color": "white", "white_name": "w"}}),
        case("dog", {"pet": {"pet_type": "dog", "name": "rex"}}),
        case("cat-wrong-color", {"pet": {"pet_type": "cat", "color": "red", "black_name": "b"}}),
        case("cat-missing-color", {"pet": {"pet_type": "cat", "black_name": "b"}}),
        case("black-cat-white-field", {"pet": {"pet_type": "cat", "color": "black", "white_name": "w"}}),
        case("wrong-outer-tag", {"pet": {"pet_type": "bird", "name": "x"}}),
    ],
)


def _shape_tag(v: Any) -> Optional[str]:
    if isinstance(v, dict):
        if "radius" in v:
            return "circle"
        if "side" in v:
            return "square"
        return None
    return getattr(v, "tag", None)


class Circle(BaseModel):
    radius: float = Field(gt=0)


class Square(BaseModel):
    side: float = Field(gt=0)


Shape = Annotated[
    Union[Annotated[Circle, Tag("circle")], Annotated[Square, Tag("square")]],
    Discriminator(_shape_tag),
]


class CallableDiscriminatorItem(BaseModel):
    shape: Shape


class CallableDiscriminatorResult(BaseModel):
    shape: Shape


_CALLABLE = "a callable Discriminator picks the branch from the keys present; the schema is a plain oneOf"
register(
    "callable-discriminator",
    "`Discriminator(callable)` with `Tag`s: `oneOf` without `discriminator`",
    CallableDiscriminatorItem,
    CallableDiscriminatorResult,
    [
        case("circle", {"shape": {"radius": 1.0}}),
        case("square", {"shape": {"side": 2}}),
        case("circle-bad", {"shape": {"radius": 0}}),
        case("no-tag", {"shape": {"width": 1}}),
        # both keys: the callable says circle; oneOf would match both (no additionalProperties: false)
        case("both-keys", {"shape": {"radius": 1, "side": 1}}, nx=_CALLABLE),
        # radius valid but side invalid: callable picks circle -> valid; oneOf: only circle matches -> valid
        case("both-keys-square-bad", {"shape": {"radius": 1, "side": -1}}, nx=_CALLABLE),
        # radius invalid, side valid: the callable picks circle -> invalid; oneOf: square matches
        case("both-keys-circle-bad", {"shape": {"radius": -1, "side": 1}}, nx=_CALLABLE),
        case("not-object", {"shape": 3}),
    ],
)

# ========================================================================== recursion


class TreeNode(BaseModel):
    label: str
    children: list["TreeNode"] = []


class RecursionSelfItem(BaseModel):
    tree: TreeNode


class RecursionSelfResult(BaseModel):
    tree: TreeNode


register(
    "recursion-self",
    "a self-referencing model through a list (`children: list['TreeNode']`)",
    RecursionSelfItem,
    RecursionSelfResult,
    [
        case("leaf", {"tree": {"label": "a"}}),
        case("deep", {"tree": {"label": "a", "children": [{"label": "b", "children": [{"label": "c", "children": []}]}]}}),
        case("deep-bad", {"tree": {"label": "a", "children": [{"label": "b", "children": [{"children": []}]}]}}),
        case("children-not-list", {"tree": {"label": "a", "children": {"label": "b"}}}),
        case("missing-tree", {}),
        case("wide", {"tree": {"label": "r", "children": [{"label": str(i)} for i in range(5)]}}),
    ],
)


class Expr(BaseModel):
    op: Literal["add", "mul"]
    args: list["Term"] = Field(min_length=1)


class Term(BaseModel):
    value: Optional[float] = None
    expr: Optional[Expr] = None


class RecursionMutualItem(BaseModel):
    expr: Expr


class RecursionMutualResult(BaseModel):
    term: Term


register(
    "recursion-mutual",
    "mutual recursion `Expr -> list[Term] -> Optional[Expr]`",
    RecursionMutualItem,
    RecursionMutualResult,
    [
        case("flat", {"expr": {"op": "add", "args": [{"value": 1}, {"value": 2}]}}),
        case("nested", {"expr": {"op": "mul", "args": [{"expr": {"op": "add", "args": [{"value": 1}]}}]}}),
        case("nested-empty-args", {"expr": {"op": "mul", "args": [{"expr": {"op": "add", "args": []}}]}}),
        case("nested-bad-op", {"expr": {"op": "mul", "args": [{"expr": {"op": "sub", "args": [{}]}}]}}),
        case("empty-term", {"expr": {"op": "add", "args": [{}]}}),
        case("missing-args", {"expr": {"op": "add"}}),
    ],
)


class LinkedNode(BaseModel):
    value: int
    next: Optional["LinkedNode"] = None


class RecursionOptionalItem(BaseModel):
    head: LinkedNode


class RecursionOptionalResult(BaseModel):
    head: Optional[LinkedNode]


register(
    "recursion-optional",
    "recursion through `Optional` (`next: Optional['LinkedNode']`)",
    RecursionOptionalItem,
    RecursionOptionalResult,
    [
        case("one", {"head": {"value": 1}}),
        case("three", {"head": {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}}),
        case("bad-third", {"head": {"value": 1, "next": {"value": 2, "next": {"value": "x"}}}}),
        case("next-wrong-type", {"head": {"value": 1, "next": 2}}),
        case("null-head", {"head": None}),
    ],
)


class DirNode(BaseModel):
    size: NonNegativeInt = 0
    entries: dict[str, "DirNode"] = {}


class RecursionDictItem(BaseModel):
    root: DirNode


class RecursionDictResult(BaseModel):
    root: DirNode


register(
    "recursion-dict",
    "recursion through a dict (`entries: dict[str, 'DirNode']`)",
    RecursionDictItem,
    RecursionDictResult,
    [
        case("empty", {"root": {}}),
        case("nested", {"root": {"entries": {"a": {"size": 1}, "b": {"entries": {"c": {"size": 2}}}}}}),
        case("nested-negative", {"root": {"entries": {"b": {"entries": {"c": {"size": -1}}}}}}),
        case("entry-not-object", {"root": {"entries": {"a": 1}}}),
        case("entries-list", {"root": {"entries": []}}),
    ],
)

# ======================================================================== inheritance


class BaseRecord(BaseModel):
    """A base model."""

    id: str = Field(min_length=1)
    tags: list[str] = []


class SequenceRecord(BaseRecord):
    """Adds a sequence to `BaseRecord` and narrows `tags`."""

    sequence: str
    tags: list[str] = Field(default=[], max_length=2)


class InheritanceItem(BaseModel):
    record: SequenceRecord
    base: Optional[BaseRecord] = None


class InheritanceResult(BaseModel):
    record: SequenceRecord


register(
    "inheritance",
    "a model subclassing another (fields flattened into the subclass, an overridden field)",
    InheritanceItem,
    InheritanceResult,
    [
        case("ok", {"record": {"id": "r1", "sequence": "ACGT"}}),
        case("with-base", {"record": {"id": "r1", "sequence": "A", "tags": ["a", "b"]}, "base": {"id": "b", "tags": ["x", "y", "z"]}}),
        case("override-limit", {"record": {"id": "r1", "sequence": "A", "tags": ["a", "b", "c"]}}),
        case("missing-base-field", {"record": {"sequence": "A"}}),
        case("missing-sub-field", {"record": {"id": "x"}}),
        case("base-empty-id", {"record": {"id": "r", "sequence": "A"}, "base": {"id": ""}}),
    ],
)

# ============================================================================== allOf


class AllOfItem(BaseModel):
    """`allOf` of two schemas, made with `WithJsonSchema` over a pydantic type that
    validates exactly the conjunction."""

    score: Annotated[
        int,
        Field(ge=0, le=100),
        WithJsonSchema(
            {"allOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 100}]}
        ),
    ]
    code: Annotated[
        str,
        StringConstraints(min_length=2, max_length=8),
        WithJsonSchema(
            {"allOf": [{"type": "string", "minLength": 2}, {"type": "string", "maxLength": 8}]}
        ),
    ] = "ab"


class AllOfResult(BaseModel):
    score: Annotated[
        int,
        Field(ge=0, le=100),
        WithJsonSchema(
            {"allOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 100}]}
        ),
    ]


register(
    "all-of",
    "`allOf` with two subschemas (via `WithJsonSchema`; pydantic validates the same bounds)",
    AllOfItem,
    AllOfResult,
    [
        case("ok", {"score": 50}),
        case("low-edge", {"score": 0, "code": "ab"}),
        case("high-edge", {"score": 100, "code": "abcdefgh"}),
        case("below", {"score": -1}),
        case("above", {"score": 101}),
        case("code-short", {"score": 1, "code": "a"}),
        case("code-long", {"score": 1, "code": "abcdefghi"}),
        case("wrong-type", {"score": "x"}),
    ],
)

# ============================================================================= tuples


class TupleFixedItem(BaseModel):
    pair: tuple[int, str]
    triple: Optional[tuple[float, float, float]] = None


class TupleFixedResult(BaseModel):
    pair: tuple[int, str]


register(
    "tuple-fixed",
    "`tuple[int, str]`: `prefixItems` + `minItems`/`maxItems`",
    TupleFixedItem,
    TupleFixedResult,
    [
        case("ok", {"pair": [1, "a"]}),
        case("triple", {"pair": [1, "a"], "triple": [0.0, 1.5, -2]}),
        case("too-short", {"pair": [1]}),
        case("too-long", {"pair": [1, "a", "b"]}),
        case("wrong-order", {"pair": ["a", 1]}),
        case("not-array", {"pair": "1a"}),
        case("triple-short", {"pair": [1, "a"], "triple": [1, 2]}),
    ],
)


class TupleVariadicItem(BaseModel):
    ints: tuple[int, ...]
    bounded: Annotated[tuple[float, ...], Field(min_length=1, max_length=3)] = (1.0,)


class TupleVariadicResult(BaseModel):
    ints: tuple[int, ...]


register(
    "tuple-variadic",
    "`tuple[int, ...]`: `items`; with length bounds",
    TupleVariadicItem,
    TupleVariadicResult,
    [
        case("empty", {"ints": []}),
        case("some", {"ints": [1, 2, 3], "bounded": [1, 2, 3]}),
        case("bad-member", {"ints": [1, "x"]}),
        case("bounded-empty", {"ints": [], "bounded": []}),
        case("bounded-long", {"ints": [], "bounded": [1, 2, 3, 4]}),
        case("not-array", {"ints": 1}),
    ],
)

_ITEMS_ARRAY = {
    "type": "array",
    "items": [{"type": "integer"}, {"type": "string"}],
    "minItems": 2,
    "maxItems": 2,
}


class TupleItemsArrayItem(BaseModel):
    pair: Annotated[tuple[int, str], WithJsonSchema(_ITEMS_ARRAY)]


class TupleItemsArrayResult(BaseModel):
    pair: Annotated[tuple[int, str], WithJsonSchema(_ITEMS_ARRAY)]


register(
    "tuple-items-array",
    "a draft-07 style tuple `\"items\": [..]` (via `WithJsonSchema`) over a `tuple[int, str]`",
    TupleItemsArrayItem,
    TupleItemsArrayResult,
    [
        case("ok", {"pair": [7, "x"]}),
        case("wrong-order", {"pair": ["x", 7]}),
        case("short", {"pair": [7]}),
        case("long", {"pair": [7, "x", "y"]}),
        case("second-wrong", {"pair": [7, 8]}),
        case("not-array", {"pair": {}}),
    ],
    # Draft 2020-12 has no array form of `items` (python jsonschema crashes on it): the
    # cross-check reads this construct as draft-07, where `items: [..]` is the tuple form.
    draft="7",
)

# ============================================================================== dicts


class Measurement(BaseModel):
    value: float
    unit: str = "nm"


class DictStrItem(BaseModel):
    counts: dict[str, int]
    measurements: dict[str, Measurement] = {}


class DictStrResult(BaseModel):
    scores: dict[str, float]


register(
    "dict-str",
    "`dict[str, int]` and `dict[str, Model]`: `additionalProperties`",
    DictStrItem,
    DictStrResult,
    [
        case("ok", {"counts": {"a": 1, "b": 2}}),
        case("empty", {"counts": {}}),
        case("models", {"counts": {}, "measurements": {"x": {"value": 1.5}, "y": {"value": 2, "unit": "A"}}}),
        case("bad-value", {"counts": {"a": "x"}}),
        case("bad-model", {"counts": {}, "measurements": {"x": {"unit": "nm"}}}),
        case("not-object", {"counts": [1]}),
        case("float-value", {"counts": {"a": 1.5}}),
    ],
)


class DictEnumKeyItem(BaseModel):
    weights: dict[Color, float]


class DictEnumKeyResult(BaseModel):
    weights: dict[Color, float]


register(
    "dict-enum-key",
    "`dict[Color, float]` with an enum key: `propertyNames` with a `$ref` to the enum",
    DictEnumKeyItem,
    DictEnumKeyResult,
    [
        case("ok", {"weights": {"red": 1.0, "blue": 0.5}}),
        case("empty", {"weights": {}}),
        case("bad-key", {"weights": {"purple": 1.0}}),
        case("name-key", {"weights": {"RED": 1.0}}),
        case("bad-value", {"weights": {"red": "x"}}),
        case("all", {"weights": {"red": 1, "green": 2, "blue": 3}}),
    ],
)


class PatternPropertiesItem(BaseModel):
    by_chain: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z]$")], int]


class PatternPropertiesResult(BaseModel):
    by_chain: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z]$")], int]


register(
    "pattern-properties",
    "`dict[Annotated[str, StringConstraints(pattern=...)], int]`: `patternProperties`",
    PatternPropertiesItem,
    PatternPropertiesResult,
    [
        case("ok", {"by_chain": {"A": 1, "H": 2}}),
        case("empty", {"by_chain": {}}),
        case("bad-key", {"by_chain": {"a": 1}}, nx="pydantic rejects a key not matching the pattern; "
             "`patternProperties` alone (no `additionalProperties: false`) lets other keys through"),
        case("long-key", {"by_chain": {"AB": 1}}, nx="same as bad-key: keys outside the pattern are "
             "rejected by pydantic but not by the schema"),
        case("bad-value", {"by_chain": {"A": "x"}}),
        case("float-value", {"by_chain": {"A": 1.5}}),
    ],
)


class PropertyNamesItem(BaseModel):
    labels: dict[Annotated[str, StringConstraints(min_length=2, max_length=4)], str]


class PropertyNamesResult(BaseModel):
    labels: dict[Annotated[str, StringConstraints(min_length=2, max_length=4)], str]


register(
    "property-names",
    "`dict` with a length-constrained key: `propertyNames` with `minLength`/`maxLength`",
    PropertyNamesItem,
    PropertyNamesResult,
    [
        case("ok", {"labels": {"ab": "x", "abcd": "y"}}),
        case("empty", {"labels": {}}),
        case("key-short", {"labels": {"a": "x"}}),
        case("key-long", {"labels": {"abcde": "x"}}),
        case("bad-value", {"labels": {"ab": 1}}),
        case("unicode-key", {"labels": {"αβγδ": "x"}}),
    ],
)

# ======================================================================= numeric limits


class IntConstraintsItem(BaseModel):
    gt: int = Field(1, gt=0)
    ge: int = Field(0, ge=0)
    lt: int = Field(0, lt=10)
    le: int = Field(0, le=10)
    step: int = Field(0, multiple_of=3)
    big: int = 0


class IntConstraintsResult(BaseModel):
    n: int = Field(ge=-5, le=5)


def _ic(name, nx=None, **kw):
    base = {"gt": 1}
    base.update(kw)
    return case(name, base, nx=nx)


register(
    "int-constraints",
    "`gt`/`ge`/`lt`/`le`/`multiple_of` on `int`: `exclusiveMinimum`/`minimum`/"
    "`exclusiveMaximum`/`maximum`/`multipleOf`",
    IntConstraintsItem,
    IntConstraintsResult,
    [
        _ic("gt-inside", gt=1),
        _ic("gt-edge", gt=0),
        _ic("ge-edge", ge=0),
        _ic("ge-outside", ge=-1),
        _ic("lt-inside", lt=9),
        _ic("lt-edge", lt=10),
        _ic("le-edge", le=10),
        _ic("le-outside", le=11),
        _ic("multiple", step=-9),
        _ic("not-multiple", step=4),
        _ic("big-u64", big=2**64),
        _ic("big-negative", big=-(2**70)),
        _ic("float-integral", ge=5.0),
        _ic("float-fraction", ge=5.5),
        _ic("string-int", ge="5", nx=LAX),
        _ic("bool", ge=True, nx=LAX + " (bool -> int)"),
    ],
)


class FloatConstraintsItem(BaseModel):
    gt: float = Field(0.5, gt=0.0)
    ge: float = Field(0.0, ge=-1.5)
    lt: float = Field(0.0, lt=1.0)
    le: float = Field(0.0, le=2.5)
    half: float = Field(0.0, multiple_of=0.5)
    prob: float = Field(0.5, ge=0, le=1)


class FloatConstraintsResult(BaseModel):
    prob: float = Field(ge=0, le=1)


register(
    "float-constraints",
    "`gt`/`ge`/`lt`/`le`/`multiple_of=0.5` on `float`",
    FloatConstraintsItem,
    FloatConstraintsResult,
    [
        case("defaults", {}),
        case("gt-edge", {"gt": 0.0}),
        case("gt-tiny", {"gt": 5e-324}),
        case("ge-edge", {"ge": -1.5}),
        case("ge-outside", {"ge": -1.5000001}),
        case("lt-edge", {"lt": 1.0}),
        case("lt-inside", {"lt": 0.9999999}),
        case("le-edge", {"le": 2.5}),
        case("le-outside", {"le": 2.50001}),
        case("half-ok", {"half": -3.5}),
        case("half-bad", {"half": 0.25}),
        case("int-for-float", {"prob": 1}),
        case("prob-over", {"prob": 1.0000001}),
        case("string-float", {"prob": "0.5"}, nx=LAX),
    ],
)


class FloatMultipleOfItem(BaseModel):
    tenth: float = Field(multiple_of=0.1)
    hundredth: float = Field(0.0, multiple_of=0.01)


class FloatMultipleOfResult(BaseModel):
    tenth: float = Field(multiple_of=0.1)


_FMO = (
    "float `multipleOf`: pydantic-core 2.41.5 (src/validators/float.rs) accepts x iff "
    "`|x - round(x / m) * m| <= 1e-9` (absolute tolerance, round half away from zero); the "
    "python validator requires `x / m` to be an exact integer in binary floating point. "
    "Follow pydantic's rule."
)
register(
    "float-multiple-of",
    "`multiple_of=0.1` / `0.01` on floats (binary-float edge cases; pydantic's verdict is the label)",
    FloatMultipleOfItem,
    FloatMultipleOfResult,
    [
        case(f"tenth-{v}", {"tenth": v})
        for v in [0.1, 0.2, 0.3, 0.7, 1.1, 2.3, 0.15, 1e-9, 2e-9, 0, 10, -0.3, 123456.7,
                  0.30000000000000004, 1e10 + 0.05]
    ]
    + [case(f"hundredth-{v}", {"tenth": 0.1, "hundredth": v}) for v in [0.07, 1.13, 0.005, 2.675]],
    explain={
        f"{k}-{v}": _FMO
        for k, v in [("tenth", 0.3), ("tenth", 0.7), ("tenth", 2.3), ("tenth", 1e-9),
                     ("tenth", -0.3), ("tenth", 0.30000000000000004),
                     ("hundredth", 0.07), ("hundredth", 1.13)]
    },
)


class LengthConstraintsItem(BaseModel):
    s: str = Field("ab", min_length=2, max_length=4)
    lst: list[int] = Field([0], min_length=1, max_length=3)
    d: dict[str, int] = Field({}, max_length=2)
    d_min: dict[str, int] = Field({"a": 1}, min_length=1)


class LengthConstraintsResult(BaseModel):
    s: str = Field(min_length=1, max_length=8)


register(
    "length-constraints",
    "`min_length`/`max_length` on `str`, `list`, `dict`: `minLength`/`maxLength`, "
    "`minItems`/`maxItems`, `minProperties`/`maxProperties`",
    LengthConstraintsItem,
    LengthConstraintsResult,
    [
        case("defaults", {}),
        case("s-min", {"s": "ab"}),
        case("s-short", {"s": "a"}),
        case("s-max", {"s": "abcd"}),
        case("s-long", {"s": "abcde"}),
        case("s-astral", {"s": "😀😀"}),
        case("s-astral-3", {"s": "😀😀😀😀😀"}),
        case("s-combining", {"s": "e\u0301e\u0301e\u0301"}),
        case("list-empty", {"lst": []}),
        case("list-max", {"lst": [1, 2, 3]}),
        case("list-long", {"lst": [1, 2, 3, 4]}),
        case("dict-max", {"d": {"a": 1, "b": 2}}),
        case("dict-long", {"d": {"a": 1, "b": 2, "c": 3}}),
        case("dict-min-empty", {"d_min": {}}),
    ],
)

# ============================================================================ patterns


class PatternRustItem(BaseModel):
    """Patterns under pydantic's default regex engine (Rust `regex`)."""

    digits: str = Field("1", pattern=r"^\d{1,4}$")
    kmer: str = Field("ACG", pattern=r"^[ACGT]{3}(-[ACGT]{3})*$")
    choice: str = Field("cat", pattern=r"^(cat|dog|bird)$")
    contains: str = Field("xa1", pattern=r"[a-z][0-9]")
    word: str = Field("ab_1", pattern=r"^\w+$")


class PatternRustResult(BaseModel):
    kmer: str = Field(pattern=r"^[ACGT]{3}(-[ACGT]{3})*$")


_UNI = (
    "Unicode `\\d`/`\\w`: pydantic's default engine (Rust regex) is Unicode-aware, so `\\d` matches "
    "non-ASCII digits; ECMA-262 (and a `regress`-based validator) is ASCII-only. Follow pydantic."
)
register(
    "pattern-rust-regex",
    "`Field(pattern=...)` under the default engine: `\\d`, counted repetition, classes, anchors, "
    "alternation, unanchored search",
    PatternRustItem,
    PatternRustResult,
    explain={
        "digits-trailing-newline": "`$` under Rust regex (and ECMA-262 without the m flag) matches "
        "only at the very end; python `re` (used by the python validator) also matches before a "
        "final newline. pydantic rejects `12\\n`: follow ECMA/pydantic.",
    },
    cases=[
        case("defaults", {}),
        case("digits-max", {"digits": "1234"}),
        case("digits-long", {"digits": "12345"}),
        case("digits-empty", {"digits": ""}),
        case("digits-arabic-indic", {"digits": "١٢٣"}),
        case("digits-trailing-newline", {"digits": "12\n"}),
        case("kmer-chain", {"kmer": "ACG-TTT-GGG"}),
        case("kmer-bad", {"kmer": "ACG-TT"}),
        case("kmer-lower", {"kmer": "acg"}),
        case("choice-bad", {"choice": "cats"}),
        case("contains-middle", {"contains": "XXa1XX"}),
        case("contains-none", {"contains": "A1"}),
        case("word-unicode", {"word": "été"}),
        case("word-space", {"word": "a b"}),
    ],
)


class PatternPythonItem(BaseModel):
    """Patterns under `regex_engine='python-re'` (needed for look-around)."""

    model_config = ConfigDict(regex_engine="python-re")

    password: str = Field(pattern=r"^(?=.*\d)(?=.*[a-z])[a-z\d]{6,}$")
    no_x: str = Field("ab", pattern=r"^(?!x)\w+$")
    contains: str = Field("xa1", pattern=r"[a-z][0-9]")


class PatternPythonResult(BaseModel):
    model_config = ConfigDict(regex_engine="python-re")

    password: str = Field(pattern=r"^(?=.*\d)(?=.*[a-z])[a-z\d]{6,}$")


register(
    "pattern-python-re",
    "`ConfigDict(regex_engine='python-re')` with look-ahead patterns",
    PatternPythonItem,
    PatternPythonResult,
    [
        case("ok", {"password": "abc123"}),
        case("no-digit", {"password": "abcdef"}),
        case("no-letter", {"password": "123456"}),
        case("short", {"password": "ab12"}),
        case("upper", {"password": "ABC123"}),
        case("negative-lookahead-bad", {"password": "abc123", "no_x": "xab"}),
        case("negative-lookahead-ok", {"password": "abc123", "no_x": "abx"}),
        case("contains-middle", {"password": "abc123", "contains": "XXa1XX"}),
        case("trailing-newline", {"password": "abc123\n"}),
    ],
)

# ======================================================================== uniqueItems


class UniqueItemsItem(BaseModel):
    ids: set[int]
    names: frozenset[str] = frozenset()


class UniqueItemsResult(BaseModel):
    ids: set[int]


_DEDUP = "pydantic's set/frozenset validation silently deduplicates; the schema says `uniqueItems: true`"
register(
    "unique-items",
    "`set[int]` / `frozenset[str]`: `uniqueItems: true`",
    UniqueItemsItem,
    UniqueItemsResult,
    [
        case("ok", {"ids": [1, 2, 3]}),
        case("empty", {"ids": []}),
        case("dup-ints", {"ids": [1, 1]}, nx=_DEDUP),
        case("dup-names", {"ids": [1], "names": ["a", "a"]}, nx=_DEDUP),
        case("bad-member", {"ids": [1, "a"]}),
        case("not-array", {"ids": 1}),
        case("names-ok", {"ids": [2], "names": ["a", "b"]}),
    ],
)

# ============================================================================= formats


class FormatDateTimeItem(BaseModel):
    at: datetime.datetime
    day: datetime.date = datetime.date(2024, 1, 1)
    clock: datetime.time = datetime.time(0, 0, tzinfo=datetime.timezone.utc)


class FormatDateTimeResult(BaseModel):
    at: datetime.datetime
    day: datetime.date


_SPEEDATE = (
    "pydantic parses dates and times with `speedate`, which is laxer than RFC 3339 "
    "(the python validator's `date-time`/`date`/`time` checkers); follow pydantic."
)
_TS = LAX + " (pydantic reads a JSON number as a Unix timestamp)"
register(
    "format-date-time",
    "`datetime`/`date`/`time`: `format: date-time|date|time`",
    FormatDateTimeItem,
    FormatDateTimeResult,
    explain={
        "no-offset": _SPEEDATE + " A date-time without offset is accepted (naive datetime).",
        "space-separator": _SPEEDATE + " A space may separate date and time.",
        "date-only-for-datetime": _SPEEDATE + " A bare date is accepted for a datetime (midnight).",
        "day-with-time": _SPEEDATE + " A date accepts a datetime string whose time is exactly midnight.",
        "clock-ok": _SPEEDATE + " A time without offset is accepted (RFC 3339 full-time needs one).",
        "clock-no-seconds": _SPEEDATE + " A time without seconds (`HH:MM`) is accepted.",
    },
    cases=[
        case("utc-z", {"at": "2024-05-01T12:30:00Z"}),
        case("offset", {"at": "2024-05-01T12:30:00.123+02:00"}),
        case("no-offset", {"at": "2024-05-01T12:30:00"}),
        case("space-separator", {"at": "2024-05-01 12:30:00Z"}),
        case("date-only-for-datetime", {"at": "2024-05-01"}),
        case("bad-month", {"at": "2024-13-01T00:00:00Z"}),
        case("garbage", {"at": "yesterday"}),
        case("unix-int", {"at": 1714566600}, nx=_TS),
        case("day-ok", {"at": "2024-05-01T00:00:00Z", "day": "2024-02-29"}),
        case("day-invalid", {"at": "2024-05-01T00:00:00Z", "day": "2023-02-29"}),
        case("day-with-time", {"at": "2024-05-01T00:00:00Z", "day": "2024-02-29T00:00:00"}),
        case("clock-ok", {"at": "2024-05-01T00:00:00Z", "clock": "23:59:59"}),
        case("clock-offset", {"at": "2024-05-01T00:00:00Z", "clock": "23:59:59+01:00"}),
        case("clock-no-seconds", {"at": "2024-05-01T00:00:00Z", "clock": "23:59"}),
        case("clock-bad", {"at": "2024-05-01T00:00:00Z", "clock": "24:00:01"}),
        case("lowercase-t", {"at": "2024-05-01t12:30:00z"}),
    ],
)


class FormatUuidItem(BaseModel):
    id: uuid.UUID


class FormatUuidResult(BaseModel):
    id: uuid.UUID


_UUID = (
    "pydantic parses UUIDs with the Rust `uuid` crate (`Uuid::parse_str`), which accepts the simple, "
    "braced and URN forms; the python `uuid` checker wants the hyphenated form. Follow pydantic."
)
register(
    "format-uuid",
    "`uuid.UUID`: `format: uuid`",
    FormatUuidItem,
    FormatUuidResult,
    explain={
        "simple": _UUID + " 32 hex digits without hyphens are accepted.",
        "braced": _UUID + " `{...}` around a hyphenated UUID is accepted.",
        "urn": _UUID + " a `urn:uuid:` prefix is accepted.",
    },
    cases=[
        case("hyphenated", {"id": "12345678-1234-5678-1234-567812345678"}),
        case("upper", {"id": "12345678-1234-5678-1234-56781234ABCD"}),
        case("simple", {"id": "12345678123456781234567812345678"}),
        case("braced", {"id": "{12345678-1234-5678-1234-567812345678}"}),
        case("urn", {"id": "urn:uuid:12345678-1234-5678-1234-567812345678"}),
        case("short", {"id": "12345678-1234-5678-1234-56781234567"}),
        case("non-hex", {"id": "1234567g-1234-5678-1234-567812345678"}),
        case("not-string", {"id": 5}),
    ],
)


class FormatUriItem(BaseModel):
    any_url: AnyUrl
    http_url: HttpUrl = HttpUrl("https://example.com")


class FormatUriResult(BaseModel):
    url: AnyUrl


_HTTP = "HttpUrl also restricts the scheme to http/https and needs a host; the schema only says `format: uri`"
register(
    "format-uri",
    "`AnyUrl` / `HttpUrl`: `format: uri` + `minLength`/`maxLength`",
    FormatUriItem,
    FormatUriResult,
    explain={
        "space-in-path": "pydantic parses URLs with the Rust `url` crate (WHATWG URL), which "
        "percent-encodes a space in the path instead of rejecting it; RFC 3986 (python `rfc3987`) "
        "has no space. Follow pydantic.",
    },
    cases=[
        case("https", {"any_url": "https://example.com/a?b=c#d"}),
        case("custom-scheme", {"any_url": "s3://bucket/key"}),
        case("mailto", {"any_url": "mailto:a@example.com"}),
        case("relative", {"any_url": "/just/a/path"}),
        case("no-scheme", {"any_url": "example.com"}),
        case("empty", {"any_url": ""}),
        case("space-in-path", {"any_url": "https://example.com/a b"}),
        case("http-ftp", {"any_url": "https://x.org", "http_url": "ftp://x.org"}, nx=_HTTP),
        case("http-ok", {"any_url": "https://x.org", "http_url": "http://localhost:8000/x"}),
        case("http-too-long", {"any_url": "https://x.org", "http_url": "https://x.org/" + "a" * 2080}),
    ],
)


class FormatEmailItem(BaseModel):
    email: EmailStr


class FormatEmailResult(BaseModel):
    email: EmailStr


_EMAIL = (
    "pydantic checks `EmailStr` with `email-validator` (syntax only, no DNS), far stricter than the "
    "python validator's `email` checker (which only wants an `@`); it also accepts the "
    "`Display Name <addr>` form. Follow email-validator's syntax rules."
)
register(
    "format-email",
    "`EmailStr` (email-validator): `format: email`",
    FormatEmailItem,
    FormatEmailResult,
    explain={
        "no-tld": _EMAIL + " The domain needs a dot (`ada@localhost` is rejected).",
        "double-dot": _EMAIL + " Two dots in a row in the local part are rejected.",
    },
    cases=[
        case("ok", {"email": "ada@example.com"}),
        case("plus", {"email": "ada+tag@example.co.uk"}),
        case("no-at", {"email": "ada.example.com"}),
        case("no-tld", {"email": "ada@localhost"}),
        case("display-name", {"email": "Ada Lovelace <ada@example.com>"}),
        case("double-dot", {"email": "ada..l@example.com"}),
        case("unicode-local", {"email": "adà@example.com"}),
        case("empty", {"email": ""}),
    ],
)


class BytesBase64Item(BaseModel):
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    data: bytes
    small: bytes = Field(b"", max_length=4)


class BytesBase64Result(BaseModel):
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    data: bytes


_BYTESLEN = (
    "`max_length` on bytes counts decoded bytes, but pydantic emits it as `maxLength` of the "
    "base64 string"
)
_B64 = (
    "`format: base64url` is unknown to the python validator (ignored); pydantic decodes the "
    "string with the standard or the URL-safe alphabet (one of them, not mixed), padding "
    "optional, and rejects anything else (bad characters, `=` in the middle). Follow pydantic."
)
register(
    "bytes-base64",
    "`bytes` with `ConfigDict(ser_json_bytes='base64', val_json_bytes='base64')`: "
    "`format: base64url` (pydantic accepts standard and URL-safe alphabets, padding optional)",
    BytesBase64Item,
    BytesBase64Result,
    explain={"bad-chars": _B64, "bad-length": _B64, "mixed-alphabets": _B64},
    cases=[
        case("padded", {"data": "aGVsbG8="}),
        case("unpadded", {"data": "aGVsbG8"}),
        case("urlsafe", {"data": "_-8="}),
        case("standard", {"data": "+/8="}),
        case("empty", {"data": ""}),
        case("bad-chars", {"data": "!!!!"}),
        case("bad-length", {"data": "aGVsbG8=x"}),
        case("mixed-alphabets", {"data": "+_8="}),
        case("small-max", {"data": "", "small": "AAECAw=="}, nx=_BYTESLEN),
        case("small-over", {"data": "", "small": "AAECAwQ="}, nx=_BYTESLEN),
        case("not-string", {"data": 5}),
    ],
)


class DecimalItem(BaseModel):
    amount: Decimal
    price: Decimal = Field(Decimal("0"), ge=0, max_digits=6, decimal_places=2)


class DecimalResult(BaseModel):
    amount: Decimal


_DIGITS = "`max_digits`/`decimal_places` are not in the schema"
register(
    "decimal",
    "`Decimal`: `anyOf[number, string with pattern]` (validation), a string (serialization)",
    DecimalItem,
    DecimalResult,
    [
        case("number", {"amount": 1.5}),
        case("string", {"amount": "1.50"}),
        case("string-exp", {"amount": "1e3"}, nx="pydantic's Decimal parser accepts exponent "
             "notation; the pattern pydantic emits for the string form does not"),
        case("string-bad", {"amount": "abc"}),
        case("string-sign-only", {"amount": "-"}),
        case("int", {"amount": 7}),
        case("price-ok", {"amount": 1, "price": "1234.56"}),
        case("price-neg", {"amount": 1, "price": "-1"}, nx="the bounds of a Decimal are emitted on "
             "the number branch only; pydantic applies them to the string form too"),
        case("price-neg-number", {"amount": 1, "price": -1}),
        case("price-too-many-places", {"amount": 1, "price": "1.234"}, nx=_DIGITS),
        case("price-too-many-digits", {"amount": 1, "price": "12345.6"}, nx=_DIGITS),
        case("null", {"amount": None}),
    ],
)

# ============================================================================ defaults


class DefaultsItem(BaseModel):
    n: int = 3
    f: float = 0.5
    s: str = "x"
    b: bool = False
    lst: list[int] = [1, 2]
    d: dict[str, int] = {"a": 1}
    none: Optional[int] = None
    color: Color = Color.GREEN
    nested: Measurement = Measurement(value=1.0)
    factory: list[str] = Field(default_factory=list)


class DefaultsResult(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    n: int = 3
    label: Optional[str] = None


register(
    "defaults",
    "`default` of every JSON type (int, float, str, bool, list, dict, null, enum, model), "
    "a `default_factory`; `json_schema_serialization_defaults_required` on the result",
    DefaultsItem,
    DefaultsResult,
    [
        case("empty-item", {}),
        case("all-given", {"n": 1, "f": 1.5, "s": "", "b": True, "lst": [], "d": {}, "none": 2, "color": "red", "nested": {"value": 2}, "factory": ["a"]}),
        case("null-for-non-optional", {"n": None}),
        case("nested-bad", {"nested": {"unit": "x"}}),
        case("wrong-type-b", {"b": "maybe"}),
        case("bool-string", {"b": "true"}, nx=LAX + " (\"true\" -> True)"),
        case("bool-int", {"b": 1}, nx=LAX + " (1 -> True)"),
    ],
)

# ============================================================================= aliases


class AliasesItem(BaseModel):
    heavy_chain: str = Field(alias="heavyChain")
    light_chain: str = Field("", validation_alias="light")
    chain_id: str = Field("A", validation_alias=AliasChoices("chain_id", "chainId", "chain"))


class AliasesResult(BaseModel):
    score_value: float = Field(alias="scoreValue")
    rank: int = Field(0, serialization_alias="Rank")


_ALIASCHOICE = (
    "AliasChoices: pydantic accepts any of the choices, the schema names only the first one"
)
register(
    "aliases",
    "`Field(alias=...)`, `validation_alias=...`, `AliasChoices(...)`: the schema uses the alias",
    AliasesItem,
    AliasesResult,
    [
        case("alias", {"heavyChain": "QVQ"}),
        case("field-name-not-accepted", {"heavy_chain": "QVQ"}),
        case("validation-alias", {"heavyChain": "Q", "light": "D"}),
        case("validation-alias-field-name", {"heavyChain": "Q", "light_chain": "D"}),
        case("choice-first", {"heavyChain": "Q", "chain_id": "B"}),
        case("choice-second", {"heavyChain": "Q", "chainId": "B"}),
        case("choice-third", {"heavyChain": "Q", "chain": "B"}),
        case("choice-wrong-type-second", {"heavyChain": "Q", "chainId": 1}, nx=_ALIASCHOICE),
        case("alias-wrong-type", {"heavyChain": 1}),
    ],
)

# ============================================================================= strict


class StrictModeItem(BaseModel):
    model_config = ConfigDict(strict=True)

    n: int
    x: float = 0.0
    flag: bool = False
    s: str = ""


class StrictModeResult(BaseModel):
    model_config = ConfigDict(strict=True)

    n: int


_STRICT = (
    "strict mode: pydantic rejects 5.0 for an int; JSON Schema's `type: integer` admits any number "
    "with a zero fraction"
)
register(
    "strict-mode",
    "`ConfigDict(strict=True)`: no coercion (`5.0` is not an int, `\"5\"` is not an int)",
    StrictModeItem,
    StrictModeResult,
    [
        case("ok", {"n": 5, "x": 1.5, "flag": True, "s": "a"}),
        case("int-for-float", {"n": 5, "x": 1}),
        case("float-for-int", {"n": 5.0}, nx=_STRICT),
        case("fraction-for-int", {"n": 5.5}),
        case("string-for-int", {"n": "5"}),
        case("int-for-bool", {"n": 5, "flag": 1}),
        case("int-for-str", {"n": 5, "s": 1}),
        case("bool-for-int", {"n": True}),
    ],
)


class LaxModeItem(BaseModel):
    n: int
    x: float = 0.0
    flag: bool = False
    s: str = ""


class LaxModeResult(BaseModel):
    n: int


register(
    "lax-mode",
    "the default lax mode: what pydantic coerces that the schema's `type` does not allow",
    LaxModeItem,
    LaxModeResult,
    [
        case("ok", {"n": 5, "x": 1.5, "flag": True, "s": "a"}),
        case("float-for-int", {"n": 5.0}),
        case("fraction-for-int", {"n": 5.5}),
        case("string-for-int", {"n": "5"}, nx=LAX),
        case("string-fraction-for-int", {"n": "5.5"}),
        case("string-for-float", {"n": 1, "x": "1.5"}, nx=LAX),
        case("string-for-bool", {"n": 1, "flag": "yes"}, nx=LAX),
        case("int-for-bool", {"n": 1, "flag": 0}, nx=LAX),
        case("two-for-bool", {"n": 1, "flag": 2}),
        case("int-for-str", {"n": 1, "s": 5}),
        case("null-for-int", {"n": None}),
    ],
)

# ============================================================================== extra


class ExtraForbidItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: int
    b: Optional[str] = None


class ExtraForbidParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(1.0, ge=0, le=2)


class ExtraForbidResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: int


register(
    "extra-forbid",
    "`extra='forbid'`: `additionalProperties: false` on item and params",
    ExtraForbidItem,
    ExtraForbidResult,
    [
        case("ok", {"a": 1}),
        case("ok-params", {"a": 1, "b": "x"}, params={"temperature": 0.5}),
        case("unknown-item-key", {"a": 1, "c": 2}),
        case("unknown-params-key", {"a": 1}, params={"temp": 0.5}),
        case("null-params", {"a": 1}, params=None),
        case("params-out-of-range", {"a": 1}, params={"temperature": 2.5}),
        case("empty-params", {"a": 1}, params={}),
    ],
    params=ExtraForbidParams,
)


class ExtraAllowItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    a: int


class ExtraAllowResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    a: int


register(
    "extra-allow",
    "`extra='allow'`: `additionalProperties: true`",
    ExtraAllowItem,
    ExtraAllowResult,
    [
        case("ok", {"a": 1}),
        case("extra-keys", {"a": 1, "c": [1, {"x": None}], "d": "y"}),
        case("missing-known", {"c": 1}),
        case("known-wrong-type", {"a": "x", "c": 1}),
        case("extra-null", {"a": 2, "z": None}),
    ],
)


class ExtraIgnoreItem(BaseModel):
    a: int


class ExtraIgnoreResult(BaseModel):
    a: int


register(
    "extra-ignore",
    "default `extra='ignore'`: no `additionalProperties`, unknown keys are dropped (valid)",
    ExtraIgnoreItem,
    ExtraIgnoreResult,
    [
        case("ok", {"a": 1}),
        case("unknown-key", {"a": 1, "b": 2}),
        case("unknown-key-bad-known", {"a": "x", "b": 2}),
        case("only-unknown", {"b": 2}),
        case("unknown-alias-like", {"a": 1, "A": "x"}),
    ],
)

# ============================================================================ docs


class MarkdownDocsItem(BaseModel):
    """An item with **markdown** in its docs.

    | column | meaning |
    |--------|---------|
    | `seq`  | the *sequence* |

    - a list item with `code` and a [link](https://example.com)
    - a line with <html> & ampersand, and a `*/` that would end a C comment
    """

    seq: str = Field(
        title="Sequence *(amino acids)*",
        description="The **protein** sequence, e.g. `MKT...`.\n\n```text\nMKTAYIAK\n```\n"
        "Backslash \\ and `[brackets]` and #hash and \"quotes\".",
    )
    odd: int = Field(0, description="A field whose doc has `r#` and a trailing backslash \\")


class MarkdownDocsResult(BaseModel):
    """Result with a `code` span and a table:

    | a | b |
    |---|---|
    | 1 | 2 |
    """

    score: float = Field(description="Score in **[0, 1]**; see <https://example.com>.")


register(
    "markdown-docs",
    "markdown (tables, code fences, links, html, backslashes) in model docstrings, "
    "field titles and descriptions",
    MarkdownDocsItem,
    MarkdownDocsResult,
    [
        case("ok", {"seq": "MKT"}),
        case("ok-both", {"seq": "", "odd": 2}),
        case("missing", {}),
        case("wrong-type", {"seq": 1}),
        case("odd-field-wrong", {"seq": "a", "odd": "x"}),
    ],
)


class DeprecatedFieldsItem(BaseModel):
    seq: str
    old_mode: Optional[str] = Field(None, deprecated=True)
    legacy: int = Field(0, deprecated="use `seq` instead")


class DeprecatedFieldsResult(BaseModel):
    score: float
    old_score: Optional[float] = Field(None, deprecated=True)


register(
    "deprecated-fields",
    "`Field(deprecated=True)` / `deprecated='msg'`: `deprecated: true`",
    DeprecatedFieldsItem,
    DeprecatedFieldsResult,
    [
        case("ok", {"seq": "A"}),
        case("deprecated-used", {"seq": "A", "old_mode": "x", "legacy": 3}),
        case("deprecated-wrong-type", {"seq": "A", "legacy": "x"}),
        case("missing", {"old_mode": "x"}),
        case("deprecated-null", {"seq": "A", "old_mode": None}),
    ],
)

# ====================================================================== what users write


class Residue(BaseModel):
    index: NonNegativeInt
    name: constr(min_length=1, max_length=3)


class Chain(BaseModel):
    id: str
    residues: list[Residue]


class NestedModelsItem(BaseModel):
    chains: list[Chain] = Field(min_length=1)
    primary: Optional[Chain] = None
    notes: Optional[list[str]] = None


class NestedModelsResult(BaseModel):
    chains: list[Chain]
    best: Optional[Residue] = None


register(
    "nested-models",
    "nested models, a list of models, an `Optional[Model]`, an `Optional[list[str]]`",
    NestedModelsItem,
    NestedModelsResult,
    [
        case("ok", {"chains": [{"id": "A", "residues": [{"index": 0, "name": "ALA"}]}]}),
        case("notes", {"chains": [{"id": "A", "residues": []}], "notes": ["x"], "primary": {"id": "B", "residues": []}}),
        case("notes-null", {"chains": [{"id": "A", "residues": []}], "notes": None}),
        case("empty-chains", {"chains": []}),
        case("deep-bad", {"chains": [{"id": "A", "residues": [{"index": -1, "name": "ALA"}]}]}),
        case("deep-name-long", {"chains": [{"id": "A", "residues": [{"index": 0, "name": "ALAN"}]}]}),
        case("primary-bad", {"chains": [{"id": "A", "residues": []}], "primary": {"id": 1}}),
    ],
)


class ConstrainedTypesItem(BaseModel):
    code: constr(pattern=r"^[A-Z]{2}$", to_upper=False)
    count: conint(ge=1, le=5) = 1
    size: NonNegativeInt = 0
    rate: PositiveFloat = 1.0
    vec: conlist(float, min_length=2, max_length=2) = [0.0, 0.0]


class ConstrainedTypesResult(BaseModel):
    count: conint(ge=1, le=5)
    rate: PositiveFloat


register(
    "constrained-types",
    "`constr`, `conint`, `conlist`, `NonNegativeInt`, `PositiveFloat`",
    ConstrainedTypesItem,
    ConstrainedTypesResult,
    [
        case("ok", {"code": "AB"}),
        case("all", {"code": "ZZ", "count": 5, "size": 0, "rate": 1e-9, "vec": [1, 2]}),
        case("code-lower", {"code": "ab"}),
        case("count-zero", {"code": "AB", "count": 0}),
        case("size-neg", {"code": "AB", "size": -1}),
        case("rate-zero", {"code": "AB", "rate": 0}),
        case("vec-three", {"code": "AB", "vec": [1, 2, 3]}),
        case("count-six", {"code": "AB", "count": 6}),
    ],
)


class ListItemConstraintsItem(BaseModel):
    probs: list[Annotated[float, Field(ge=0, le=1)]]
    ids: list[Annotated[str, StringConstraints(min_length=1, pattern=r"^[a-z]+$")]] = []
    matrix: list[list[Annotated[int, Field(ge=0)]]] = []


class ListItemConstraintsResult(BaseModel):
    embeddings: list[list[float]]


register(
    "list-item-constraints",
    "constraints on list members (`list[Annotated[float, Field(ge=0, le=1)]]`), nested arrays",
    ListItemConstraintsItem,
    ListItemConstraintsResult,
    [
        case("ok", {"probs": [0, 0.5, 1]}),
        case("prob-over", {"probs": [0.5, 1.01]}),
        case("ids-ok", {"probs": [], "ids": ["abc", "z"]}),
        case("ids-empty-member", {"probs": [], "ids": [""]}),
        case("ids-upper", {"probs": [], "ids": ["Abc"]}),
        case("matrix-ok", {"probs": [], "matrix": [[0, 1], [], [2]]}),
        case("matrix-neg", {"probs": [], "matrix": [[0, 1], [-2]]}),
        case("matrix-flat", {"probs": [], "matrix": [1, 2]}),
    ],
)


class KeywordNamesItem(BaseModel):
    type: str
    self: int = 0
    match: Optional[str] = None
    fn: bool = False
    ref: str = ""
    crate: int = 0
    Self: str = Field("", alias="Self")
    async_: bool = Field(False, alias="async")
    for_: int = Field(0, alias="for")
    in_: str = Field("", alias="in")
    super_: str = Field("", alias="super")
    dyn: int = 0
    model_type: str = ""


class KeywordNamesResult(BaseModel):
    type: str
    self: int
    impl_: int = Field(0, alias="impl")


register(
    "keyword-names",
    "fields named after Rust/Python keywords (`type`, `self`, `match`, `fn`, `ref`, `crate`, "
    "`Self`, `async`, `for`, `in`, `super`, `dyn`, `impl`)",
    KeywordNamesItem,
    KeywordNamesResult,
    [
        case("ok", {"type": "x"}),
        case("all", {"type": "x", "self": 1, "match": "m", "fn": True, "ref": "r", "crate": 2, "Self": "S", "async": True, "for": 3, "in": "i", "super": "s", "dyn": 4, "model_type": "t"}),
        case("python-name-ignored", {"type": "x", "async_": "not-a-bool"}),
        case("for-wrong-type", {"type": "x", "for": "y"}),
        case("missing-type", {"self": 1}),
        case("self-wrong", {"type": "x", "self": "one"}),
    ],
)


class DNASequence(BaseModel):
    DNA: str
    pLDDT: Optional[float] = None
    ESM2Params: Optional[dict[str, int]] = None


class ESM2Params(BaseModel):
    """Params of a model named like a real one (ESM2)."""

    numLayers: int = Field(33, ge=1)
    include_CLS: bool = False
    MSA_depth: int = 0


class PascalCaseNamesResult(BaseModel):
    DNA: str
    pLDDT: list[float] = []


register(
    "pascal-case-names",
    "names that need case normalization: models `DNASequence`, `ESM2Params`; fields `DNA`, "
    "`pLDDT`, `numLayers`, `include_CLS`, `MSA_depth`",
    DNASequence,
    PascalCaseNamesResult,
    [
        case("ok", {"DNA": "ACGT"}),
        case("params", {"DNA": "ACGT", "pLDDT": 0.9}, params={"numLayers": 6, "include_CLS": True, "MSA_depth": 2}),
        case("lowercase-key", {"dna": "ACGT"}),
        case("params-bad", {"DNA": "A"}, params={"numLayers": 0}),
        case("params-snake", {"DNA": "A"}, params={"num_layers": 6}),
        case("nested-map", {"DNA": "A", "ESM2Params": {"a": 1}}),
    ],
    params=ESM2Params,
)


class RequiredParamsItem(BaseModel):
    sequence: str = Field(min_length=1)


class RequiredParamsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(ge=0.0, le=2.0)
    top_k: int = Field(10, ge=1)


class RequiredParamsResult(BaseModel):
    sequence: str
    temperature: float


register(
    "required-params",
    "`params: Params` with no default (required), itself with a required field",
    RequiredParamsItem,
    RequiredParamsResult,
    [
        case("ok", {"sequence": "A"}, params={"temperature": 1.0}),
        case("ok-top-k", {"sequence": "A"}, params={"temperature": 0, "top_k": 1}),
        case("params-missing", {"sequence": "A"}),
        case("params-null", {"sequence": "A"}, params=None),
        case("params-empty", {"sequence": "A"}, params={}),
        case("top-k-zero", {"sequence": "A"}, params={"temperature": 1, "top_k": 0}),
        case("temperature-high", {"sequence": "A"}, params={"temperature": 2.01}),
    ],
    params=RequiredParamsParams,
    params_required=True,
)


class ParamsOnlyItem(BaseModel):
    sequence: str


class SamplingParams(BaseModel):
    mode: Literal["greedy", "sample"] = "greedy"
    temperature: Optional[float] = Field(None, gt=0)
    seed: Optional[int] = None
    stop: list[str] = Field(default=[], max_length=4)


class ParamsOnlyResult(BaseModel):
    sequence: str


register(
    "params-defaults",
    "an optional `params` object whose fields all have defaults (`extra` ignored)",
    ParamsOnlyItem,
    ParamsOnlyResult,
    [
        case("no-params", {"sequence": "A"}),
        case("empty-params", {"sequence": "A"}, params={}),
        case("null-params", {"sequence": "A"}, params=None),
        case("sample", {"sequence": "A"}, params={"mode": "sample", "temperature": 0.7, "seed": 1, "stop": ["\n"]}),
        case("bad-mode", {"sequence": "A"}, params={"mode": "beam"}),
        case("temperature-zero", {"sequence": "A"}, params={"temperature": 0}),
        case("too-many-stops", {"sequence": "A"}, params={"stop": ["a", "b", "c", "d", "e"]}),
        case("params-unknown-key", {"sequence": "A"}, params={"beam": 2}),
    ],
    params=SamplingParams,
)


class AnyValueItem(BaseModel):
    anything: Any
    meta: dict[str, Any] = {}
    values: list[Any] = []
    obj: dict = {}


class AnyValueResult(BaseModel):
    payload: Any
    meta: dict[str, Any] = {}


register(
    "any-value",
    "`Any`, `dict[str, Any]`, `list[Any]`, bare `dict`: empty schemas `{}`",
    AnyValueItem,
    AnyValueResult,
    [
        case("null", {"anything": None}),
        case("nested", {"anything": {"a": [1, "b", None]}, "meta": {"k": [1]}, "values": [1, "a", {}], "obj": {"x": 1}}),
        case("missing", {}),
        case("meta-not-object", {"anything": 1, "meta": [1]}),
        case("values-not-array", {"anything": 1, "values": {}}),
    ],
)


class RootSequence(RootModel[Annotated[str, StringConstraints(min_length=1, max_length=8)]]):
    """A root model: the item itself is a bare string."""


class RootScore(RootModel[float]):
    pass


register(
    "root-model",
    "`RootModel[str]` as the item type (items are bare strings) and `RootModel[float]` as result",
    RootSequence,
    RootScore,
    [
        case("ok", "ACGT"),
        case("several", "A", "C", "GGGGGGGG"),
        case("empty-string", ""),
        case("long", "ACGTACGTA"),
        case("object", {"sequence": "A"}),
        case("number", 5),
    ],
)


class CustomValidatorItem(BaseModel):
    sequence: str
    start: int = 0
    end: int = 0

    @field_validator("sequence")
    @classmethod
    def only_acgt(cls, v: str) -> str:
        if set(v) - set("ACGT"):
            raise ValueError("sequence must be ACGT only")
        return v

    @model_validator(mode="after")
    def ordered(self):
        if self.end < self.start:
            raise ValueError("end must be >= start")
        return self


class CustomValidatorResult(BaseModel):
    sequence: str


_CUSTOM = "a custom validator (`field_validator`/`model_validator`) decides; the schema has no trace of it"
register(
    "custom-validator",
    "`@field_validator` / `@model_validator`: invisible in the schema",
    CustomValidatorItem,
    CustomValidatorResult,
    [
        case("ok", {"sequence": "ACGT"}),
        case("ok-range", {"sequence": "A", "start": 1, "end": 2}),
        case("bad-letter", {"sequence": "ACGU"}, nx=_CUSTOM),
        case("bad-range", {"sequence": "A", "start": 2, "end": 1}, nx=_CUSTOM),
        case("wrong-type", {"sequence": 1}),
        case("missing", {}),
    ],
)


class ComputedFieldItem(BaseModel):
    sequence: str


class ComputedFieldResult(BaseModel):
    sequence: str

    @computed_field
    @property
    def length(self) -> int:
        """Length of the sequence."""
        return len(self.sequence)


register(
    "computed-field",
    "`@computed_field` on the result: a `readOnly` required property in the serialization schema",
    ComputedFieldItem,
    ComputedFieldResult,
    [
        case("ok", {"sequence": "AAA"}),
        case("empty", {"sequence": ""}),
        case("computed-given", {"sequence": "A", "length": 5}),
        case("missing", {}),
        case("wrong-type", {"sequence": ["A"]}),
    ],
)


class SchemaExtrasItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"x-vendor-kind": "item", "examples": [{"seq": "MKT"}]})

    seq: str = Field(examples=["MKT", "ACDE"], json_schema_extra={"x-unit": "residue"})
    k: int = Field(1, ge=1, json_schema_extra={"x-advanced": True})


class SchemaExtrasResult(BaseModel):
    seq: str = Field(examples=["MKT"])


register(
    "schema-extras",
    "`examples`, `json_schema_extra` with `x-` keys on a model and on fields (annotations only)",
    SchemaExtrasItem,
    SchemaExtrasResult,
    [
        case("ok", {"seq": "MKT"}),
        case("k", {"seq": "A", "k": 2}),
        case("k-zero", {"seq": "A", "k": 0}),
        case("seq-missing", {"k": 2}),
        case("seq-wrong-type", {"seq": 1}),
    ],
)


class FieldStrictItem(BaseModel):
    strict_int: int = Field(strict=True)
    lax_int: int = 0


class FieldStrictResult(BaseModel):
    n: int


register(
    "field-strict",
    "`Field(strict=True)` on one field of a lax model",
    FieldStrictItem,
    FieldStrictResult,
    [
        case("ok", {"strict_int": 1, "lax_int": 2}),
        case("strict-string", {"strict_int": "1"}),
        case("strict-float", {"strict_int": 1.0}, nx=_STRICT),
        case("lax-string", {"strict_int": 1, "lax_int": "2"}, nx=LAX),
        case("lax-float", {"strict_int": 1, "lax_int": 2.0}),
        case("missing", {}),
    ],
)


class OptionalLiteralUnionItem(BaseModel):
    value: Union[int, Literal["auto"], None] = "auto"
    size: Union[Annotated[int, Field(ge=1)], Literal["max"]] = "max"


class OptionalLiteralUnionResult(BaseModel):
    value: Union[int, Literal["auto"], None]


register(
    "literal-union",
    "`Union[int, Literal['auto'], None]` and `Union[constrained int, Literal['max']]`",
    OptionalLiteralUnionItem,
    OptionalLiteralUnionResult,
    [
        case("defaults", {}),
        case("int", {"value": 5, "size": 1}),
        case("auto", {"value": "auto", "size": "max"}),
        case("null", {"value": None}),
        case("other-string", {"value": "manual"}),
        case("size-zero", {"size": 0}),
        case("size-min", {"size": "min"}),
    ],
)


class BoolAndNullItem(BaseModel):
    flag: bool
    nothing: None = None


class BoolAndNullResult(BaseModel):
    flag: bool


register(
    "bool-null",
    "`bool` and a `None`-typed field (`type: null`)",
    BoolAndNullItem,
    BoolAndNullResult,
    [
        case("true", {"flag": True}),
        case("false", {"flag": False, "nothing": None}),
        case("nothing-set", {"flag": True, "nothing": 0}),
        case("flag-null", {"flag": None}),
        case("flag-string-false", {"flag": "false"}, nx=LAX),
        case("flag-float", {"flag": 1.0}, nx=LAX + " (1.0 -> True)"),
    ],
)


class SerializationAliasItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    value: int = Field(alias="Value")


class SerializationAliasResult(BaseModel):
    internal_name: str = Field(serialization_alias="externalName")
    both: int = Field(alias="Both")


_BYNAME = "populate_by_name: pydantic also accepts the field name; the schema names only the alias"
register(
    "populate-by-name",
    "`populate_by_name=True` (alias and field name both accepted) and `serialization_alias` on the result",
    SerializationAliasItem,
    SerializationAliasResult,
    [
        case("alias", {"Value": 1}),
        case("name", {"value": 1}, nx=_BYNAME),
        case("both", {"Value": 1, "value": 2}),
        case("neither", {}),
        case("alias-wrong-type", {"Value": "x"}),
    ],
)


# ----------------------------------------------------------------- more of what users write


class UnionModelsItem(BaseModel):
    """A union of models without a discriminator: a plain `anyOf` of `$ref`s."""

    target: Union[Cat, Measurement, Chain]
    many: list[Union[int, Measurement]] = []


class UnionModelsResult(BaseModel):
    target: Union[Measurement, Chain]


register(
    "union-models",
    "a smart `Union` of models with no discriminator (`anyOf` of `$ref`s), and `list[Union[int, Model]]`",
    UnionModelsItem,
    UnionModelsResult,
    [
        case("first", {"target": {"kind": "cat", "lives": 1}}),
        case("second", {"target": {"value": 1.5}}),
        case("third", {"target": {"id": "A", "residues": []}}),
        case("none-match", {"target": {"unit": "nm"}}),
        case("mixed-list", {"target": {"value": 1}, "many": [1, {"value": 2}]}),
        case("bad-list-member", {"target": {"value": 1}, "many": ["x"]}),
        case("scalar", {"target": 1}),
    ],
)


T = TypeVar("T")


class Wrapped(BaseModel, Generic[T]):
    """A generic model: its `$defs` names are `Wrapped_int_`, `Wrapped_str_`."""

    value: T
    note: Optional[str] = None


class GenericModelItem(BaseModel):
    count: Wrapped[int]
    name: Wrapped[str]
    listed: Optional[Wrapped[list[float]]] = None


class GenericModelResult(BaseModel):
    score: Wrapped[float]


register(
    "generic-model",
    "a generic `BaseModel` (`Wrapped[T]`) parametrized several times: `$defs` named "
    "`Wrapped_int_`, `Wrapped_str_`, `Wrapped_list_float__`",
    GenericModelItem,
    GenericModelResult,
    [
        case("ok", {"count": {"value": 1}, "name": {"value": "a"}}),
        case("listed", {"count": {"value": 1}, "name": {"value": "a", "note": "n"}, "listed": {"value": [1.5]}}),
        case("swapped", {"count": {"value": "a"}, "name": {"value": 1}}),
        case("listed-bad", {"count": {"value": 1}, "name": {"value": "a"}, "listed": {"value": ["x"]}}),
        case("missing-value", {"count": {}, "name": {"value": "a"}}),
    ],
)


class OddFieldNamesItem(BaseModel):
    per_residue: bool = Field(False, alias="per-residue")
    three_d: int = Field(0, alias="3d")
    with_space: str = Field("", alias="with space")
    umlaut: int = Field(0, alias="Größe")
    camel: int = Field(0, alias="camelCaseName")
    dotted: int = Field(0, alias="a.b")
    leading_underscore: int = Field(0, alias="_hidden")
    dollar: int = Field(0, alias="$value")
    upper: int = Field(0, alias="ALL_CAPS")
    clash_a: int = Field(0, alias="fooBar")
    clash_b: int = Field(0, alias="foo_bar")


class OddFieldNamesResult(BaseModel):
    per_residue: list[float] = Field(alias="per-residue")
    empty_key: int = Field(0, alias="")


register(
    "odd-field-names",
    "JSON names that are not identifiers (via `alias`): `per-residue`, `3d`, `with space`, "
    "`Größe`, `a.b`, `_hidden`, `$value`, `ALL_CAPS`, `fooBar` next to `foo_bar`, and `\"\"`",
    OddFieldNamesItem,
    OddFieldNamesResult,
    [
        case("empty", {}),
        case("all", {"per-residue": True, "3d": 1, "with space": "s", "Größe": 2, "camelCaseName": 3, "a.b": 4, "_hidden": 5, "$value": 6, "ALL_CAPS": 7, "fooBar": 8, "foo_bar": 9}),
        case("bad-hyphen", {"per-residue": "yes please"}),
        case("bad-digit-name", {"3d": "x"}),
        case("bad-clash-b", {"fooBar": 1, "foo_bar": "x"}),
        case("python-names-ignored", {"per_residue": "x", "three_d": "y"}),
    ],
)


from typing_extensions import NotRequired, TypedDict  # pydantic wants these on Python < 3.12


class Span(TypedDict):
    """A TypedDict with a NotRequired key."""

    start: int
    end: int
    label: NotRequired[str]


class Options(TypedDict, total=False):
    verbose: bool
    depth: int


class TypedDictItem(BaseModel):
    span: Span
    options: Options = {}


class TypedDictResult(BaseModel):
    spans: list[Span]


register(
    "typed-dict",
    "`TypedDict` (with `NotRequired`) and a `total=False` TypedDict as field types",
    TypedDictItem,
    TypedDictResult,
    [
        case("ok", {"span": {"start": 0, "end": 3}}),
        case("label", {"span": {"start": 0, "end": 3, "label": "x"}, "options": {"verbose": True}}),
        case("missing-end", {"span": {"start": 0}}),
        case("bad-option", {"span": {"start": 0, "end": 1}, "options": {"depth": "deep"}}),
        case("empty-options", {"span": {"start": 0, "end": 1}, "options": {}}),
        case("extra-key", {"span": {"start": 0, "end": 1, "other": 1}}),
    ],
)


class OptionalMembersItem(BaseModel):
    values: list[Optional[int]]
    labels: dict[str, Optional[str]] = {}
    nested: list[list[Optional[float]]] = []


class OptionalMembersResult(BaseModel):
    values: list[Optional[float]]


register(
    "optional-members",
    "nullable members: `list[Optional[int]]`, `dict[str, Optional[str]]`, nested lists",
    OptionalMembersItem,
    OptionalMembersResult,
    [
        case("ok", {"values": [1, None, 3]}),
        case("all-null", {"values": [None], "labels": {"a": None}, "nested": [[None, 1.5]]}),
        case("bad-member", {"values": [1, "x"]}),
        case("values-null", {"values": None}),
        case("bad-label", {"values": [], "labels": {"a": 1}}),
        case("bad-nested", {"values": [], "nested": [None]}),
    ],
)


class FormatDurationItem(BaseModel):
    timeout: datetime.timedelta


class FormatDurationResult(BaseModel):
    elapsed: datetime.timedelta


register(
    "format-duration",
    "`timedelta`: `format: duration` (ISO 8601) in both modes",
    FormatDurationItem,
    FormatDurationResult,
    explain={
        "bad": "the python validator checks `duration` only when `isoduration` is installed (it is "
        "not pinned here), so it accepts anything; pydantic (speedate) accepts ISO 8601 durations "
        "(`PT1H30M`, `P2DT3S`, `-PT1S`, fractions) and `HH:MM:SS`, and rejects the rest. Follow pydantic.",
    },
    cases=[
        case("iso", {"timeout": "PT1H30M"}),
        case("iso-days", {"timeout": "P2DT3S"}),
        case("iso-fraction", {"timeout": "PT0.5S"}),
        case("bad", {"timeout": "1 hour"}),
        case("seconds-number", {"timeout": 90}, nx=LAX + " (a number is read as seconds)"),
        case("hh-mm-ss", {"timeout": "01:30:00"}),
        case("negative", {"timeout": "-PT1S"}),
    ],
)


class StringTransformItem(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5)]
    code: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Z]+$")] = "A"


class StringTransformResult(BaseModel):
    name: str


_STRIP = (
    "`strip_whitespace` runs before the length checks (the schema checks the raw string); "
    "the pattern, though, is checked on the raw string (to_upper does not rescue it)"
)
register(
    "string-transform",
    "`StringConstraints(strip_whitespace=True, to_upper=True)` ahead of length and pattern limits",
    StringTransformItem,
    StringTransformResult,
    [
        case("ok", {"name": "ab"}),
        case("max", {"name": "abcde"}),
        case("padded-max", {"name": "  abcde  "}, nx=_STRIP),
        case("only-spaces", {"name": "   "}, nx=_STRIP),
        # pydantic checks the pattern on the raw string (to_upper does not rescue it)
        case("lowercase-code", {"name": "a", "code": "abc"}),
        case("code-digit", {"name": "a", "code": "A1"}),
        case("empty", {"name": ""}),
    ],
)


# ------------------------------------------------------------------- required params


class ParamsItem(BaseModel):
    sequence: str = Field(min_length=1)


class ParamsResult(BaseModel):
    sequence: str
    score: float


class Greedy(BaseModel):
    strategy: Literal["greedy"]


class TopK(BaseModel):
    strategy: Literal["top_k"]
    k: int = Field(ge=1, le=100)
    temperature: float = Field(1.0, gt=0)


class ParamsDiscriminatedParams(BaseModel):
    """Required params holding a required discriminated union."""

    model_config = ConfigDict(extra="forbid")

    sampler: Annotated[Union[Greedy, TopK], Field(discriminator="strategy")]
    seeds: list[int] = Field(default=[], max_length=3)


register(
    "params-discriminated",
    "required `params` whose required field is a discriminated union",
    ParamsItem,
    ParamsResult,
    [
        case("greedy", {"sequence": "A"}, params={"sampler": {"strategy": "greedy"}}),
        case("top-k", {"sequence": "A"}, params={"sampler": {"strategy": "top_k", "k": 5}, "seeds": [1, 2, 3]}),
        case("top-k-missing-k", {"sequence": "A"}, params={"sampler": {"strategy": "top_k"}}),
        case("top-k-k-high", {"sequence": "A"}, params={"sampler": {"strategy": "top_k", "k": 101}}),
        case("bad-strategy", {"sequence": "A"}, params={"sampler": {"strategy": "beam"}}),
        case("sampler-missing", {"sequence": "A"}, params={}),
        case("too-many-seeds", {"sequence": "A"}, params={"sampler": {"strategy": "greedy"}, "seeds": [1, 2, 3, 4]}),
        case("params-null", {"sequence": "A"}, params=None),
    ],
    params=ParamsDiscriminatedParams,
    params_required=True,
)


class Alphabet(str, enum.Enum):
    DNA = "dna"
    RNA = "rna"
    PROTEIN = "protein"


class ParamsEnumParams(BaseModel):
    alphabet: Alphabet
    k: conint(ge=1, le=8) = 3
    normalize: bool = True


register(
    "params-enum",
    "required `params` with a required enum field and defaults (extra ignored)",
    ParamsItem,
    ParamsResult,
    [
        case("ok", {"sequence": "ACGT"}, params={"alphabet": "dna"}),
        case("all", {"sequence": "ACGU"}, params={"alphabet": "rna", "k": 8, "normalize": False}),
        case("bad-alphabet", {"sequence": "A"}, params={"alphabet": "DNA"}),
        case("k-zero", {"sequence": "A"}, params={"alphabet": "dna", "k": 0}),
        case("alphabet-missing", {"sequence": "A"}, params={"k": 2}),
        case("unknown-param-ignored", {"sequence": "A"}, params={"alphabet": "protein", "beam": 4}),
        case("empty-sequence", {"sequence": ""}, params={"alphabet": "dna"}),
    ],
    params=ParamsEnumParams,
    params_required=True,
)


class Region(BaseModel):
    start: NonNegativeInt
    end: NonNegativeInt
    chain: Literal["H", "L"] = "H"


class ParamsNestedParams(BaseModel):
    """Required params with a required nested model and a required list of models."""

    model_config = ConfigDict(extra="forbid")

    window: Region
    masks: list[Region] = Field(min_length=1, max_length=2)
    label: Optional[str] = None


register(
    "params-nested",
    "required `params` with a required nested model and a bounded list of models",
    ParamsItem,
    ParamsResult,
    [
        case("ok", {"sequence": "A"}, params={"window": {"start": 0, "end": 5}, "masks": [{"start": 1, "end": 2}]}),
        case("two-masks", {"sequence": "A"}, params={"window": {"start": 0, "end": 5, "chain": "L"}, "masks": [{"start": 1, "end": 2}, {"start": 3, "end": 4, "chain": "H"}], "label": None}),
        case("no-masks", {"sequence": "A"}, params={"window": {"start": 0, "end": 5}, "masks": []}),
        case("three-masks", {"sequence": "A"}, params={"window": {"start": 0, "end": 5}, "masks": [{"start": 0, "end": 1}] * 3}),
        case("bad-chain", {"sequence": "A"}, params={"window": {"start": 0, "end": 5, "chain": "K"}, "masks": [{"start": 1, "end": 2}]}),
        case("negative-start", {"sequence": "A"}, params={"window": {"start": -1, "end": 5}, "masks": [{"start": 1, "end": 2}]}),
        case("window-missing", {"sequence": "A"}, params={"masks": [{"start": 1, "end": 2}]}),
        case("unknown-param", {"sequence": "A"}, params={"window": {"start": 0, "end": 5}, "masks": [{"start": 1, "end": 2}], "x": 1}),
    ],
    params=ParamsNestedParams,
    params_required=True,
)
