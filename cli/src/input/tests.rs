//! Reader tests on real temporary files, with the exact error texts.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::schema::RequestSchema;

const ANTIBODY: &str = r#"{"properties":{"items":{"items":{"type":"object","required":["heavy_chain","light_chain"],
  "properties":{"heavy_chain":{"type":"string"},"light_chain":{"type":"string"},"n":{"anyOf":[{"type":"integer"},{"type":"null"}]}}}}}}"#;
const PROTEIN: &str = r#"{"properties":{"items":{"items":{"type":"object","required":["sequence"],
  "properties":{"sequence":{"type":"string"}}}}}}"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn mapping(schema: &str, field: Option<&str>) -> Mapping {
    let s = RequestSchema::parse(schema).unwrap();
    Mapping {
        fields: s.item_fields(),
        sequence_field: Some(
            field
                .map(str::to_string)
                .unwrap_or_else(|| s.sequence_field(None).unwrap()),
        ),
        id_column: None,
    }
}

fn read_all(path: &Path, format: InputFormat, m: &Mapping) -> Result<Vec<Record>, InputError> {
    let src = Source::open(path)?;
    read(src, format, m)?.collect()
}

fn err_text(path: &Path, format: InputFormat, m: &Mapping) -> String {
    match read_all(path, format, m) {
        Ok(r) => panic!("expected an error, got {} records", r.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn fasta_multiline_records_with_ids_and_lines() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "a.fasta",
        b"; comment\n>sp|P1 first protein\nMKV\nLLA\n\n>p2\r\nACDE\r\n",
    );
    let m = mapping(PROTEIN, None);
    let r = read_all(&p, InputFormat::Fasta, &m).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].id.as_deref(), Some("sp|P1"));
    assert_eq!(r[0].item, json!({"sequence": "MKVLLA"}));
    assert_eq!(r[0].line, 2);
    assert_eq!(r[0].line_of_position(4), 4);
    assert_eq!(r[0].line_of_position(0), 3);
    assert_eq!(r[1].id.as_deref(), Some("p2"));
    assert_eq!(r[1].item, json!({"sequence": "ACDE"}));
    assert_eq!(r[1].line, 6);
}

#[test]
fn fasta_errors_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let m = mapping(PROTEIN, None);
    let p = write(d.path(), "a.fa", b"MKV\n>x\nAA\n");
    assert_eq!(
        err_text(&p, InputFormat::Fasta, &m),
        format!(
            "{}:1: sequence data before the first '>' header; is this a FASTA file?",
            p.display()
        )
    );
    let p = write(d.path(), "b.fa", b">x\nAA\n>empty\n>y\nCC\n");
    assert_eq!(
        err_text(&p, InputFormat::Fasta, &m),
        format!("{}:3: FASTA record 'empty' has no sequence", p.display())
    );
    let p = write(d.path(), "c.fa", b">x\nAA\n>y\nC\xffC\n");
    assert_eq!(
        err_text(&p, InputFormat::Fasta, &m),
        format!(
            "{}:4: not valid UTF-8 (byte 0xff at column 2); save the file as UTF-8",
            p.display()
        )
    );
    let p = write(d.path(), "d.fa", b">\nAA\n");
    assert_eq!(
        err_text(&p, InputFormat::Fasta, &m),
        format!(
            "{}:1: empty FASTA header; write a name after '>'",
            p.display()
        )
    );
}

#[test]
fn gzip_is_detected_by_content() {
    let d = tempfile::tempdir().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b">a\nMKV\n>b\nLLL\n").unwrap();
    let p = write(d.path(), "x.fasta.gz", &enc.finish().unwrap());
    assert_eq!(InputFormat::from_path(&p), Some(InputFormat::Fasta));
    let r = read_all(&p, InputFormat::Fasta, &mapping(PROTEIN, None)).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].item, json!({"sequence": "LLL"}));
}

#[test]
fn truncated_gzip_names_the_problem() {
    let d = tempfile::tempdir().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..2000 {
        writeln!(enc, ">r{i}\nMKVLLAGHHHHKLLLLLLLWWWPPPP{i}").unwrap();
    }
    let bytes = enc.finish().unwrap();
    let p = write(d.path(), "t.fa.gz", &bytes[..bytes.len() / 2]);
    let e = read_all(&p, InputFormat::Fasta, &mapping(PROTEIN, None)).unwrap_err();
    assert!(
        e.to_string().contains("gzip data is corrupt or truncated"),
        "{e}"
    );
}

#[test]
fn csv_quoting_ids_types_and_multiline() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "ab.csv",
        b"id,heavy_chain,light_chain,n\nab1,EVQL,DIQM,3\n\"ab,2\", \"EV\"\"QL\" ,\"DI\nQM\",\nab3,E,D,\n",
    );
    let m = mapping(ANTIBODY, Some("heavy_chain"));
    let r = read_all(&p, InputFormat::Csv, &m).unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].id.as_deref(), Some("ab1"));
    assert_eq!(
        r[0].item,
        json!({"heavy_chain": "EVQL", "light_chain": "DIQM", "n": 3})
    );
    assert_eq!(r[1].id.as_deref(), Some("ab,2"));
    assert_eq!(
        r[1].item,
        json!({"heavy_chain": "EV\"QL", "light_chain": "DI\nQM"})
    );
    assert_eq!(r[2].line, 5);
}

#[test]
fn csv_errors_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let m = mapping(ANTIBODY, Some("heavy_chain"));
    let p = write(
        d.path(),
        "a.csv",
        b"id,heavy_chain,light_chain\nx,EV,DI\ny,EV\n",
    );
    assert_eq!(
        err_text(&p, InputFormat::Csv, &m),
        format!(
            "{}:3: row has 2 values, the header has 3 (missing light_chain)",
            p.display()
        )
    );
    let p = write(d.path(), "b.csv", b"id,heavy_chain\nx,EV\n");
    assert_eq!(
        err_text(&p, InputFormat::Csv, &m),
        format!(
            "{}:1: no column for the required field 'light_chain' (columns: id, heavy_chain)",
            p.display()
        )
    );
    let p = write(
        d.path(),
        "c.csv",
        b"name,heavy_chain,light_chain\nx,EV,DI\n",
    );
    assert_eq!(
        err_text(&p, InputFormat::Csv, &m),
        format!(
            "{}:1: column 'name' is not a field of the item (fields: heavy_chain, light_chain, n); rename or remove it, or name it with --id-column",
            p.display()
        )
    );
    let p = write(
        d.path(),
        "d.csv",
        b"id,heavy_chain,light_chain,n\nx,EV,DI,many\n",
    );
    assert_eq!(
        err_text(&p, InputFormat::Csv, &m),
        format!("{}:2: column 'n': \"many\" is not integer", p.display())
    );
    let p = write(
        d.path(),
        "e.csv",
        b"id,heavy_chain,light_chain\nx,\"EV,DI\n",
    );
    assert_eq!(
        err_text(&p, InputFormat::Csv, &m),
        format!(
            "{}:2: a quoted field opened on this line is never closed",
            p.display()
        )
    );
}

#[test]
fn csv_id_column_option() {
    let d = tempfile::tempdir().unwrap();
    let mut m = mapping(ANTIBODY, Some("heavy_chain"));
    m.id_column = Some("name".into());
    let p = write(
        d.path(),
        "a.csv",
        b"name,heavy_chain,light_chain\nx1,EV,DI\n",
    );
    let r = read_all(&p, InputFormat::Csv, &m).unwrap();
    assert_eq!(r[0].id.as_deref(), Some("x1"));
    assert_eq!(r[0].item, json!({"heavy_chain": "EV", "light_chain": "DI"}));
    m.id_column = Some("nope".into());
    assert_eq!(
        err_text(&p, InputFormat::Csv, &m),
        format!(
            "{}:1: --id-column nope: no such column (columns: name, heavy_chain, light_chain)",
            p.display()
        )
    );
}

#[test]
fn tsv_reads_tabs() {
    let d = tempfile::tempdir().unwrap();
    let m = mapping(PROTEIN, None);
    let p = write(d.path(), "a.tsv", b"id\tsequence\nq\tMKV\n");
    assert_eq!(InputFormat::from_path(&p), Some(InputFormat::Tsv));
    let r = read_all(&p, InputFormat::Tsv, &m).unwrap();
    assert_eq!(r[0].item, json!({"sequence": "MKV"}));
}

#[test]
fn jsonl_items_ids_and_errors() {
    let d = tempfile::tempdir().unwrap();
    let m = mapping(PROTEIN, None);
    let p = write(
        d.path(),
        "a.jsonl",
        b"{\"id\": \"a\", \"sequence\": \"MKV\"}\n\n{\"sequence\": \"AC\", \"id\": 7}\n",
    );
    let r = read_all(&p, InputFormat::Jsonl, &m).unwrap();
    assert_eq!(r[0].id.as_deref(), Some("a"));
    assert_eq!(r[0].item, json!({"sequence": "MKV"}));
    assert_eq!(r[1].id.as_deref(), Some("7"));
    assert_eq!(r[1].line, 3);
    let p = write(
        d.path(),
        "b.jsonl",
        b"{\"sequence\": \"MKV\"}\n{\"sequence\": MKV}\n",
    );
    assert_eq!(
        err_text(&p, InputFormat::Jsonl, &m),
        format!(
            "{}:2: the line is not valid JSON: expected value at line 1 column 14",
            p.display()
        )
    );
    let p = write(d.path(), "c.jsonl", b"[1]\n");
    assert_eq!(
        err_text(&p, InputFormat::Jsonl, &m),
        format!(
            "{}:1: the line is an array, expected an object with the item's fields",
            p.display()
        )
    );
}

#[test]
fn json_array_streamed_with_lines() {
    let d = tempfile::tempdir().unwrap();
    let m = mapping(PROTEIN, None);
    let p = write(
        d.path(),
        "a.json",
        b"[\n  {\"sequence\": \"MK,]V\"},\n  {\n    \"sequence\": \"AC\"\n  }, {\"sequence\": \"W\"}\n]\n",
    );
    let r = read_all(&p, InputFormat::Json, &m).unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].item, json!({"sequence": "MK,]V"}));
    assert_eq!(r[1].line, 3);
    assert_eq!(r[2].line, 5);
    let p = write(
        d.path(),
        "b.json",
        b"[{\"sequence\": \"A\"},\n {\"sequence\": \"B\",}]",
    );
    assert_eq!(
        err_text(&p, InputFormat::Json, &m),
        format!(
            "{}:2: the array element is not valid JSON: trailing comma at line 1 column 18",
            p.display()
        )
    );
    let p = write(d.path(), "c.json", b"[{\"sequence\": \"A\"}\n");
    assert_eq!(
        err_text(&p, InputFormat::Json, &m),
        format!(
            "{}:1: the JSON array is not closed (missing ']')",
            p.display()
        )
    );
    let p = write(d.path(), "d.json", b"{\"sequence\": \"A\"}\n");
    assert_eq!(
        err_text(&p, InputFormat::Json, &m),
        format!(
            "{}:1: expected a JSON array of items ('[' first); for one item per line use JSONL (.jsonl)",
            p.display()
        )
    );
    assert_eq!(
        read_all(&write(d.path(), "e.json", b" [ ] "), InputFormat::Json, &m)
            .unwrap()
            .len(),
        0
    );
    let p = write(
        d.path(),
        "f.json",
        b"[{\"sequence\": \"A\"},\n {\"sequence\": \"B\xff\"}]",
    );
    assert_eq!(
        err_text(&p, InputFormat::Json, &m),
        format!(
            "{}:2: not valid UTF-8 (byte 0xff at column 16); save the file as UTF-8",
            p.display()
        )
    );
    let p = write(
        d.path(),
        "g.json",
        b"[{\"sequence\": \"A\"} {\"sequence\": \"B\"}]",
    );
    assert_eq!(
        err_text(&p, InputFormat::Json, &m),
        format!(
            "{}:1: expected ',' or ']' after an item, found '{{'",
            p.display()
        )
    );
}

#[test]
fn formats_from_names_and_content() {
    for (name, f) in [
        ("x.fa", InputFormat::Fasta),
        ("x.FASTA.gz", InputFormat::Fasta),
        ("x.faa", InputFormat::Fasta),
        ("x.fna", InputFormat::Fasta),
        ("x.csv.gz", InputFormat::Csv),
        ("x.json", InputFormat::Json),
        ("x.jsonl", InputFormat::Jsonl),
    ] {
        assert_eq!(InputFormat::from_path(Path::new(name)), Some(f), "{name}");
    }
    assert_eq!(InputFormat::from_path(Path::new("x.txt")), None);
    assert_eq!(InputFormat::sniff(b'>'), Some(InputFormat::Fasta));
    assert_eq!(InputFormat::sniff(b'{'), Some(InputFormat::Jsonl));
}

/// Peak resident memory of this process (kB), from /proc (Linux only).
fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn readers_stream_a_large_file_in_flat_memory() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big.fasta");
    // 120 MB of FASTA: 20,000 records of 6,000 residues in 60-letter lines.
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        let line = "ACDEFGHIKLMNPQRSTVWY".repeat(3);
        for i in 0..20_000 {
            writeln!(f, ">r{i}").unwrap();
            for _ in 0..100 {
                writeln!(f, "{line}").unwrap();
            }
        }
    }
    let size = std::fs::metadata(&p).unwrap().len();
    assert!(size > 120_000_000, "{size}");
    let Some(before) = vm_hwm_kb() else {
        eprintln!("skip: no /proc/self/status here");
        return;
    };
    let m = mapping(PROTEIN, None);
    let mut n = 0usize;
    let mut residues = 0usize;
    for r in read(Source::open(&p).unwrap(), InputFormat::Fasta, &m).unwrap() {
        let r = r.unwrap();
        residues += r.item["sequence"].as_str().unwrap().len();
        n += 1;
    }
    assert_eq!((n, residues), (20_000, 120_000_000));
    let grown_mb = (vm_hwm_kb().unwrap() - before) / 1024;
    // Holding the file would take over 120 MB; a stream needs a few records.
    assert!(
        grown_mb < 40,
        "peak memory grew by {grown_mb} MB while reading {} MB",
        size / 1_000_000
    );
}

#[test]
fn minified_json_array_streams_element_by_element() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("one-line.json");
    // 60 MB on a single line, as `json.dump(items, f)` writes it.
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        let seq = "ACDEFGHIKLMNPQRSTVWY".repeat(100);
        f.write_all(b"[").unwrap();
        for i in 0..30_000 {
            if i > 0 {
                f.write_all(b",").unwrap();
            }
            write!(f, "{{\"id\":\"s{i}\",\"sequence\":\"{seq}\"}}").unwrap();
        }
        f.write_all(b"]").unwrap();
    }
    let Some(before) = vm_hwm_kb() else {
        eprintln!("skip: no /proc/self/status here");
        return;
    };
    let m = mapping(PROTEIN, None);
    let mut n = 0usize;
    for r in read(Source::open(&p).unwrap(), InputFormat::Json, &m).unwrap() {
        let r = r.unwrap();
        assert_eq!(r.id.as_deref(), Some(format!("s{n}").as_str()));
        assert_eq!(r.line, 1);
        n += 1;
    }
    assert_eq!(n, 30_000);
    let grown_mb = (vm_hwm_kb().unwrap() - before) / 1024;
    assert!(
        grown_mb < 30,
        "peak memory grew by {grown_mb} MB reading a 60 MB one-line array"
    );
}
