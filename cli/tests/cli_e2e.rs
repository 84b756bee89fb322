//! End-to-end tests of the `biolm` binary: real processes, real files, and a
//! sandbox server over loopback (started by `--sandbox`, or by the test).

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use biolm_sandbox::{Latency, LatencyScope, Sandbox, SandboxConfig};
use serde_json::Value;
use support::{bin, schemas_dir, text};

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the biolm binary runs")
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/data")
        .join(name)
        .display()
        .to_string()
}

/// Output lines as JSON, skipping the resume header line of a `-o` file.
fn result_lines(s: &str) -> Vec<Value> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .filter(|v| v.get("index").is_some())
        .collect()
}

fn write_fasta(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            ">seq{i} record {i}\nMKTAYIAKQRQISFVKSHFSRQ\nLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQ"
        )
        .unwrap();
    }
}

#[test]
fn models_list_and_show() {
    let o = run(&["models", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with("SLUG"), "{out}");
    assert!(
        out.contains("esm2-8m") && out.contains("encode(8)"),
        "{out}"
    );
    assert!(o.stderr.is_empty(), "stderr: {}", text(&o.stderr));

    let o = run(&["models", "list", "--json"]);
    let all: Value = serde_json::from_slice(&o.stdout).unwrap();
    let slugs: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["slug"].as_str())
        .collect();
    assert_eq!(slugs.len(), 69, "{slugs:?}");
    assert!(slugs.contains(&"esmfold"));

    let o = run(&["models", "show", "esm2-8m"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("action encode: 1..=8 items per request"),
        "{out}"
    );
    assert!(out.contains("sequence"), "{out}");

    let o = run(&["models", "show", "esm2-8m", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let encode = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "encode")
        .unwrap();
    assert_eq!(encode["max_items"], 8);
    assert_eq!(encode["item_fields"][0]["name"], "sequence");
    assert_eq!(encode["item_fields"][0]["required"], true);

    let o = run(&["models", "show", "esm2-9000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("unknown model 'esm2-9000'"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn run_fasta_on_sandbox_to_stdout() {
    let fasta = data("proteins.fasta");
    let o = run(&["run", "esm2-8m", "encode", "-i", &fasta, "--sandbox", "-q"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("synthetic results from the local sandbox"),
        "{err}"
    );
    let lines = result_lines(&text(&o.stdout));
    assert_eq!(lines.len(), 7);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["index"], i, "{l}");
        assert!(l["result"].is_object(), "{l}");
    }
    assert_eq!(lines[0]["id"], "ubiquitin_human");
    assert_eq!(lines[6]["id"], "myoglobin_nterm");
    assert!(err.contains("7 ok, 0 failed, 0 not attempted"), "{err}");
}

#[test]
fn run_csv_on_sandbox() {
    let csv = data("antibodies.csv");
    let o = run(&["run", "ablang2", "encode", "-i", &csv, "--sandbox", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines = result_lines(&text(&o.stdout));
    let ids: Vec<&str> = lines.iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, ["trastuzumab_fv", "adalimumab_fv", "pembrolizumab_fv"]);
}

#[test]
fn run_jsonl_from_stdin_with_params() {
    let mut child = bin()
        .args([
            "run",
            "esm2-8m",
            "encode",
            "-i",
            "-",
            "--input-format",
            "jsonl",
            "--sandbox",
            "-q",
        ])
        .args(["--params", r#"{"include": ["mean"]}"#])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, r#"{{"id": "a", "sequence": "MKTAYIAK"}}"#).unwrap();
        writeln!(stdin, r#"{{"id": "b", "sequence": "QRQISFVK"}}"#).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines = result_lines(&text(&o.stdout));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["id"], "b");
}

#[test]
fn dry_run_names_file_and_line_and_sends_nothing() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.fasta");
    std::fs::write(&p, ">ok\nMKTAYIAK\n>bad second\nMKTAY\nIAJKQR\n").unwrap();
    let sandbox = Sandbox::start_blocking(SandboxConfig::new(schemas_dir())).unwrap();
    let o = run(&[
        "run",
        "esm2-8m",
        "encode",
        "-i",
        p.to_str().unwrap(),
        "--dry-run",
        "--base-url",
        &sandbox.base_url(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{}:5: item 1 (bad): sequence: character 'J'",
            p.display()
        )),
        "{err}"
    );
    assert!(err.contains("2 items read, 1 valid, 1 invalid"), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(sandbox.stats().requests, 0);

    let good = data("proteins.fasta");
    let o = run(&["run", "esm2-8m", "encode", "-i", &good, "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn malformed_input_and_usage_errors_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ab.csv");
    std::fs::write(&p, "id,heavy_chain,light_chain\nx,EVQL,DIQ\ny,EVQL\n").unwrap();
    let o = run(&[
        "run",
        "ablang2",
        "encode",
        "-i",
        p.to_str().unwrap(),
        "--sandbox",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&format!("{}:3: row has 2 values", p.display())),
        "{}",
        text(&o.stderr)
    );

    let o = run(&[
        "run",
        "esm2-8m",
        "encode",
        "--sequence",
        "MKV",
        "--params",
        "{not json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "run",
        "esm2-8m",
        "nonsense",
        "--sequence",
        "MKV",
        "--sandbox",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("has no action 'nonsense'"));
    let o = run(&["run", "esm2-8m"]);
    assert_eq!(o.status.code(), Some(2));
    // A FASTA sequence cannot fill two required fields: the error asks for --field.
    let o = run(&[
        "run",
        "ablang2",
        "encode",
        "-i",
        &data("proteins.fasta"),
        "--sandbox",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("heavy_chain, light_chain") && err.contains("--field NAME"),
        "{err}"
    );
    // A JSONL line that is not JSON names its line.
    let p = d.path().join("x.jsonl");
    std::fs::write(&p, "{\"sequence\": \"MKV\"}\n{\"sequence\": MKV}\n").unwrap();
    let o = run(&[
        "run",
        "esm2-8m",
        "encode",
        "-i",
        p.to_str().unwrap(),
        "--sandbox",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&format!("{}:2: the line is not valid JSON", p.display())),
        "{}",
        text(&o.stderr)
    );
    assert!(
        o.stdout.is_empty(),
        "nothing is sent when the file is malformed"
    );
}

#[test]
fn no_token_explains_and_exits_2() {
    let o = run(&["run", "esm2-8m", "encode", "--sequence", "MKTAYIAK"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("BIOLM_TOKEN")
            && err.contains("https://biolm.ai")
            && err.contains("--sandbox"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn failed_items_exit_1_with_error_lines() {
    let o = run(&[
        "run",
        "esm2-8m",
        "encode",
        "--sequence",
        "MKTAYIAK",
        "--sequence",
        "MK1",
        "--sandbox",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let lines = result_lines(&text(&o.stdout));
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["result"].is_object());
    assert!(
        lines[1]["error"]["message"].as_str().unwrap().contains('1'),
        "{}",
        lines[1]
    );
    assert!(
        text(&o.stderr).contains("1 ok, 1 failed"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn structures_dir_writes_one_file_per_item() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("pdb");
    let o = run(&[
        "run",
        "esmfold",
        "predict",
        "--sandbox",
        "-q",
        "-i",
        &data("proteins.fasta"),
        "--structures-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(names.contains(&"trp_cage.pdb".to_string()), "{names:?}");
    let pdb = std::fs::read_to_string(dir.join("trp_cage.pdb")).unwrap();
    assert!(pdb.contains("ATOM"), "{pdb}");
}

/// Kills a run mid-way with SIGKILL, runs it again, and checks the output file holds
/// every index exactly once.
#[test]
fn killed_run_resumes_without_gaps_or_duplicates() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("many.fasta");
    let n = 1000;
    write_fasta(&fasta, n);
    let out = d.path().join("out.jsonl");
    let config = SandboxConfig::new(schemas_dir()).latency(
        Latency::Fixed(Duration::from_millis(40)),
        LatencyScope::PerRequest,
    );
    let sandbox = Sandbox::start_blocking(config).unwrap();
    let base = sandbox.base_url();
    let args = [
        "run",
        "esm2-8m",
        "encode",
        "-i",
        fasta.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--base-url",
        &base,
        "--concurrency",
        "2",
        "-q",
    ];
    let mut child = bin()
        .args(args)
        .env("BIOLM_TOKEN", "test")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until some results are on disk, then kill it mid-run.
    let start = Instant::now();
    loop {
        let lines = std::fs::read_to_string(&out)
            .map(|s| result_lines_lenient(&s))
            .unwrap_or(0);
        if lines >= 40 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no progress in the first run"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = result_lines_lenient(&std::fs::read_to_string(&out).unwrap());
    assert!(
        partial < n,
        "the first run finished before it was killed ({partial} lines)"
    );
    let sent_before = sandbox.stats().items;

    let o = bin()
        .args(args)
        .env("BIOLM_TOKEN", "test")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let body = std::fs::read_to_string(&out).unwrap();
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for l in result_lines(&body) {
        *seen.entry(l["index"].as_u64().unwrap()).or_default() += 1;
        assert!(l.get("result").is_some(), "{l}");
        assert_eq!(l["id"], format!("seq{}", l["index"]));
    }
    assert_eq!(seen.len(), n, "every index present");
    assert!(seen.values().all(|&c| c == 1), "no duplicates");
    // The second run skipped what the first had finished.
    let resent = sandbox.stats().items - sent_before;
    assert!(
        resent < n as u64,
        "the second run re-sent everything ({resent} items)"
    );
}

/// Counts complete result lines (a torn last line after SIGKILL is ignored).
fn result_lines_lenient(s: &str) -> usize {
    s.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("index").is_some())
        .count()
}

#[test]
fn batch_size_concurrency_and_rate_limit_reach_the_server() {
    let config = SandboxConfig::new(schemas_dir()).latency(
        Latency::Fixed(Duration::from_millis(20)),
        LatencyScope::PerRequest,
    );
    let sandbox = Sandbox::start_blocking(config).unwrap();
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("20.fasta");
    write_fasta(&fasta, 20);
    let base = sandbox.base_url();
    // The 20 sequences, with these extra flags.
    let run_with = |flags: [&str; 4]| {
        bin()
            .args(["run", "esm2-8m", "encode", "-i", fasta.to_str().unwrap()])
            .args(["--base-url", &base, "-q"])
            .args(flags)
            .env("BIOLM_TOKEN", "test")
            .output()
            .unwrap()
    };
    let o = run_with(["--batch-size", "2", "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stats = sandbox.stats();
    assert_eq!(stats.requests, 10, "{stats:?}");
    assert_eq!(stats.items, 20);
    assert_eq!(stats.max_in_flight, 1);
    assert_eq!(result_lines(&text(&o.stdout)).len(), 20);

    // 4 requests at 2/second: the last may not start before 1 s after the first.
    sandbox.reset_stats();
    let start = Instant::now();
    let o = run_with(["--batch-size", "5", "--rate-limit", "2/second"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(sandbox.stats().requests, 4);
    assert!(
        start.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        start.elapsed()
    );
    let o = run(&[
        "run",
        "esm2-8m",
        "encode",
        "--sequence",
        "MK",
        "--sandbox",
        "--rate-limit",
        "ten",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--rate-limit"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn sandbox_serve_then_run_against_it() {
    use std::io::BufRead;
    let d = tempfile::tempdir().unwrap();
    // In a directory without schemas/, the server uses the schemas built into the binary.
    let mut server = bin()
        .args(["sandbox", "serve", "--port", "0"])
        .current_dir(d.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let mut url = None;
    let mut seen = String::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if let Some(rest) = line.trim().strip_prefix("platform API:") {
            url = rest.split_whitespace().next().map(str::to_string);
        }
        if line.trim().starts_with("gateway API:") {
            break;
        }
    }
    // The reader is dropped here: the server's standard error is now a closed
    // pipe, as when a parent reads the URL and goes away. The server must go on
    // serving, and stop cleanly on Ctrl-C (SIGINT) though it cannot say so.
    let url = url.unwrap_or_else(|| panic!("no URL printed: {seen}"));
    assert!(seen.contains("built into biolm"), "{seen}");
    let o = bin()
        .args([
            "run",
            "esm2-8m",
            "encode",
            "--sequence",
            "MKTAYIAK",
            "--base-url",
            &url,
            "-q",
        ])
        .env("BIOLM_TOKEN", "test")
        .output()
        .unwrap();
    let interrupted = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let exit = server.wait().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(result_lines(&text(&o.stdout)).len(), 1);
    assert!(
        exit.success(),
        "the server must stop cleanly on SIGINT with a closed stderr: {exit:?}"
    );
}

#[test]
fn schemas_check_and_diff() {
    let dir = schemas_dir();
    let o = run(&["schemas", "check", "--schemas", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("ok: 37 families, 120 variant/action pairs"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&[
        "schemas",
        "diff",
        dir.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let o = run(&["schemas", "check", "--schemas", "/nonexistent/dir"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn output_of_another_job_is_refused_and_stop_on_error_leaves_items_for_later() {
    let sandbox =
        Sandbox::start_blocking(SandboxConfig::new(schemas_dir()).strict_gateway(true)).unwrap();
    let base = sandbox.base_url();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o.jsonl");
    let out_s = out.to_str().unwrap();
    let job = |extra: &[&str]| {
        bin()
            .args([
                "run",
                "esm2-8m",
                "encode",
                "-o",
                out_s,
                "--base-url",
                &base,
                "-q",
            ])
            .args(["--batch-size", "1", "--concurrency", "1"])
            .args(extra)
            .env("BIOLM_TOKEN", "test")
            .output()
            .unwrap()
    };
    // The second item is invalid: with --stop-on-error the third is never sent.
    let seqs = [
        "--sequence",
        "MKTAYIAK",
        "--sequence",
        "MK1",
        "--sequence",
        "QRQISFVK",
    ];
    let o = job(&[&seqs[..], &["--stop-on-error"]].concat());
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("1 ok, 1 failed, 1 not attempted"), "{err}");
    assert!(
        err.contains("--sequence #2: item 1: sequence: character '1'"),
        "{err}"
    );
    let lines = result_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(lines.len(), 2);
    // The same job again completes the item not attempted (and keeps the failed one).
    // It still exits 1: the file holds a failed item.
    let o = job(&seqs);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("1 ok, 0 failed, 0 not attempted, 2 already done (1 of them failed)"),
        "{err}"
    );
    assert!(
        err.contains("1 items in") && err.contains("failed in an earlier run"),
        "{err}"
    );
    let lines = result_lines(&std::fs::read_to_string(&out).unwrap());
    let mut idx: Vec<u64> = lines.iter().map(|l| l["index"].as_u64().unwrap()).collect();
    idx.sort();
    assert_eq!(idx, [0, 1, 2]);
    // Other params make another job: refused, file untouched.
    let before = std::fs::read(&out).unwrap();
    let o = job(&[&seqs[..], &["--params", r#"{"include": ["mean"]}"#]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("holds the results of another job"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
    // A catalog gateway (/api/v1) needs no token.
    let o = bin()
        .args([
            "run",
            "esm2-8m",
            "encode",
            "--sequence",
            "MKTAYIAK",
            "--base-url",
            &sandbox.gateway_url(),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// A file written by the SDK's `Call::write_jsonl` is the same job to the CLI
/// (same header, same fingerprint), so the CLI resumes it instead of refusing it.
#[test]
fn sdk_written_jsonl_is_resumed_by_the_cli() {
    let sandbox = Sandbox::start_blocking(SandboxConfig::new(schemas_dir())).unwrap();
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("six.fasta");
    write_fasta(&fasta, 6);
    let out = d.path().join("sdk.jsonl");
    let spec = biolm::catalog::find("esm2-8m")
        .and_then(|v| v.action("encode"))
        .unwrap();
    let seq = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQ";
    let items: Vec<Value> = (0..6)
        .map(|_| serde_json::json!({ "sequence": seq }))
        .collect();
    let ids: Vec<String> = (0..6).map(|i| format!("seq{i}")).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let summary = rt
        .block_on(async {
            let client = biolm::Client::builder()
                .base_url(sandbox.base_url())
                .token("t")
                .build()
                .unwrap();
            client
                .call::<Value, Value, Value, _>(spec, items)
                .ids(ids)
                .write_jsonl(&out)
                .await
        })
        .unwrap();
    assert_eq!(summary.succeeded, 6);
    // The CLI, on the same input and output files as the SDK's call.
    let run_cli = || {
        bin()
            .args(["run", "esm2-8m", "encode", "-i", fasta.to_str().unwrap()])
            .args(["-o", out.to_str().unwrap()])
            .args(["--base-url", &sandbox.base_url(), "-q"])
            .env("BIOLM_TOKEN", "t")
            .output()
            .unwrap()
    };
    let o = run_cli();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("0 ok, 0 failed, 0 not attempted, 6 already done"),
        "{err}"
    );
    // Same model and params, but input item 3 differs from its line in the file:
    // refused (exit 2) naming the item and the file line, the file left as it was.
    let before = std::fs::read(&out).unwrap();
    let line_of_3 = String::from_utf8(before.clone())
        .unwrap()
        .lines()
        .position(|l| l.starts_with("{\"index\":3,"))
        .unwrap()
        + 1;
    let changed = std::fs::read_to_string(&fasta).unwrap().replacen(
        ">seq3 record 3\nMKTAYIAK",
        ">seq3 record 3\nMKTAYIAR",
        1,
    );
    std::fs::write(&fasta, changed).unwrap();
    let o = run_cli();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sdk.jsonl was written by a different job")
            && err.contains(&format!(
                "input item 3 (or its id) differs (file line {line_of_3})"
            )),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

/// `biolm run esm2-8m encode -i FASTA --sandbox`, its stdout and stderr piped to us.
fn spawn_on_sandbox(fasta: &Path) -> Child {
    bin()
        .args(["run", "esm2-8m", "encode", "-i"])
        .arg(fasta)
        .arg("--sandbox")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_closed_stderr_loses_messages_not_the_run() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    write_fasta(&fasta, 300);
    let mut child = spawn_on_sandbox(&fasta);
    // Close our end of stderr before the CLI writes its first status line.
    drop(child.stderr.take());
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(result_lines(&out).len(), 300);
}

#[test]
fn a_closed_stdout_stops_the_run_with_status_141() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    write_fasta(&fasta, 3000);
    let mut child = spawn_on_sandbox(&fasta);
    // Read one line, as `| head -1` would, then close the pipe.
    let mut first = String::new();
    {
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(result_lines(&first).len(), 1, "{first}");
    assert_eq!(status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_run_that_failed_while_the_server_was_down_is_finished_with_retry_failed() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    write_fasta(&fasta, 40);
    let out = d.path().join("out.jsonl");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let job = |extra: &[&str]| {
        let mut c = bin();
        c.env("BIOLM_TOKEN", "t")
            .args(["run", "esm2-8m", "encode", "-q", "-i"])
            .arg(&fasta)
            .arg("-o")
            .arg(&out)
            .args(extra);
        c.output().unwrap()
    };
    // Nothing listens: every item fails (fast), and gets an error line.
    let url = format!("http://127.0.0.1:{port}/api/v3");
    let o = job(&["--base-url", &url]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let errors = |s: &str| s.lines().filter(|l| l.contains("\"error\":")).count();
    assert_eq!(errors(&std::fs::read_to_string(&out).unwrap()), 40);

    // A plain re-run keeps the error lines and says how to retry them.
    let o = job(&["--sandbox"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--retry-failed"),
        "{}",
        text(&o.stderr)
    );

    // --retry-failed sends exactly those items again.
    let o = job(&["--sandbox", "--retry-failed"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("retrying 40 items that failed in an earlier run"),
        "{err}"
    );
    let file = std::fs::read_to_string(&out).unwrap();
    assert_eq!(errors(&file), 0);
    let mut indexes: Vec<u64> = result_lines(&file)
        .iter()
        .map(|v| v["index"].as_u64().unwrap())
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..40).collect::<Vec<_>>(), "one line per item");

    // Without -o there is nothing to retry: a usage error.
    let o = run(&[
        "run",
        "esm2-8m",
        "encode",
        "-s",
        "MK",
        "--sandbox",
        "--retry-failed",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

#[test]
fn timeout_and_max_attempts_reach_the_client() {
    // Every request stalls: each item fails after exactly --max-attempts
    // attempts of --timeout each.
    let sandbox = Sandbox::start_blocking(
        SandboxConfig::new(schemas_dir())
            .faults(1.0, [biolm_sandbox::FaultKind::Stall], 1)
            .stall(Duration::from_secs(30)),
    )
    .unwrap();
    let base = sandbox.base_url();
    let started = Instant::now();
    let o = bin()
        .env("BIOLM_TOKEN", "t")
        .args(["run", "esm2-8m", "encode", "-s", "MKTAYIAK", "-q"])
        .args([
            "--base-url",
            &base,
            "--timeout",
            "0.3",
            "--max-attempts",
            "2",
        ])
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("timed out") && err.contains("gave up after 2 attempts"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.stats().requests, 2, "{err}");

    for (flag, value, says) in [
        ("--timeout", "0", "positive number of seconds"),
        ("--timeout", "soon", "not a number of seconds"),
        ("--max-attempts", "0", "give at least 1"),
    ] {
        let o = bin()
            .env("BIOLM_TOKEN", "t")
            .args(["run", "esm2-8m", "encode", "-s", "MK", "--base-url", &base])
            .args([flag, value])
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(
            err.contains(flag) && err.contains(says),
            "{flag} {value}: {err}"
        );
    }
}
