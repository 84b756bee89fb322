//! Bad input files and arguments through the `biolm` binary (issue 6, part 3,
//! file cases): malformed FASTA, CSV, JSON and JSONL, non-UTF-8 bytes, corrupt
//! gzip, a huge single line, empty inputs, wrong slugs, actions and params.
//! Each must give a clear error naming the file and line (or the argument),
//! and the sandbox must receive nothing that was rejected.

mod support;

use std::path::PathBuf;
use std::process::Command;

use biolm_sandbox::{Sandbox, SandboxConfig};

fn bin() -> Command {
    support::bin_with_token("bad-input-token")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// One bad input.
struct Case {
    name: &'static str,
    /// File name and bytes (none: the case is arguments only).
    file: Option<(&'static str, Vec<u8>)>,
    /// Arguments after `run`; `{}` stands for the file's path.
    args: Vec<&'static str>,
    /// Expected exit code.
    code: i32,
    /// `(line, text)`: stderr must hold `<path>:<line>: ` (or `<path>: ` for
    /// line 0) followed somewhere by `text`. For argument cases the path is
    /// not checked and `text` alone must appear.
    at: (u64, &'static str),
    /// Items the sandbox may receive (the valid ones).
    sent: u64,
}

fn case(
    name: &'static str,
    file: &'static str,
    bytes: impl Into<Vec<u8>>,
    code: i32,
    at: (u64, &'static str),
    sent: u64,
) -> Case {
    Case {
        name,
        file: Some((file, bytes.into())),
        args: vec!["esm2-8m", "encode", "-i", "{}"],
        code,
        at,
        sent,
    }
}

fn arg_case(name: &'static str, args: Vec<&'static str>, text: &'static str) -> Case {
    Case {
        name,
        file: None,
        args,
        code: 2,
        at: (0, text),
        sent: 0,
    }
}

fn cases() -> Vec<Case> {
    let mut huge_fasta = b">big one\n".to_vec();
    huge_fasta.extend(std::iter::repeat_n(b'M', 3_000_000));
    huge_fasta.push(b'\n');
    let huge_jsonl = format!(
        "{{\"sequence\": \"MKT\"}}\n{{\"sequence\": \"{}\"}}\n",
        "A".repeat(3_000_000)
    );
    let mut corrupt = gzip(">a\nMKTAYIAKQR\n".repeat(2000).as_bytes());
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    corrupt[mid + 1] ^= 0xff;
    let truncated = gzip(">a\nMKTAYIAKQR\n".repeat(2000).as_bytes());
    let truncated = truncated[..truncated.len() / 2].to_vec();
    vec![
        case(
            "FASTA without a header",
            "a.fasta",
            "MKTAYIAK\n>a\nMKT\n",
            2,
            (1, "before the first '>' header"),
            0,
        ),
        case(
            "FASTA record without a sequence",
            "b.fasta",
            ">a\nMKT\n>b\n>c\nGLIEV\n",
            2,
            (3, "has no sequence"),
            0,
        ),
        case(
            "FASTA with an empty header",
            "c.fasta",
            ">a\nMKT\n>\nGLIEV\n",
            2,
            (3, "empty FASTA header"),
            0,
        ),
        case(
            "FASTA with a bad residue on its 2nd line",
            "d.fasta",
            ">a\nMKT\n>b two\nMKTAY\nIAJKQR\n>c\nGG\n",
            1,
            (5, "item 1 (b): sequence: character 'J'"),
            2,
        ),
        case(
            "FASTA with non-UTF-8 bytes",
            "e.fasta",
            b">a\nMKT\xff\xfeAY\n".to_vec(),
            2,
            (2, "not valid UTF-8"),
            0,
        ),
        case(
            "FASTA with a NUL byte",
            "f.fasta",
            b">a\nMKTAY\n>b\nMK\x00T\n".to_vec(),
            1,
            (4, "item 1 (b): sequence: character '\\0'"),
            1,
        ),
        case(
            "FASTA with an over-long sequence",
            "g.fasta",
            format!(">a\nMKT\n>long\n{}\n", "A".repeat(2049)),
            1,
            (
                3,
                "item 1 (long): sequence: is 2049 characters, more than the 2048 allowed",
            ),
            1,
        ),
        case(
            "a huge single FASTA line",
            "h.fasta",
            huge_fasta,
            1,
            (1, "item 0 (big): sequence: is 3000000 characters"),
            0,
        ),
        case("an empty FASTA file", "i.fasta", "", 2, (0, "no items"), 0),
        case(
            "a FASTA file of blank lines",
            "j.fasta",
            "\n\n\n",
            2,
            (0, "no items"),
            0,
        ),
        case(
            "CSV without the sequence column",
            "k.csv",
            "id,seq\nx,MKT\n",
            2,
            (1, "column 'seq' is not a field"),
            0,
        ),
        case(
            "CSV row with a missing value",
            "l.csv",
            "id,sequence\nx,MKT\ny\n",
            2,
            (3, "row has 1 value"),
            0,
        ),
        case(
            "CSV row with an extra value",
            "m.csv",
            "id,sequence\nx,MKT\ny,GLIEV,extra\n",
            2,
            (3, "row has 3 values"),
            0,
        ),
        case(
            "CSV with an unclosed quote",
            "n.csv",
            "id,sequence\nx,\"MKT\ny,AAA\n",
            2,
            (2, "never closed"),
            0,
        ),
        case(
            "CSV with a header only",
            "o.csv",
            "id,sequence\n",
            2,
            (0, "no items"),
            0,
        ),
        case(
            "CSV with non-UTF-8 bytes",
            "p.csv",
            b"id,sequence\nx,MKT\ny,MK\xe9T\n".to_vec(),
            2,
            (3, "not valid UTF-8"),
            0,
        ),
        case(
            "CSV with a bad residue",
            "q.csv",
            "id,sequence\nx,MKT\ny,MK1T\n",
            1,
            (3, "item 1 (y): sequence: character '1'"),
            1,
        ),
        case(
            "TSV with an empty sequence",
            "r.tsv",
            "id\tsequence\nx\tMKT\ny\t\n",
            1,
            (3, "sequence"),
            1,
        ),
        case(
            "JSONL line that is not JSON",
            "s.jsonl",
            "{\"sequence\": \"MKV\"}\n{\"sequence\": MKV}\n",
            2,
            (2, "not valid JSON"),
            0,
        ),
        case(
            "JSONL line that is a list",
            "t.jsonl",
            "{\"sequence\": \"MKV\"}\n\n[1, 2]\n",
            2,
            (3, "is an array"),
            0,
        ),
        case(
            "JSONL item with an unknown field",
            "u.jsonl",
            "{\"sequence\": \"MKV\"}\n{\"sequence\": \"MKV\", \"extra\": 1}\n",
            1,
            (2, "item 1: extra: is not a known field"),
            1,
        ),
        case(
            "JSONL item with a wrong type",
            "v.jsonl",
            "{\"sequence\": 42}\n",
            1,
            (1, "item 0: sequence: must be a string"),
            0,
        ),
        case(
            "a huge JSONL line",
            "w.jsonl",
            huge_jsonl,
            1,
            (2, "3000000 characters"),
            1,
        ),
        case(
            "JSON array cut short",
            "x.json",
            "[{\"sequence\": \"MKT\"},\n {\"sequence\":",
            2,
            (2, "not closed before the end of the file"),
            0,
        ),
        case(
            "JSON that is not an array",
            "y.json",
            "{\"sequence\": \"MKT\"}",
            2,
            (1, "array"),
            0,
        ),
        case(
            "gzip data cut short",
            "z.fasta.gz",
            truncated,
            2,
            (0, "gzip data is corrupt or truncated"),
            0,
        ),
        case(
            "corrupt gzip data",
            "za.fasta.gz",
            corrupt,
            2,
            (0, "gzip data is corrupt or truncated"),
            0,
        ),
        case(
            "an unknown format",
            "zb.dat",
            "hello",
            2,
            (0, "--input-format"),
            0,
        ),
        arg_case(
            "a wrong model slug",
            vec!["esm2-9000", "encode", "-s", "MKT"],
            "unknown model 'esm2-9000': did you mean esm2-8m",
        ),
        arg_case(
            "a wrong action",
            vec!["esm2-8m", "fold", "-s", "MKT"],
            "model 'esm2-8m' has no action 'fold' (actions: encode",
        ),
        arg_case(
            "params with an unknown option",
            vec![
                "esm2-8m",
                "encode",
                "-s",
                "MKT",
                "--params",
                "{\"include\": [\"everything\"]}",
            ],
            "params.include[0]: \"everything\" is not one of the allowed values",
        ),
        arg_case(
            "params out of range",
            vec![
                "progen2-oas",
                "generate",
                "-s",
                "MKT",
                "--params",
                "{\"num_samples\": 9}",
            ],
            "params.num_samples: is 9, more than the maximum 3",
        ),
        arg_case(
            "params that are not JSON",
            vec!["esm2-8m", "encode", "-s", "MKT", "--params", "{not json"],
            "--params: not valid JSON (line 1, column 2)",
        ),
        arg_case(
            "a params file that does not exist",
            vec![
                "esm2-8m",
                "encode",
                "-s",
                "MKT",
                "--params-file",
                "/nonexistent/params.json",
            ],
            "/nonexistent/params.json: cannot read the params file",
        ),
        arg_case(
            "an input file that does not exist",
            vec!["esm2-8m", "encode", "-i", "/nonexistent/in.fasta"],
            "/nonexistent/in.fasta: cannot open the input file",
        ),
        arg_case(
            "a directory as input",
            vec!["esm2-8m", "encode", "-i", "/", "--input-format", "fasta"],
            "/: cannot read the input",
        ),
        arg_case(
            "batch size 0",
            vec!["esm2-8m", "encode", "-s", "MKT", "--batch-size", "0"],
            "--batch-size 0: give at least 1",
        ),
        arg_case(
            "no items at all",
            vec!["esm2-8m", "encode"],
            "no items: give -i FILE",
        ),
        Case {
            name: "a bad --sequence",
            file: None,
            args: vec!["esm2-8m", "encode", "-s", "MKT", "-s", "MK*T"],
            code: 1,
            at: (
                0,
                "--sequence #2: item 1: sequence: character '*' at position 3",
            ),
            sent: 1,
        },
    ]
}

#[test]
fn every_bad_input_names_file_and_line_and_sends_nothing_bad() {
    let d = tempfile::tempdir().unwrap();
    let sb = Sandbox::start_blocking(SandboxConfig::new(support::schemas_dir())).unwrap();
    let base = sb.base_url();
    let cases = cases();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for c in &cases {
        sb.reset_stats();
        let path: Option<PathBuf> = c.file.as_ref().map(|(name, bytes)| {
            let p = d.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        });
        let path_s = path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut args: Vec<String> = vec!["run".into()];
        args.extend(c.args.iter().map(|a| a.replace("{}", &path_s)));
        args.extend(["--base-url".into(), base.clone(), "-q".into()]);
        let o = bin().args(&args).output().unwrap();
        let err = support::text(&o.stderr);
        let code = o.status.code();
        let mut fail =
            |why: String| failures.push(format!("{}: {why}\n  stderr: {}", c.name, err.trim()));
        if code != Some(c.code) {
            fail(format!("exit {code:?}, expected {}", c.code));
        }
        let (line, text) = c.at;
        match &path {
            Some(_) if line > 0 => {
                let want = format!("{path_s}:{line}: ");
                let ok = err.lines().any(|l| l.contains(&want) && l.contains(text));
                if !ok {
                    fail(format!("no line with {want:?} and {text:?}"));
                }
            }
            Some(_) => {
                let ok = err.lines().any(|l| l.contains(&path_s) && l.contains(text));
                if !ok {
                    fail(format!("no line naming {path_s:?} with {text:?}"));
                }
            }
            None => {
                if !err.contains(text) {
                    fail(format!("stderr lacks {text:?}"));
                }
            }
        }
        if err.len() > 20_000 {
            fail(format!(
                "stderr is {} bytes: the input is echoed",
                err.len()
            ));
        }
        let st = sb.stats();
        if st.items != c.sent {
            fail(format!(
                "the sandbox received {} items, expected {}",
                st.items, c.sent
            ));
        }
        if c.sent == 0 && st.requests != 0 {
            fail(format!("{} requests sent for nothing", st.requests));
        }
        // Per-item failures still give one error line per bad item on stdout.
        if c.code == 1 {
            let out = String::from_utf8_lossy(&o.stdout);
            let errors = out.lines().filter(|l| l.contains("\"error\"")).count();
            if errors == 0 {
                fail("no error line on stdout for the bad item".into());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
