//! `biolm run -o out.npz` (or `--output-format npz`): NumPy's `.npz`, a zip
//! of the same arrays as the `--output-format npy` directory, read back with
//! `np.load` (pinned numpy of tools/readback/requirements.txt;
//! `BIOLM_ARROW_PYTHON` names its python, which `.ci/run` exports) and
//! compared value by value with the JSONL output of the same job; a run
//! stopped part way resumes from its journal; a finished `.npz` is refused.

mod support;

use std::path::Path;
use std::process::Command;

use support::{
    bin, proteins_fasta_of_lengths, readback_python, run_embeddings, text, EMBEDDING_FASTA,
};

/// Reads `arrays` (a .npz) back with numpy and compares it with `jsonl`;
/// returns the checker's report.
fn check(arrays: &Path, jsonl: &Path) -> Option<String> {
    let py = readback_python()?;
    let o = Command::new(&py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/readback/check_npy.py"))
        .arg(arrays)
        .arg(jsonl)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    Some(text(&o.stdout))
}

/// The member names of a zip, from its central directory (read by `unzip`'s
/// rules: the end record is the last 22 bytes when there is no comment).
fn members(zip: &[u8]) -> Vec<String> {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize;
    let end = zip.len() - 22;
    assert_eq!(u32_at(end), 0x0605_4b50, "no end of central directory");
    let mut at = u32_at(end + 16);
    let mut names = Vec::new();
    for _ in 0..u16_at(end + 10) {
        let (n, e) = (u16_at(at + 28), u16_at(at + 30));
        names.push(String::from_utf8(zip[at + 46..at + 46 + n].to_vec()).unwrap());
        at += 46 + n + e;
    }
    names
}

#[test]
fn npz_holds_the_arrays_of_the_npy_directory_and_the_values_of_the_jsonl() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.fa"), EMBEDDING_FASTA).unwrap();
    // Item b is invalid: an error line in every output (exit 1: one item failed).
    for (out, extra) in [
        ("out.jsonl", &[][..]),
        ("out.npz", &[][..]),
        ("arrays", &["--output-format", "npy"][..]),
        ("arrays.bin", &["--output-format", "npz"][..]),
    ] {
        let o = run_embeddings(d.path(), out, extra);
        assert_eq!(o.status.code(), Some(1), "{out}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("4 ok, 1 failed"),
            "{out}: {}",
            text(&o.stderr)
        );
    }
    let npz = std::fs::read(d.path().join("out.npz")).unwrap();
    assert_eq!(&npz[..4], b"PK\x03\x04");
    assert_eq!(npz, std::fs::read(d.path().join("arrays.bin")).unwrap());
    // The same members as the directory, byte for byte.
    let mut names = members(&npz);
    names.sort();
    let mut dir: Vec<String> = std::fs::read_dir(d.path().join("arrays"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dir.sort();
    assert_eq!(names, dir);
    for f in [
        "embeddings.npy",
        "residue_embeddings_offsets.npy",
        "ids.txt",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} is missing: {names:?}");
    }
    for leftover in [
        "out.npz.partial.jsonl",
        "out.npz.partial",
        "out.npz.partial.d",
    ] {
        assert!(!d.path().join(leftover).exists(), "{leftover} was left");
    }
    // A finished .npz is refused, untouched.
    let o = run_embeddings(d.path(), "out.npz", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("final once written"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(d.path().join("out.npz")).unwrap(), npz);
    // `biolm convert` writes the same file from the JSONL.
    let o = bin()
        .current_dir(d.path())
        .args(["convert", "out.jsonl", "conv.npz"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(d.path().join("conv.npz")).unwrap(), npz);
    let Some(report) = check(&d.path().join("out.npz"), &d.path().join("out.jsonl")) else {
        return;
    };
    assert!(report.contains("4 rows equal"), "{report}");
}

/// A run that stopped part way left its lines in the journal
/// (`out.npz.partial.jsonl`, JSONL of the same job): the same command sends
/// only the missing items and ends with the values of an uninterrupted run.
#[test]
fn a_stopped_npz_run_resumes_from_its_journal() {
    use biolm_sandbox::{Sandbox, SandboxConfig};
    const N: usize = 40;
    let d = tempfile::tempdir().unwrap();
    proteins_fasta_of_lengths(&d.path().join("in.fa"), N, 40);
    let sb = Sandbox::start_blocking(SandboxConfig::new(support::schemas_dir())).unwrap();
    let base = sb.base_url();
    let cmd = |out: &str| {
        support::encode_in(
            d.path(),
            "npz-resume-token",
            &base,
            out,
            &[
                "--batch-size",
                "4",
                "--params",
                r#"{"include":["mean","per_residue"]}"#,
            ],
        )
    };
    let o = cmd("reference.jsonl").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // The journal as a run stopped after 26 items (and a torn 27th line) leaves it.
    let reference = std::fs::read_to_string(d.path().join("reference.jsonl")).unwrap();
    let lines: Vec<&str> = reference.lines().collect();
    let done = 26;
    let mut journal = lines[..=done].join("\n");
    journal.push('\n');
    journal.push_str(&lines[done + 1][..40]);
    std::fs::write(d.path().join("out.npz.partial.jsonl"), journal).unwrap();

    sb.reset_stats();
    let o = cmd("out.npz").output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("already done"), "{err}");
    let sent = sb.stats().items as usize;
    assert_eq!(sent, N - done, "{sent} items sent for {} missing", N - done);
    assert!(!d.path().join("out.npz.partial.jsonl").exists());
    let Some(report) = check(&d.path().join("out.npz"), &d.path().join("reference.jsonl")) else {
        return;
    };
    assert!(report.contains(&format!("{N} rows equal")), "{report}");
}

/// A file or directory of the user's own at a `.npz` or npy path is refused,
/// untouched, and not called a finished output of biolm.
#[test]
fn a_foreign_file_or_directory_at_an_arrays_path_is_refused_as_not_ours() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.fa"), EMBEDDING_FASTA).unwrap();
    std::fs::write(d.path().join("notes.npz"), b"remember the milk").unwrap();
    std::fs::create_dir(d.path().join("mine")).unwrap();
    std::fs::write(d.path().join("mine/notes.txt"), b"remember the milk").unwrap();
    for (out, extra, format) in [
        ("notes.npz", &[][..], "a NumPy .npz output"),
        (
            "mine",
            &["--output-format", "npy"][..],
            "an npy directory output",
        ),
    ] {
        let o = run_embeddings(d.path(), out, extra);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "{out} already exists and is not {format} of biolm (a file or directory of its own, left as it was): write to another path"
            )) && !err.contains("finished output"),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read(d.path().join("notes.npz")).unwrap(),
        b"remember the milk"
    );
    assert_eq!(
        std::fs::read_dir(d.path().join("mine")).unwrap().count(),
        1,
        "the directory was changed"
    );
    assert!(!d.path().join("notes.npz.partial.jsonl").exists());
}
