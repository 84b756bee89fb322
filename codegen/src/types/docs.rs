//! Doc lines for schemas: descriptions, titles and limits in words.

use serde_json::Value;

use crate::normalize::strip_null;

/// Doc lines for a schema: its description (or title) and its limits.
pub fn describe(schema: &Value) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let text = match (
        schema.get("description").and_then(Value::as_str),
        schema.get("title").and_then(Value::as_str),
    ) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            format!("The schema's `{t}`.")
        }
        (None, Some(t)) => t.to_string(),
        (None, None) => String::new(),
    };
    for l in markdown_safe(&text) {
        lines.push(format!(" {l}"));
    }
    let limits = limits(schema);
    if !limits.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!(" {limits}"));
    }
    lines
}

/// Schema text (pydantic docstrings, titles, descriptions: markdown) made safe
/// for rustdoc, one line each:
///
/// - a fenced code block without a language, or marked as Rust, becomes
///   ```` ```text ```` so it is never compiled as a doctest; other languages
///   are kept (rustdoc does not test them);
/// - lines indented by four or more spaces outside fences (an indented code
///   block, also a doctest) keep two spaces of indentation;
/// - outside code, `[x]` not followed by `(` (an intra-doc link that would
///   not resolve) becomes `\[x\]`, `<tag` becomes `&lt;tag` (no stray HTML),
///   and a bare `http(s)://` URL is wrapped in `<...>`.
pub fn markdown_safe(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim_end().replace('\t', "    ");
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (&fence, marker) {
            (None, Some(m)) => {
                let run: String = trimmed.chars().take_while(|c| m.starts_with(*c)).collect();
                let info = trimmed[run.len()..].trim();
                let rust_like = info.is_empty()
                    || info.split([',', ' ']).all(|w| {
                        w.is_empty()
                            || w == "rust"
                            || w.starts_with("edition")
                            || matches!(
                                w,
                                "ignore"
                                    | "no_run"
                                    | "should_panic"
                                    | "compile_fail"
                                    | "test_harness"
                            )
                    });
                let indent = &line[..line.len() - trimmed.len()];
                let indent = if indent.len() > 3 { "" } else { indent };
                out.push(if rust_like {
                    format!("{indent}{run}text")
                } else {
                    format!("{indent}{trimmed}")
                });
                fence = Some(run);
            }
            (Some(open), Some(_))
                if trimmed.starts_with(open.as_str())
                    && trimmed[open.len()..].trim().is_empty() =>
            {
                let indent = &line[..line.len() - trimmed.len()];
                let indent = if indent.len() > 3 { "" } else { indent };
                out.push(format!("{indent}{trimmed}"));
                fence = None;
            }
            (Some(_), _) => out.push(line.to_string()),
            (None, None) => {
                let indent = line.len() - trimmed.len();
                let lead = if indent >= 4 { "  " } else { &line[..indent] };
                out.push(format!("{lead}{}", inline_safe(trimmed)));
            }
        }
    }
    if let Some(open) = fence {
        // An unclosed fence would swallow the rest of the doc (the limits).
        out.push(open);
    }
    out
}

/// [`markdown_safe`] for one line outside code blocks: code spans kept as is.
fn inline_safe(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, part) in line.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
            continue;
        }
        let chars: Vec<char> = part.chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            let rest: String = chars[j..].iter().collect();
            let prev = if j > 0 { chars[j - 1] } else { ' ' };
            if c == '[' && prev != '\\' {
                // A markdown link `[text](url)` stays; anything else is escaped.
                let close = chars[j..].iter().position(|&x| x == ']').map(|p| p + j);
                match close {
                    Some(k) if chars.get(k + 1) == Some(&'(') => out.push('['),
                    _ => out.push_str("\\["),
                }
            } else if c == ']' && prev != '\\' && chars.get(j + 1) != Some(&'(') {
                out.push_str("\\]");
            } else if c == '<'
                && !rest.starts_with("<http://")
                && !rest.starts_with("<https://")
                && chars
                    .get(j + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!')
            {
                out.push_str("&lt;");
            } else if (rest.starts_with("http://") || rest.starts_with("https://"))
                && prev != '<'
                && prev != '('
            {
                let end = chars[j..]
                    .iter()
                    .position(|x| x.is_whitespace() || *x == ')' || *x == '>')
                    .map_or(chars.len(), |p| p + j);
                let mut url: String = chars[j..end].iter().collect();
                let mut tail = String::new();
                while url.ends_with(['.', ',', ';', ':']) {
                    if let Some(ch) = url.pop() {
                        tail.insert(0, ch);
                    }
                }
                out.push('<');
                out.push_str(&url);
                out.push('>');
                out.push_str(&tail);
                j = end;
                continue;
            } else {
                out.push(c);
            }
            j += 1;
        }
    }
    out
}

/// The limits of a schema (or of its non-null arm) in words.
pub fn limits(schema: &Value) -> String {
    let mut target = schema;
    if let Some(s) = strip_null(schema) {
        if let [(_, one)] = s.arms.as_slice() {
            target = one;
        }
    }
    let num = |k: &str| {
        target
            .get(k)
            .filter(|v| v.is_number())
            .map(Value::to_string)
    };
    let range = |lo: Option<String>, hi: Option<String>, unit: &str| match (lo, hi) {
        (Some(a), Some(b)) if a == b => Some(format!("Exactly {a} {unit}.")),
        (Some(a), Some(b)) => Some(format!("Between {a} and {b} {unit}.")),
        (Some(a), None) => Some(format!("At least {a} {unit}.")),
        (None, Some(b)) => Some(format!("At most {b} {unit}.")),
        (None, None) => None,
    };
    let mut parts: Vec<String> = Vec::new();
    parts.extend(range(num("minLength"), num("maxLength"), "characters"));
    parts.extend(range(num("minItems"), num("maxItems"), "items"));
    let mut bounds = Vec::new();
    if let Some(v) = num("exclusiveMinimum") {
        bounds.push(format!("> {v}"));
    }
    if let Some(v) = num("minimum") {
        bounds.push(format!(">= {v}"));
    }
    if let Some(v) = num("exclusiveMaximum") {
        bounds.push(format!("< {v}"));
    }
    if let Some(v) = num("maximum") {
        bounds.push(format!("<= {v}"));
    }
    if !bounds.is_empty() {
        parts.push(format!("Must be {}.", bounds.join(" and ")));
    }
    if let Some(f) = target.get("format").and_then(Value::as_str) {
        parts.push(format!("Format: `{f}`."));
    }
    if target.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
        parts.push("Items are unique.".to_string());
    }
    if let Some(a) = target.get("x-biolm-alphabet") {
        let name = a.get("name").and_then(Value::as_str).unwrap_or("custom");
        let letters = a.get("letters").and_then(Value::as_str).unwrap_or("");
        let tokens: Vec<String> = a
            .get("tokens")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(|t| format!("`{t}`"))
                    .collect()
            })
            .unwrap_or_default();
        let extra = if tokens.is_empty() {
            String::new()
        } else {
            format!(" and the tokens {}", tokens.join(", "))
        };
        parts.push(format!(
            "Alphabet `{name}`: the characters `{letters}`{extra}."
        ));
    }
    if let Some(n) = target.get("x-biolm-max-residues").and_then(Value::as_u64) {
        parts.push(format!("At most {n} residues (separators not counted)."));
    }
    if let Some(counts) = target.get("x-biolm-token-count").and_then(Value::as_array) {
        for c in counts {
            let token = c.get("token").and_then(Value::as_str).unwrap_or("?");
            let range = range(
                c.get("min").map(Value::to_string),
                c.get("max").map(Value::to_string),
                "times",
            );
            if let Some(r) = range {
                let nc = if c.get("non_consecutive").and_then(Value::as_bool) == Some(true) {
                    ", never twice in a row"
                } else {
                    ""
                };
                parts.push(format!(
                    "`{token}` appears: {}{nc}.",
                    r.trim_end_matches('.').to_lowercase()
                ));
            }
        }
    }
    if let Some(aliases) = target.get("x-biolm-aliases").and_then(Value::as_array) {
        let names: Vec<String> = aliases
            .iter()
            .filter_map(Value::as_str)
            .map(|a| format!("`{a}`"))
            .collect();
        if !names.is_empty() {
            parts.push(format!(
                "The server also accepts the key {}.",
                names.join(", ")
            ));
        }
    }
    if let Some(d) = schema.get("default").filter(|d| !d.is_null()) {
        parts.push(format!("Server default: `{d}`."));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_become_text_and_other_languages_stay() {
        let t = "Intro\n```\nlet x = 1;\n```\n```python\nprint(1)\n```\n```rust,no_run\nfoo()\n```";
        let out = markdown_safe(t);
        assert_eq!(
            out,
            [
                "Intro",
                "```text",
                "let x = 1;",
                "```",
                "```python",
                "print(1)",
                "```",
                "```text",
                "foo()",
                "```"
            ]
        );
        // An unclosed fence is closed, so the limits after it stay text.
        assert_eq!(markdown_safe("```\ncode"), ["```text", "code", "```"]);
    }

    #[test]
    fn indented_code_brackets_html_and_urls_are_defused() {
        assert_eq!(
            markdown_safe("para\n\n    indented code"),
            ["para", "", "  indented code"]
        );
        assert_eq!(
            markdown_safe("a [link](https://x.y) and [0, 1]"),
            ["a [link](https://x.y) and \\[0, 1\\]"]
        );
        assert_eq!(
            markdown_safe("an <html> tag, a < b"),
            ["an &lt;html> tag, a < b"]
        );
        assert_eq!(
            markdown_safe("see https://example.com."),
            ["see <https://example.com>."]
        );
        assert_eq!(
            markdown_safe("see <https://example.com>"),
            ["see <https://example.com>"]
        );
        assert_eq!(
            markdown_safe("code `[x] <y>` kept"),
            ["code `[x] <y>` kept"]
        );
    }
}
