//! Property test of the synthesizer: random schema trees (a small generator over
//! the keywords pydantic emits) from a fixed seed. For each, synthesis and
//! validation run under `catch_unwind` on a thread with a 2 MiB stack, and the
//! answer must validate against its schema: with the `jsonschema` crate (formats
//! checked) always, and with the catalog's validator whenever it compiles the
//! schema. A schema the synthesizer refuses must be refused cleanly (counted; a
//! refusal rate over 3% fails). Every failure found is kept as a regression case
//! in `tests/regressions/` and replayed here.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// Cases per run (about 30 s in a debug build on the 2-core build machine);
/// `BIOLM_FUZZ_CASES` overrides it.
const CASES: usize = 1_000;

fn cases() -> usize {
    std::env::var("BIOLM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}
const SEED: u64 = 0x5eed_2026;
/// Largest share of random schemas the synthesizer may refuse.
const MAX_REFUSALS: f64 = 0.03;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const PATTERNS: &[&str] = &[
    "^[A-Z]{2,4}$",
    "^[a-z0-9_-]{3,16}$",
    r"^\d{3}-\d{4}$",
    "^(foo|bar|baz)$",
    "^[ACDEFGHIKLMNPQRSTVWY]+$",
    r"^(?!^[-+.]*$)[+-]?0*\d*\.?\d*$",
    "^chain_[A-Z]$",
    r"^[^\s]+$",
    "^x",
    "[0-9]$",
    "^(?:[a-f0-9]{2})+$",
    r"^\w+@\w+\.com$",
];
const KEY_PATTERNS: &[&str] = &["^[a-z]+$", "^esm1v-n[1-5]$", r"^x_\d+$", "^[A-Z]$"];
const FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "uuid",
    "email",
    "ipv4",
    "ipv6",
    "uri",
    "hostname",
    "duration",
];
const NAMES: &[&str] = &[
    "a",
    "b",
    "value",
    "score",
    "label",
    "sequence",
    "embedding",
    "children",
    "next",
    "tags",
    "kind_x",
    "count",
    "when",
    "id",
];

/// A random schema generator over the keywords pydantic emits.
struct Gen {
    rng: Rng,
    defs: Map<String, Value>,
    /// Definitions `D0..D{planned}` referred to (generated after the item schema).
    planned: usize,
}

impl Gen {
    fn leaf(&mut self) -> Value {
        let r = &mut self.rng;
        match r.below(11) {
            0 => json!({"type": "null"}),
            1 => json!({"type": "boolean"}),
            2 => {
                let mut s = json!({"type": "integer"});
                let lo = r.below(50) as i64 - 25;
                if r.chance(50) {
                    s["minimum"] = json!(lo);
                }
                if r.chance(40) {
                    s["maximum"] = json!(lo + r.below(40) as i64 + 2);
                }
                if r.chance(20) {
                    s["exclusiveMinimum"] = json!(lo - 1);
                }
                if r.chance(25) {
                    s["multipleOf"] = json!(*r.pick(&[2, 3, 5, 7]));
                    s["maximum"] = json!(lo + 60);
                }
                s
            }
            3 => {
                let mut s = json!({"type": "number"});
                let lo = (r.below(200) as f64 - 100.0) / 8.0;
                match r.below(4) {
                    0 => s["minimum"] = json!(lo),
                    1 => s["exclusiveMinimum"] = json!(lo),
                    _ => {}
                }
                if r.chance(50) {
                    s["maximum"] = json!(lo + 0.5 + r.below(10) as f64);
                }
                if r.chance(10) {
                    s["exclusiveMaximum"] = json!(lo + 1e-5);
                    s["exclusiveMinimum"] = json!(lo);
                    s.as_object_mut().map(|o| o.remove("minimum"));
                    s.as_object_mut().map(|o| o.remove("maximum"));
                }
                if r.chance(25) && s.get("exclusiveMaximum").is_none() {
                    s["multipleOf"] = json!(*r.pick(&[0.1, 0.25, 0.5, 0.01, 3.0]));
                    s["maximum"] = json!(lo + 20.0);
                }
                s
            }
            4 | 5 => {
                let mut s = json!({"type": "string"});
                match r.below(4) {
                    0 => s["pattern"] = json!(*r.pick(PATTERNS)),
                    1 => s["format"] = json!(*r.pick(FORMATS)),
                    _ => {
                        let min = r.below(4);
                        s["minLength"] = json!(min);
                        if r.chance(50) {
                            s["maxLength"] = json!(min + r.below(30));
                        }
                    }
                }
                s
            }
            6 => match r.below(3) {
                0 => json!({"enum": ["alpha", "beta", "gamma"], "type": "string"}),
                1 => json!({"enum": [1, 2, 3], "type": "integer"}),
                _ => json!({"enum": [1, "a", null, true, 2.5]}),
            },
            7 => json!({"const": *r.pick(&[json!("fixed"), json!(7), json!(null), json!(false)])}),
            8 => json!({"anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^(?!^[-+.]*$)[+-]?0*\d*\.?\d*$"}
            ]}),
            9 => json!({"type": "string", "format": *r.pick(FORMATS)}),
            _ => json!({}),
        }
    }

    /// A reference to a definition, new or existing, maybe through a wrapper that
    /// lets recursion stop (Optional, list, dict).
    fn reference(&mut self, depth: usize) -> Value {
        let n = self.planned;
        let target = if n == 0 || (n < 4 && self.rng.chance(40)) {
            self.planned += 1;
            n
        } else {
            self.rng.below(n)
        };
        let r = json!({"$ref": format!("#/$defs/D{target}")});
        match self.rng.below(5) {
            0 => json!({"anyOf": [r, {"type": "null"}]}),
            1 => json!({"type": "array", "items": r}),
            2 => json!({"type": "object", "additionalProperties": r}),
            3 => json!({"allOf": [r], "description": "pydantic's wrapper"}),
            _ if depth > 0 && self.rng.chance(30) => r,
            _ => json!({"anyOf": [r, {"type": "null"}], "default": null}),
        }
    }

    fn schema(&mut self, depth: usize) -> Value {
        if depth > 4 {
            return self.leaf();
        }
        let r = self.rng.below(100);
        match r {
            0..=29 => self.leaf(),
            30..=37 => {
                let mut s = json!({"type": "array", "items": self.schema(depth + 1)});
                let min = self.rng.below(3);
                if self.rng.chance(50) {
                    s["minItems"] = json!(min);
                }
                if self.rng.chance(30) {
                    s["maxItems"] = json!(min + self.rng.below(4));
                }
                if self.rng.chance(20) {
                    s["items"] = json!({"type": "integer", "minimum": 0, "maximum": 1000});
                    s["uniqueItems"] = json!(true);
                }
                if self.rng.chance(10) {
                    s["items"] = json!({"enum": ["x", "y", "z"]});
                    s["uniqueItems"] = json!(true);
                    s["minItems"] = json!(3);
                    s["maxItems"] = json!(3);
                }
                s
            }
            38..=43 => {
                let n = 1 + self.rng.below(3);
                let prefix: Vec<Value> = (0..n).map(|_| self.schema(depth + 1)).collect();
                json!({"type": "array", "prefixItems": prefix, "minItems": n, "maxItems": n})
            }
            44..=57 => self.object(depth),
            58..=65 => {
                let mut s = json!({"type": "object"});
                match self.rng.below(4) {
                    0 => s["additionalProperties"] = self.schema(depth + 1),
                    1 => {
                        let p = *self.rng.pick(KEY_PATTERNS);
                        s["patternProperties"] = json!({ p: self.schema(depth + 1) });
                        s["additionalProperties"] = json!(false);
                    }
                    2 => {
                        s["additionalProperties"] = self.schema(depth + 1);
                        s["propertyNames"] = json!({"enum": ["k1", "k2", "k3"]});
                    }
                    _ => {
                        s["additionalProperties"] = self.schema(depth + 1);
                        s["propertyNames"] = json!({"pattern": "^[a-z]{2,5}$"});
                    }
                }
                if self.rng.chance(40) {
                    s["minProperties"] = json!(1 + self.rng.below(2));
                }
                s
            }
            66..=71 => json!({"anyOf": [self.schema(depth + 1), {"type": "null"}]}),
            72..=76 => json!({"anyOf": [self.schema(depth + 1), self.schema(depth + 1)]}),
            77..=81 => self.tagged(depth),
            82..=85 => {
                let mut extra = self.object(depth + 1);
                // An open base: a closed one would forbid the other arm's field.
                extra
                    .as_object_mut()
                    .map(|o| o.remove("additionalProperties"));
                json!({"allOf": [extra, {"properties": {"extra_flag": {"type": "boolean"}}, "required": ["extra_flag"]}]})
            }
            _ => self.reference(depth),
        }
    }

    fn object(&mut self, depth: usize) -> Value {
        let n = 1 + self.rng.below(4);
        let mut props = Map::new();
        let mut required = Vec::new();
        for _ in 0..n {
            let name = *self.rng.pick(NAMES);
            if props.contains_key(name) {
                continue;
            }
            props.insert(name.to_string(), self.schema(depth + 1));
            if self.rng.chance(60) {
                required.push(json!(name));
            }
        }
        let mut s = json!({"type": "object", "properties": props, "required": required});
        if self.rng.chance(50) {
            s["additionalProperties"] = json!(false);
        }
        s
    }

    /// A pydantic discriminated union: `oneOf` of tagged definitions with a mapping.
    fn tagged(&mut self, depth: usize) -> Value {
        let n = 2 + self.rng.below(2);
        let mut arms = Vec::new();
        let mut mapping = Map::new();
        for i in 0..n {
            let name = format!("T{}_{}", self.defs.len(), i);
            let tag = format!("tag{i}");
            let mut obj = self.object(depth + 1);
            obj["properties"]["kind"] = json!({"const": tag, "type": "string"});
            if let Some(r) = obj["required"].as_array_mut() {
                r.push(json!("kind"));
            }
            self.defs.insert(name.clone(), obj);
            let r = format!("#/$defs/{name}");
            mapping.insert(tag, json!(r));
            arms.push(json!({"$ref": r}));
        }
        json!({"oneOf": arms, "discriminator": {"propertyName": "kind", "mapping": mapping}})
    }

    /// A response schema (`{"results": [Result]}` with its `$defs`).
    fn response(&mut self) -> Value {
        let item = self.schema(0);
        let mut i = 0;
        while i < self.planned {
            let name = format!("D{i}");
            // Past a few definitions, the rest become leaves (the generator stops growing).
            let body = if i < 8 { self.object(2) } else { self.leaf() };
            self.defs.insert(name, body);
            i += 1;
        }
        json!({
            "$defs": Value::Object(std::mem::take(&mut self.defs)),
            "type": "object",
            "properties": {"results": {"type": "array", "items": item}},
            "required": ["results"],
        })
    }
}

fn request_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {"sequence": {"type": "string"}}}},
        },
    })
}

fn body(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"sequence": &"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEV"[..8 + 5 * i]}))
        .collect();
    json!({ "items": items })
}

/// The catalog's validator for a response schema (it checks whole bodies against a
/// document's root with `check_body`), when it understands every keyword.
fn catalog_validator(response: &Value) -> Option<biolm_catalog::validate::Validator> {
    biolm_catalog::validate::Validator::for_request(response).ok()
}

#[derive(Debug)]
enum Verdict {
    /// Valid; `true` when the catalog's validator checked it too.
    Valid(bool),
    Refused(String),
    Invalid(String),
}

fn check_one(response: &Value, body: &Value) -> Verdict {
    let answer = match biolm_sandbox::synthesize(&request_schema(), response, body) {
        Ok(a) => a,
        Err(problems) => {
            let why: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Verdict::Refused(why.join("; "));
        }
    };
    let value: Value = match serde_json::from_str(&answer) {
        Ok(v) => v,
        Err(e) => return Verdict::Invalid(format!("not JSON ({e}): {answer}")),
    };
    let validator = match jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(response)
    {
        Ok(v) => v,
        Err(e) => return Verdict::Invalid(format!("the test's schema does not compile: {e}")),
    };
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    if !errors.is_empty() {
        return Verdict::Invalid(format!("jsonschema: {errors:?}\nanswer: {answer}"));
    }
    let Some(catalog) = catalog_validator(response) else {
        return Verdict::Valid(false);
    };
    let violations = catalog.check_body(&value);
    if !violations.is_empty() {
        let v: Vec<String> = violations.iter().take(5).map(ToString::to_string).collect();
        return Verdict::Invalid(format!("catalog validator: {v:?}\nanswer: {answer}"));
    }
    Verdict::Valid(true)
}

/// Runs `f` on a thread with a 2 MiB stack (a stack overflow aborts the test binary).
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .name("fuzz".into())
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn the fuzz thread")
        .join()
        .expect("the fuzz thread finished")
}

fn regressions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/regressions")
}

fn save_failure(dir: &Path, n: usize, response: &Value) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("fuzz-failure-{n}.json"));
    let _ = std::fs::write(
        &path,
        serde_json::to_string_pretty(response).unwrap_or_default(),
    );
    path
}

#[test]
fn random_schemas_synthesize_valid_answers() {
    let report = small_stack(|| {
        let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz_schemas");
        let mut rng = Rng(SEED);
        let (mut both, mut jsonschema_only, mut refused) = (0usize, 0usize, Vec::new());
        let mut failures = Vec::new();
        let started = std::time::Instant::now();
        for case in 0..cases() {
            let mut g = Gen {
                rng: Rng(rng.next()),
                defs: Map::new(),
                planned: 0,
            };
            let response = g.response();
            let body = body(1 + case % 3);
            // The case on disk first: a stack overflow aborts before any report.
            let _ = std::fs::create_dir_all(&out_dir);
            let _ = std::fs::write(out_dir.join("last-case.json"), response.to_string());
            let verdict = catch_unwind(AssertUnwindSafe(|| check_one(&response, &body)))
                .unwrap_or_else(|_| Verdict::Invalid("panicked".into()));
            match verdict {
                Verdict::Valid(true) => both += 1,
                Verdict::Valid(false) => jsonschema_only += 1,
                Verdict::Refused(why) => refused.push(why),
                Verdict::Invalid(why) => {
                    let path = save_failure(&out_dir, case, &response);
                    failures.push(format!("case {case} ({}): {why}", path.display()));
                }
            }
        }
        (both, jsonschema_only, refused, failures, started.elapsed())
    });
    let (both, jsonschema_only, refused, failures, elapsed) = report;
    let total = cases().max(1);
    eprintln!(
        "{total} random schemas in {:.1} s: {both} validated by jsonschema and the catalog validator, {jsonschema_only} by jsonschema only (keywords the catalog refuses), {} refused",
        elapsed.as_secs_f64(),
        refused.len()
    );
    for why in refused.iter().take(10) {
        eprintln!("  refused: {why}");
    }
    assert!(
        failures.is_empty(),
        "{} failures (add each saved schema to tests/regressions/):\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    // The catalog's validator understands every keyword the generator uses.
    assert_eq!(
        jsonschema_only, 0,
        "the catalog's validator refused {jsonschema_only} schemas"
    );
    let rate = refused.len() as f64 / total as f64;
    assert!(
        rate <= MAX_REFUSALS,
        "{:.1}% of random schemas refused (at most {:.0}% allowed)",
        rate * 100.0,
        MAX_REFUSALS * 100.0
    );
}

/// Each file in `tests/regressions/` is a response schema once found failing (or a
/// construct from an issue report): it must now synthesize a valid answer; files
/// named `refused-*.json` must be refused cleanly instead.
#[test]
fn regression_schemas_replay() {
    let dir = regressions_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/regressions exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "regression cases missing in {}",
        dir.display()
    );
    let failures = small_stack(move || {
        let mut failures = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let Ok(response) = serde_json::from_str::<Value>(&text) else {
                failures.push(format!("{}: not JSON", path.display()));
                continue;
            };
            let expect_refusal = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("refused-"));
            for n in 1..=3 {
                let verdict = catch_unwind(AssertUnwindSafe(|| check_one(&response, &body(n))))
                    .unwrap_or_else(|_| Verdict::Invalid("panicked".into()));
                match (verdict, expect_refusal) {
                    (Verdict::Valid(_), false) | (Verdict::Refused(_), true) => {}
                    (v, _) => failures.push(format!("{} ({n} items): {v:?}", path.display())),
                }
            }
        }
        failures
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
