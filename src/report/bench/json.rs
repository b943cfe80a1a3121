//! `bench --json`: one document `{"results": [...]}` (see [`BenchResult`] for the keys).

use crate::stats::bench::{BenchReport, BenchResult};

/// The JSON document, pretty-printed.
pub fn render(results: &[BenchResult]) -> String {
    let mut s = serde_json::to_string_pretty(&BenchReport { results })
        .expect("benchmark results always serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::bench::fixtures::*;

    #[test]
    fn document_shape() {
        let doc = render(&[throughput("unix", 100.0), two_pairs(latency("tcp", 7000))]);
        let v: serde_json::Value = serde_json::from_str(&doc).expect("valid JSON");
        let results = v["results"].as_array().expect("results");
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["mode"], "throughput");
        assert_eq!(results[0]["size_bytes"], 65536);
        assert!(results[0]["bytes_per_sec"].as_f64().expect("number") > 0.0);
        assert!(results[0].get("latency_ns").is_none());
        assert!(results[0].get("pairs").is_none());
        assert_eq!(results[1]["mode"], "latency");
        assert_eq!(results[1]["pin"], "same");
        assert_eq!(results[1]["cpus"][0]["peer"], 0);
        assert_eq!(results[1]["latency_ns"]["p50"], 7000);
        assert_eq!(results[1]["pairs"][1]["pair"], 2);
        assert!(results[1].get("bytes_per_sec").is_none());
    }
}
