//! Resumable JSONL output of a call, streamed: memory stays bounded by the
//! requests in flight (plus 16 bytes per item already in a resumed file),
//! whatever the input length.
//!
//! The file starts with a header line naming the job:
//! `{"biolm_jsonl":2,"fingerprint":"<sha256>","model":"esm2-8m","action":"encode","items":N}`.
//! The fingerprint ([`job_fingerprint`]) is the SHA-256 of the model, the
//! action and the params (canonical JSON: object keys sorted; no params, `null`
//! and `{}` are the same); `items` is the input length when known up front,
//! else `null`. Then one line per item, written as results complete (in
//! completion order):
//! `{"index":i,"item_sha":"<16 hex>","id":"<caller id>","result":<the server's result>}` or
//! `{"index":i,"item_sha":"<16 hex>","id":"<caller id>","error":{"kind":..,"field":..,"status":..,"request_id":..,"message":..}}`.
//! `item_sha` ([`item_sha`]) is the first 64 bits of the SHA-256 of the item's
//! canonical JSON and its id. Items never attempted get no line.
//!
//! Running the same job on the same path resumes: as the input streams by, an
//! item whose index is already in the file is compared with the line's
//! `item_sha` and skipped (never sent), the rest are sent, so the file ends
//! with exactly one line per item (no duplicates, no gaps). An error line
//! counts as done; [`drop_error_lines`] removes them, so that the next run
//! sends just those items again. A torn last line
//! (a run killed mid-write) is cut off first. A file of another job is
//! refused: other model, action or params up front
//! ([`crate::Error::ResumeMismatch`]); an input item (or id) that differs
//! from the file's, or a file line for an index the input does not have, as
//! soon as the input reaches it ([`crate::Error::ResumeItemMismatch`], naming
//! the item and the file line). The file is then cut back to what it held
//! before the run, so a refused run leaves it as it was.
//!
//! The CLI (`biolm run -o out.jsonl`) writes and resumes the same format with
//! the public pieces of this module ([`scan`], [`job_fingerprint`],
//! [`item_sha`], [`write_line`]), so each resumes the other's files.

mod line;
mod merge;
mod scan;

use std::path::PathBuf;

#[cfg(feature = "parquet")]
pub(crate) use line::write_light_line;
pub use line::{
    canonical_json, header_line, header_line_of_shard, item_sha, job_fingerprint, write_line,
};
pub(crate) use line::{item_line, write_line_text};
pub use merge::{merge, MergeSummary};
pub(crate) use scan::drop_errors_locked;
pub use scan::{
    drop_error_lines, drop_scanned_error_lines, find_line, item_mismatch_message, past_end_message,
    scan, DoneSet, Existing,
};

/// Format version in the header line (`"biolm_jsonl"`).
pub const FORMAT: u32 = 2;

/// What a [`Call::write_jsonl`](crate::Call::write_jsonl) run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonlSummary {
    /// The output file.
    pub path: PathBuf,
    /// The job's fingerprint (in the header line).
    pub fingerprint: String,
    /// Items in the job.
    pub total: usize,
    /// Items skipped because the file already had their line.
    pub skipped: usize,
    /// Result lines written by this run.
    pub succeeded: usize,
    /// Error lines written by this run.
    pub failed: usize,
    /// Items left without a line (the run stopped after a failure); a re-run completes them.
    pub not_attempted: usize,
}

#[cfg(test)]
mod tests {
    use super::line::fast_line;
    use super::*;
    use serde_json::Value;

    const HEADER: &str =
        r#"{"biolm_jsonl":2,"fingerprint":"abc","model":"m","action":"a","items":3}"#;

    #[test]
    fn drop_error_lines_keeps_results_and_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        assert_eq!(drop_error_lines(&p).unwrap(), 0, "no file: nothing to do");
        let ok = r#"{"index":2,"item_sha":"00000000000000f2","result":{"error":"a result field"}}"#;
        let body = format!(
            "{HEADER}\n{ok}\n\
             {{\"index\":0, \"item_sha\":\"00000000000000a0\",\"error\":{{}}}}\n\
             {{\"index\":1,\"item_sha\":\"00000000000000a1\",\"error\":{{\"message\":\"down\"}}}}\n{{\"index\":1,\"res"
        );
        std::fs::write(&p, &body).unwrap();
        assert_eq!(drop_error_lines(&p).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{HEADER}\n{ok}\n"),
            "error lines and the torn tail are gone; the result whose value holds an \"error\" key stays"
        );
        let ex = scan(&p).unwrap().unwrap();
        assert_eq!((ex.done.len(), ex.done.failed()), (1, 0));
        let unchanged = std::fs::metadata(&p).unwrap().modified().unwrap();
        assert_eq!(drop_error_lines(&p).unwrap(), 0);
        assert_eq!(
            std::fs::metadata(&p).unwrap().modified().unwrap(),
            unchanged
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );

        // On a file already scanned, what it returns is what a new scan reads.
        std::fs::write(&p, &body).unwrap();
        let (removed, now) = drop_scanned_error_lines(&p, scan(&p).unwrap().unwrap()).unwrap();
        let again = scan(&p).unwrap().unwrap();
        assert_eq!(removed, 2);
        assert_eq!(
            (now.fingerprint, now.items),
            (again.fingerprint, again.items)
        );
        assert_eq!(
            (now.good_len, now.file_len),
            (again.good_len, again.file_len)
        );
        assert_eq!((now.done.len(), now.done.failed()), (1, 0));
        assert_eq!(now.done.sha(2), again.done.sha(2));
    }

    #[test]
    fn drop_error_lines_refuses_a_foreign_file_and_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        let body = format!("{HEADER}\n{{\"index\":0,\"item_sha\":\"00000000000000a0\",\"error\":{{}}}}\nnot json\n");
        std::fs::write(&p, &body).unwrap();
        let e = drop_error_lines(&p).unwrap_err().to_string();
        assert!(e.contains("out.jsonl:3"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), body);
    }

    #[test]
    fn scan_finds_indexes_hashes_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        assert!(scan(&p).unwrap().is_none());
        let body = format!(
            "{HEADER}\n{{\"index\":2,\"item_sha\":\"00000000000000f2\",\"result\":[1]}}\n\
             {{\"index\":0, \"item_sha\":\"00000000000000a0\",\"error\":{{}}}}\n{{\"index\":1,\"res"
        );
        std::fs::write(&p, &body).unwrap();
        let ex = scan(&p).unwrap().unwrap();
        assert_eq!(ex.fingerprint, "abc");
        assert_eq!(ex.items, Some(3));
        assert_eq!(ex.done.len(), 2);
        assert_eq!(ex.done.failed(), 1);
        assert_eq!(ex.done.matches(2, 0xf2), Some(true));
        assert_eq!(ex.done.matches(2, 0xf4), Some(false));
        assert_eq!(ex.done.matches(0, 0xa0), Some(true));
        assert_eq!(ex.done.matches(1, 0xa0), None);
        assert_eq!(ex.file_len as usize, body.len());
        assert_eq!(ex.good_len as usize, body.rfind('\n').unwrap() + 1);
        assert_eq!(find_line(&p, 0), Some(3));
    }

    #[test]
    fn scan_refuses_foreign_and_old_files_with_the_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, "{\"sequence\":\"MKT\"}\n").unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(
            e.contains("x.jsonl:1:") && e.contains("not a biolm JSONL header"),
            "{e}"
        );
        std::fs::write(&p, format!("{HEADER}\n{{\"index\":0}}\nnot json\n")).unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl:2:") && e.contains("item_sha"), "{e}");
        std::fs::write(
            &p,
            format!("{HEADER}\n{{\"index\":0,\"item_sha\":\"0000000000000001\"}}\nnot json\n"),
        )
        .unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl:3:"), "{e}");
        std::fs::write(
            &p,
            format!("{HEADER}\n{{\"index\":7,\"item_sha\":\"0000000000000001\"}}\n"),
        )
        .unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl:2:") && e.contains("has 3 items"), "{e}");
        std::fs::write(
            &p,
            "{\"biolm_jsonl\":1,\"fingerprint\":\"f\",\"model\":\"m\",\"action\":\"a\",\"items\":1}\n",
        )
        .unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("format version 1 is not supported"), "{e}");
    }

    #[test]
    fn scan_counts_a_repeated_line_once_and_refuses_conflicting_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.jsonl");
        let line = |i: u32, sha: &str| {
            format!("{{\"index\":{i},\"item_sha\":\"{sha}\",\"error\":{{}}}}\n")
        };
        let same = format!(
            "{HEADER}\n{}{}{}",
            line(1, "00000000000000b0"),
            line(0, "00000000000000a0"),
            line(1, "00000000000000b0")
        );
        std::fs::write(&p, same).unwrap();
        let ex = scan(&p).unwrap().unwrap();
        assert_eq!((ex.done.len(), ex.done.failed()), (2, 2));
        assert_eq!(ex.done.max_index(), Some(1));
        let conflicting = format!(
            "{HEADER}\n{}{}",
            line(1, "00000000000000b0"),
            line(1, "00000000000000c0")
        );
        std::fs::write(&p, conflicting).unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(
            e.contains("d.jsonl:2:") && e.contains("two lines for item 1"),
            "{e}"
        );
    }

    #[test]
    fn fingerprint_covers_model_action_params_canonically() {
        let p = serde_json::json!({"k": 1, "j": [1, {"b": 2, "a": 1}]});
        let same = serde_json::json!({"j": [1, {"a": 1, "b": 2}], "k": 1});
        let base = job_fingerprint("m", "a", &p);
        assert_eq!(base.len(), 64);
        assert_eq!(base, job_fingerprint("m", "a", &same));
        assert_ne!(base, job_fingerprint("m2", "a", &p));
        assert_ne!(base, job_fingerprint("m", "b", &p));
        assert_ne!(
            base,
            job_fingerprint("m", "a", &serde_json::json!({"k": 2}))
        );
        assert_eq!(
            job_fingerprint("m", "a", &Value::Null),
            job_fingerprint("m", "a", &serde_json::json!({}))
        );
    }

    #[test]
    fn item_sha_covers_the_item_and_its_id() {
        let a = serde_json::json!({"sequence": "A", "x": 1});
        let a2 = serde_json::json!({"x": 1, "sequence": "A"});
        let b = serde_json::json!({"sequence": "B", "x": 1});
        assert_eq!(item_sha(&a, None), item_sha(&a2, None));
        assert_ne!(item_sha(&a, None), item_sha(&b, None));
        assert_ne!(item_sha(&a, None), item_sha(&a, Some("id")));
        assert_ne!(item_sha(&a, Some("x")), item_sha(&a, Some("y")));
        let mut buf = Vec::new();
        write_line(
            &mut buf,
            4,
            item_sha(&a, Some("i\"d")),
            Some("i\"d"),
            None,
            None,
        )
        .unwrap();
        let (i, s, e) = fast_line(&buf).unwrap();
        assert_eq!((i, s, e), (4, item_sha(&a, Some("i\"d")), false));
    }
}
