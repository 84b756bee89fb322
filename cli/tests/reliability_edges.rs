//! Issue 10: nothing is lost at the edges. Each test runs the real `biolm`
//! binary: inputs that can be read only once, output files the tool did not
//! write, two runs on one output, outputs that are pipes, devices or `.gz`
//! files, structure files of repeated ids across a resume, secrets in
//! everything written, signals, and the smaller edges (escape codes, a closed
//! stdout, `--batch-size` over the limit, a trailing comma).

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use biolm_sandbox::{Latency, LatencyScope, Sandbox, SandboxConfig};
use serde_json::Value;
use support::{bin, schemas_dir, text};

fn fasta_text(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(">seq{i}\nMKTAYIAKQR{}\n", "G".repeat(i % 5)));
    }
    s
}

/// Result or error lines (with an "index") of JSONL text.
fn item_lines(s: &str) -> Vec<Value> {
    s.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("index").is_some())
        .collect()
}

/// Waits for `child` at most `secs` seconds; kills it and fails the test if it hangs.
fn wait_bounded(mut child: Child, secs: u64, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {secs} s (a hang); stderr: {}",
                text(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success(), "mkfifo failed");
}

fn slow_sandbox(ms: u64) -> Sandbox {
    Sandbox::start_blocking(SandboxConfig::new(schemas_dir()).latency(
        Latency::Fixed(Duration::from_millis(ms)),
        LatencyScope::PerRequest,
    ))
    .unwrap()
}

fn run_on(base: &str) -> Command {
    let mut c = bin();
    c.env("BIOLM_TOKEN", "test-token")
        .args(["run", "esm2-8m", "encode", "--base-url", base, "-q"]);
    c
}

/// Item 1: `-i /dev/stdin` (a pipe) and a named FIFO are read once, validated
/// and sent: every item gets its line, never "0 ok" with exit 0, never a hang.
#[test]
fn inputs_that_can_be_read_once_are_read_once() {
    let d = tempfile::tempdir().unwrap();
    let sb = Sandbox::start_blocking(SandboxConfig::new(schemas_dir())).unwrap();
    let base = sb.base_url();
    let n = 20;

    // /dev/stdin as a path, stdin a pipe, with and without -o.
    for with_output in [true, false] {
        let out = d.path().join(format!("stdin-{with_output}.jsonl"));
        let mut c = run_on(&base);
        c.args(["-i", "/dev/stdin", "--input-format", "fasta"]);
        if with_output {
            c.arg("-o").arg(&out);
        }
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(fasta_text(n).as_bytes()).unwrap();
        drop(stdin);
        let o = wait_bounded(child, 60, "-i /dev/stdin");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let body = if with_output {
            std::fs::read_to_string(&out).unwrap()
        } else {
            text(&o.stdout)
        };
        assert_eq!(item_lines(&body).len(), n, "with -o: {with_output}: {body}");
    }

    // A named FIFO, with -o.
    let fifo = d.path().join("in.fasta");
    mkfifo(&fifo);
    let out = d.path().join("fifo.jsonl");
    let child = run_on(&base)
        .arg("-i")
        .arg(&fifo)
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(fasta_text(n).as_bytes()).unwrap();
        })
    };
    let o = wait_bounded(child, 60, "-i FIFO");
    writer.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let body = std::fs::read_to_string(&out).unwrap();
    assert_eq!(item_lines(&body).len(), n, "{body}");
    assert!(body.starts_with("{\"biolm_jsonl\":2,"), "{body}");
}

/// Item 2: an existing `-o` file without our header (no newline, binary, the
/// input itself) is refused, untouched, naming the file.
#[test]
fn files_the_tool_did_not_write_are_never_truncated() {
    let d = tempfile::tempdir().unwrap();
    let items = d.path().join("items.json");
    std::fs::write(
        &items,
        br#"[{"sequence": "MKTAYIAKQR"}, {"sequence": "MKA"}]"#,
    )
    .unwrap();
    let notes = d.path().join("notes.txt");
    let binary = d.path().join("blob.bin");
    let blob: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&notes, b"call the lab about the plasmids").unwrap();
    std::fs::write(&binary, &blob).unwrap();
    for (path, body, says) in [
        (
            &notes,
            b"call the lab about the plasmids".to_vec(),
            "not a biolm JSONL header",
        ),
        (&binary, blob.clone(), "not a biolm JSONL header"),
        (&items, std::fs::read(&items).unwrap(), "is the input file"),
    ] {
        let o = bin()
            .args(["run", "esm2-8m", "encode", "--sandbox", "-q", "-i"])
            .arg(&items)
            .arg("-o")
            .arg(path)
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", path.display());
        assert!(
            err.contains(&path.display().to_string()) && err.contains(says),
            "{err}"
        );
        assert_eq!(
            &std::fs::read(path).unwrap(),
            &body,
            "{} was changed",
            path.display()
        );
    }
}

/// Item 3: a second run on an output another run holds is refused; the first
/// run's file is complete and resumable.
#[test]
fn a_second_run_on_the_same_output_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    let n = 60;
    std::fs::write(&fasta, fasta_text(n)).unwrap();
    let out = d.path().join("out.jsonl");
    let sb = slow_sandbox(50);
    let base = sb.base_url();
    let run = |c: &mut Command| {
        c.arg("-i").arg(&fasta).arg("-o").arg(&out).args([
            "--concurrency",
            "1",
            "--batch-size",
            "2",
        ]);
    };
    let mut first = run_on(&base);
    run(&mut first);
    let first = first
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first run holds the file once it has written its header.
    let start = Instant::now();
    while std::fs::read_to_string(&out).map_or(true, |s| item_lines(&s).is_empty()) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the first run never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut second = run_on(&base);
    run(&mut second);
    let o = second.output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&out.display().to_string()) && err.contains("another run holds it"),
        "{err}"
    );
    let o = wait_bounded(first, 120, "the first run");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let body = std::fs::read_to_string(&out).unwrap();
    let lines = item_lines(&body);
    assert_eq!(lines.len(), n, "{body}");
    let mut idx: Vec<u64> = lines.iter().map(|l| l["index"].as_u64().unwrap()).collect();
    idx.sort_unstable();
    assert_eq!(idx, (0..n as u64).collect::<Vec<_>>());
    // Resumable: the same command finds everything done.
    let mut again = run_on(&base);
    run(&mut again);
    let o = again.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), body);
}

/// Item 4: `-o` to a pipe (`/dev/stdout | cat`), a FIFO and `/dev/null` streams
/// without reading, never hangs or fails with EINVAL; `-o x.jsonl.gz` writes
/// gzip and refuses to resume it, leaving it as it was.
#[test]
fn pipes_devices_and_gzip_outputs() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    let n = 12;
    std::fs::write(&fasta, fasta_text(n)).unwrap();
    let sandbox = |c: &mut Command| {
        c.args(["run", "esm2-8m", "encode", "--sandbox", "-q", "-i"])
            .arg(&fasta);
    };

    // /dev/stdout, a pipe to us.
    let mut c = bin();
    sandbox(&mut c);
    let child = c
        .args(["-o", "/dev/stdout"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let o = wait_bounded(child, 60, "-o /dev/stdout");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(item_lines(&text(&o.stdout)).len(), n, "{err}");
    assert!(err.contains("cannot be resumed"), "{err}");

    // /dev/null.
    let mut c = bin();
    sandbox(&mut c);
    let o = c.args(["-o", "/dev/null"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

    // A FIFO with a reader.
    let fifo = d.path().join("out.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        })
    };
    let mut c = bin();
    sandbox(&mut c);
    let child = c
        .arg("-o")
        .arg(&fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let o = wait_bounded(child, 60, "-o FIFO");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(item_lines(&reader.join().unwrap()).len(), n);

    // Gzip.
    let gz = d.path().join("out.jsonl.gz");
    let mut c = bin();
    sandbox(&mut c);
    let o = c.arg("-o").arg(&gz).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let bytes = std::fs::read(&gz).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "not gzip");
    let mut plain = String::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert_eq!(item_lines(&plain).len(), n, "{plain}");
    let mut c = bin();
    sandbox(&mut c);
    let o = c.arg("-o").arg(&gz).output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not resumed"), "{err}");
    assert_eq!(std::fs::read(&gz).unwrap(), bytes);
}

/// Item 5: with repeated ids, a resumed run never writes an item's structure
/// into another item's file: each file holds its own item's structure.
#[test]
fn structure_files_of_repeated_ids_survive_a_resume() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    std::fs::write(&fasta, ">a\nMKTAYIAKQR\n>b\nMDNELE\n>a\nGSHMKLV\n").unwrap();
    let out = d.path().join("out.jsonl");
    let dir = d.path().join("pdb");
    let run = || {
        bin()
            .args(["run", "esmfold", "predict", "--sandbox", "-q", "-i"])
            .arg(&fasta)
            .arg("-o")
            .arg(&out)
            .arg("--structures-dir")
            .arg(&dir)
            .output()
            .unwrap()
    };
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // An interrupted first run: item 2's line is missing, item 0's file is there.
    let body = std::fs::read_to_string(&out).unwrap();
    let kept: String = body
        .lines()
        .filter(|l| !l.starts_with("{\"index\":2,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&out, kept).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines = item_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(lines.len(), 3);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.0.pdb", "a.2.pdb", "b.pdb"]);
    for l in &lines {
        let i = l["index"].as_u64().unwrap();
        let name = match i {
            1 => "b.pdb".to_string(),
            _ => format!("a.{i}.pdb"),
        };
        let file = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert_eq!(
            file,
            l["result"]["pdb"].as_str().unwrap(),
            "{name} does not hold item {i}'s structure"
        );
    }
}

/// A one-request-per-connection HTTP server that echoes the Authorization
/// header and everything else it was sent in headers, error keys and bodies.
struct EchoServer {
    port: u16,
    request_lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn echo_server() -> EchoServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let request_lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let lines = request_lines.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let lines = lines.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 8192];
                let head_end = loop {
                    let Ok(n) = s.read(&mut tmp) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_string())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let Ok(n) = s.read(&mut tmp) else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
                lines
                    .lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or("").to_string());
                let auth = head
                    .lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                            .map(|(_, v)| v.trim().to_string())
                    })
                    .unwrap_or_default();
                let first = head.lines().next().unwrap_or("").to_string();
                let (status, payload) = if body.contains("MKTAYIAKQR") {
                    (
                        "200 OK",
                        serde_json::json!({"results": [{
                            "pdb": format!("HEADER {auth}\nATOM      1  CA  MET A   1      11.104  13.207   2.100  1.00 80.00           C\nREMARK {first}\nEND\n"),
                            "mean_plddt": 80.0,
                            "note": format!("echo {auth} {first}"),
                        }]}),
                    )
                } else {
                    (
                        "500 Internal Server Error",
                        serde_json::json!({"error": {
                            format!("items__0__{}", auth.replace(' ', "_")): [format!("echo {auth} {first}")],
                        }}),
                    )
                };
                let payload = payload.to_string();
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {auth} {first}\r\nconnection: close\r\n\r\n{payload}",
                    payload.len()
                );
                let _ = s.write_all(resp.as_bytes());
            });
        }
    });
    EchoServer {
        port,
        request_lines,
    }
}

/// Item 6: the token, a URL password and a query value appear in no byte the
/// CLI writes (stdout, stderr, the output file, structure files), although
/// the server echoes them in headers, error keys and bodies; the request path
/// goes before the base URL's query string.
#[test]
fn secrets_appear_in_nothing_the_cli_writes() {
    const TOKEN: &str = "sk-edge-T0k3nV4lu3Qz";
    const PASSWORD: &str = "pw-S3cr3tPa55";
    const QUERY: &str = "qk-Qu3ryK3yV4l";
    let server = echo_server();
    let base = format!(
        "http://alice:{PASSWORD}@127.0.0.1:{}/api/v3?key={QUERY}",
        server.port
    );
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out.jsonl");
    let dir = d.path().join("pdb");
    let fasta = d.path().join("in.fasta");
    std::fs::write(&fasta, ">ok\nMKTAYIAKQR\n>fails\nMDNELE\n").unwrap();
    let mut everything: Vec<(String, Vec<u8>)> = Vec::new();
    for with_output in [true, false] {
        let mut c = bin();
        c.env("BIOLM_TOKEN", TOKEN)
            .args([
                "run",
                "esmfold",
                "predict",
                "--max-attempts",
                "1",
                "--batch-size",
                "1",
            ])
            .arg("--base-url")
            .arg(&base)
            .arg("-i")
            .arg(&fasta)
            .arg("--structures-dir")
            .arg(&dir);
        if with_output {
            c.arg("-o").arg(&out);
        }
        let o = c.output().unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        // Item 7: the server's fault naming the item is transient, not a rejection.
        assert!(
            err.contains("1 of the failures were transient") && !err.contains("fix it"),
            "{err}"
        );
        if with_output {
            assert!(err.contains("--retry-failed"), "{err}");
        }
        everything.push((format!("stdout (-o: {with_output})"), o.stdout));
        everything.push((format!("stderr (-o: {with_output})"), o.stderr));
    }
    everything.push(("the output file".into(), std::fs::read(&out).unwrap()));
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        everything.push((p.display().to_string(), std::fs::read(&p).unwrap()));
    }
    let all: String = everything.iter().map(|(_, b)| text(b)).collect();
    assert!(
        all.contains("echo"),
        "the server's echo never came back: {all}"
    );
    for (what, bytes) in &everything {
        let t = text(bytes);
        for secret in [TOKEN, PASSWORD, QUERY] {
            assert!(!t.contains(secret), "{secret} leaked into {what}: {t}");
        }
    }
    let requests = server.request_lines.lock().unwrap().clone();
    assert!(!requests.is_empty());
    for r in &requests {
        assert!(
            r.starts_with(&format!("POST /api/v3/esmfold/predict/?key={QUERY} ")),
            "the path must go before the query: {r}"
        );
    }
}

fn signal(child: &Child, name: &str) {
    let st = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Item 8 (signals): SIGINT/SIGTERM stop sending, the requests in flight
/// finish, the output is flushed, the summary and the command that resumes
/// are printed, the exit status is 130/143, and the same command finishes
/// the job.
#[test]
fn sigint_and_sigterm_stop_cleanly_and_say_how_to_resume() {
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let d = tempfile::tempdir().unwrap();
        let fasta = d.path().join("in.fasta");
        let n = 400;
        std::fs::write(&fasta, fasta_text(n)).unwrap();
        let out = d.path().join("out.jsonl");
        let sb = slow_sandbox(60);
        let base = sb.base_url();
        let cmd = || {
            let mut c = run_on(&base);
            c.arg("-i").arg(&fasta).arg("-o").arg(&out).args([
                "--concurrency",
                "2",
                "--batch-size",
                "2",
            ]);
            c
        };
        let child = cmd()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while std::fs::read_to_string(&out).map_or(0, |s| item_lines(&s).len()) < 10 {
            assert!(start.elapsed() < Duration::from_secs(30), "no progress");
            std::thread::sleep(Duration::from_millis(10));
        }
        signal(&child, sig);
        let o = wait_bounded(child, 30, "an interrupted run");
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "SIG{sig}: {err}");
        assert!(
            err.contains("interrupted") && err.contains(" ok, "),
            "{err}"
        );
        assert!(err.contains("run the same command again"), "{err}");
        assert!(err.contains(&out.display().to_string()), "{err}");
        let body = std::fs::read_to_string(&out).unwrap();
        assert!(body.ends_with('\n'), "a torn last line after SIG{sig}");
        let done = item_lines(&body).len();
        assert!(done < n, "the run finished before the signal");
        // Every line is whole and the file resumes to the full result.
        let o = cmd().output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let lines = item_lines(&std::fs::read_to_string(&out).unwrap());
        assert_eq!(lines.len(), n);
    }
}

/// Item 8 (smaller edges): escape codes in an id are not printed raw; a
/// closed stdout without -o is an error; --batch-size over the limit says
/// so; a trailing comma in a JSON array is refused with file and line.
#[test]
fn the_smaller_edges() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("evil.fasta");
    std::fs::write(&fasta, ">\x1b]0;pwned\x07\x1b[31mred\nMK1T\n").unwrap();
    let o = bin()
        .args(["run", "esm2-8m", "encode", "--sandbox", "-q", "-i"])
        .arg(&fasta)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("red"), "{err}");
    assert!(
        !o.stderr.contains(&0x1b) && !o.stderr.contains(&0x07),
        "raw control characters on stderr: {err:?}"
    );

    // A closed stdout: the results would go nowhere.
    let good = d.path().join("good.fasta");
    std::fs::write(&good, ">a\nMKTAYIAKQR\n").unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" run esm2-8m encode --sandbox -q -i \"$1\" >&-")
        .arg(env!("CARGO_BIN_EXE_biolm"))
        .arg(&good)
        .env_remove("BIOLM_TOKEN")
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("standard output is closed"), "{err}");

    // --batch-size over the model's limit.
    let o = bin()
        .args(["run", "esm2-8m", "encode", "--sandbox", "-q", "-i"])
        .arg(&good)
        .args(["--batch-size", "1000"])
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("--batch-size 1000 is over"), "{err}");

    // A trailing comma.
    let json: PathBuf = d.path().join("items.json");
    std::fs::write(
        &json,
        "[\n  {\"sequence\": \"MKT\"},\n  {\"sequence\": \"MKA\"},\n]\n",
    )
    .unwrap();
    let o = bin()
        .args(["run", "esm2-8m", "encode", "--sandbox", "-q", "-i"])
        .arg(&json)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}:4:", json.display())) && err.contains("trailing comma"),
        "{err}"
    );
}

/// Item 6: a token that would go over plain http to a host that is not
/// loopback is warned about, once; loopback and https are not.
#[test]
fn a_token_over_plain_http_to_a_remote_host_is_warned_about_once() {
    const TOKEN: &str = "sk-plain-Wm4Xc8Vb2N";
    let run = |base: &str| {
        bin()
            .env("BIOLM_TOKEN", TOKEN)
            .args(["run", "esm2-8m", "encode", "-q", "-s", "MKT", "-s", "MKA"])
            .args([
                "--base-url",
                base,
                "--timeout",
                "0.3",
                "--max-attempts",
                "1",
            ])
            .output()
            .unwrap()
    };
    // TEST-NET-1: never routed, so nothing is sent anywhere.
    let o = run("http://192.0.2.1:9/api/v3");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("plain http to 192.0.2.1").count(), 1, "{err}");
    assert!(!err.contains(TOKEN), "{err}");
    let o = run("http://127.0.0.1:9/api/v3");
    let err = text(&o.stderr);
    assert!(!err.contains("plain http"), "{err}");
}
