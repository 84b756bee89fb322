"""Writes pydantic_cases.json: request schemas exactly as pydantic 2.12 emits them, and
bodies with pydantic's verdict (Request.model_validate_json), for catalog/tests/pydantic_cases.rs.

Run with pydantic 2.12.5 and email-validator installed:
    python3 catalog/tests/data/pydantic_cases.py > catalog/tests/data/pydantic_cases.json
Only bodies whose verdict does not depend on lax coercion are listed (strings for
numbers, 5.0 for an int, a set's de-duplication are left out), nor bodies pydantic judges
against its own schema (a Decimal "1e5"; bytes that are base64 although the schema says
`format: binary` when only `val_json_bytes` is set).
"""
import datetime, decimal, enum, json, uuid, ipaddress
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (AnyUrl, BaseModel, ConfigDict, EmailStr, Field, Json, TypeAdapter,
                      ValidationError)


def request(item_model, params_model=None):
    fields = {"items": (Annotated[list[item_model], Field(min_length=1, max_length=4)], ...)}
    ns = {"__annotations__": {"items": fields["items"][0]}}
    if params_model is not None:
        ns["__annotations__"]["params"] = Optional[params_model]
        ns["params"] = None
    ns["model_config"] = ConfigDict(extra="forbid")
    return type("Request", (BaseModel,), ns)


CASES = []


def construct(name, item_model, bodies, params_model=None):
    req = request(item_model, params_model)
    schema = req.model_json_schema()
    out = []
    for body in bodies:
        try:
            req.model_validate_json(json.dumps(body))
            valid = True
        except ValidationError:
            valid = False
        out.append({"body": body, "valid": valid})
    CASES.append({"construct": name, "schema": schema, "cases": out})


def items(*values, key="v"):
    return [{"items": [{key: v}]} for v in values]


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Pet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Annotated[Union[Cat, Dog], Field(discriminator="kind")]


construct("discriminated-union", Pet, items(
    {"kind": "cat"}, {"kind": "dog", "good": False}, {"kind": "cow"}, {"lives": 3}, {"kind": "cat", "lives": "x"},
    {"kind": "dog", "lives": 3}, 5, {"kind": 1}, {"kind": "cat", "lives": 1.5}))


class OptPet(BaseModel):
    v: Optional[Annotated[Union[Cat, Dog], Field(discriminator="kind")]] = None


construct("optional-discriminated-union", OptPet, items(None, {"kind": "dog"}, {"kind": "x"}, []))


class Node(BaseModel):
    name: str
    next: Optional["Node"] = None


class Tree(BaseModel):
    v: Node


def chain(n, leaf=None):
    node = {"name": "leaf"} if leaf is None else leaf
    for i in range(n):
        node = {"name": f"n{i}", "next": node}
    return node


construct("recursive-optional", Tree, items(chain(0), chain(5), chain(50), chain(3, {"name": 1}), chain(2, {"next": None})))


class A(BaseModel):
    b: Optional["B"] = None
    x: int = 0


class B(BaseModel):
    a: Optional[A] = None
    y: str = ""


class Mutual(BaseModel):
    v: A


construct("mutual-recursion", Mutual, items({"b": {"a": {"b": {"y": "ok"}}}}, {"b": {"a": {"x": "no"}}}, {"b": {"y": 3}}))


class Pat(BaseModel):
    model_config = ConfigDict(regex_engine="python-re")
    v: Annotated[str, Field(pattern=r"^(?!test)[A-Z][a-z]{2,4}(-\d+)?$")]


construct("pattern-lookahead", Pat, items("Abc", "Abcd-12", "Ab", "Abcdef", "testA", "Abc-", "Abc-٣", "xAbc", "Test-1"))


class Pat2(BaseModel):
    v: Annotated[str, Field(pattern=r"(cat|dog)s?")]
    w: Annotated[str, Field(pattern=r"^\w+@\w+\.(com|org)$")] = "a@b.com"


construct("pattern-search", Pat2, [
    {"items": [{"v": "hotdogs!"}]}, {"items": [{"v": "bird"}]}, {"items": [{"v": "CAT"}]},
    {"items": [{"v": "cat", "w": "é@x.org"}]}, {"items": [{"v": "cat", "w": "a@b.net"}]}, {"items": [{"v": "cat", "w": "a b@c.com"}]}])


class Mult(BaseModel):
    f: Annotated[float, Field(multiple_of=0.1)] = 0.0
    i: Annotated[int, Field(multiple_of=3)] = 0
    h: Annotated[float, Field(multiple_of=0.5, ge=0, lt=10)] = 0.0


construct("multiple-of", Mult, [{"items": [x]} for x in [
    {"f": 0.3}, {"f": 0.35}, {"f": -0.7}, {"f": 1e-12}, {"f": 0.30000001}, {"i": 9}, {"i": -9}, {"i": 10}, {"i": 0},
    {"h": 9.5}, {"h": 10}, {"h": 1.25}, {"h": -0.5}, {"f": 3}]])


class Fmt(BaseModel):
    model_config = ConfigDict(val_json_bytes="base64", ser_json_bytes="base64")
    when: Optional[datetime.datetime] = None
    day: Optional[datetime.date] = None
    at: Optional[datetime.time] = None
    span: Optional[datetime.timedelta] = None
    id: Optional[uuid.UUID] = None
    url: Optional[AnyUrl] = None
    mail: Optional[EmailStr] = None
    ip4: Optional[ipaddress.IPv4Address] = None
    ip6: Optional[ipaddress.IPv6Address] = None
    blob: Optional[bytes] = None


construct("formats", Fmt, [{"items": [x]} for x in [
    {"when": "2024-01-02T03:04:05Z"}, {"when": "2024-01-02T03:04:05"}, {"when": "2024-01-02"}, {"when": "2024-02-30T00:00:00"},
    {"when": "yesterday"}, {"when": "2024-01-02T03:04:05+05"}, {"day": "2024-02-29"}, {"day": "2023-02-29"}, {"day": "2024-01-02T05:00:00"},
    {"at": "12:30"}, {"at": "25:00"}, {"span": "P1DT2H"}, {"span": "P"}, {"span": "01:02:03"}, {"id": "12345678-1234-5678-1234-567812345678"},
    {"id": "1234"}, {"url": "https://example.com/x?y=1"}, {"url": "example.com"}, {"url": "https://"}, {"mail": "a@example.com"},
    {"mail": "a@example"}, {"mail": "a@example.test"}, {"ip4": "10.0.0.1"}, {"ip4": "10.0.0.256"}, {"ip6": "fe80::1"}, {"ip6": "fe80:::1"},
    {"blob": "aGVsbG8="}, {"blob": "aGVsbG8"}, {"blob": "a"}, {"blob": "@@"}]])


class Tup(BaseModel):
    v: tuple[int, str]
    w: tuple[float, ...] = ()


construct("tuple", Tup, [{"items": [x]} for x in [
    {"v": [1, "a"]}, {"v": [1]}, {"v": [1, "a", 2]}, {"v": ["a", 1]}, {"v": [1, "a"], "w": [1.5, 2]}, {"v": [1, "a"], "w": ["x"]}]])


class Colour(str, enum.Enum):
    red = "red"
    green = "green"


class Lit(BaseModel):
    a: Literal[1, 2, "three", None] = None
    b: Literal["only"] = "only"
    c: Colour = Colour.red
    d: Literal[True] = True


construct("literals", Lit, [{"items": [x]} for x in [
    {"a": 1}, {"a": "three"}, {"a": None}, {"a": 3}, {"a": "1"}, {"b": "only"}, {"b": "other"}, {"c": "green"}, {"c": "GREEN"},
    {"d": True}, {"d": False}, {"a": 2.5}]])


class Maps(BaseModel):
    v: Annotated[dict[Annotated[str, Field(pattern=r"^[a-z]+$")], int], Field(min_length=1, max_length=2)]


construct("dict-keys", Maps, [{"items": [x]} for x in [
    {"v": {"a": 1}}, {"v": {}}, {"v": {"a": 1, "b": 2, "c": 3}}, {"v": {"A": 1}}, {"v": {"a": "x"}}]])


class JsonField(BaseModel):
    v: Json[list[int]]


construct("json-string", JsonField, items("[1, 2]", "[1, \"x\"]", "not json", "{}"))


class Dec(BaseModel):
    v: decimal.Decimal


# "1e5" is left out: pydantic accepts it, its own schema's pattern does not.
construct("decimal", Dec, items(1.5, "1.5", "-0.25", "abc", "+.", "00.10"))


class P(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: Annotated[float, Field(ge=0, le=2, multiple_of=0.25)] = 1.0
    mode: Literal["fast", "slow"] = "fast"


class PItem(BaseModel):
    s: str


construct("params", PItem, [
    {"items": [{"s": "x"}]}, {"items": [{"s": "x"}], "params": {"temperature": 0.5}}, {"items": [{"s": "x"}], "params": {"temperature": 0.3}},
    {"items": [{"s": "x"}], "params": {"mode": "medium"}}, {"items": [{"s": "x"}], "params": {"other": 1}}, {"items": [{"s": "x"}], "params": None},
    {"items": []}, {"items": [{"s": "x"}] * 5}, {"items": [{"s": "x"}], "extra": 1}], params_model=P)

json.dump(CASES, __import__("sys").stdout, indent=1, ensure_ascii=False)
print()
