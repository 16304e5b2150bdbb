#!/usr/bin/env python3
"""test_report.py — unit tests of report.py's target verdicts (issue 6), on made-up runs.

`make test` runs this (it takes well under a second); the benchmark itself never runs
there. Each test builds the JSON lines klamm_bench and run.sh would write, feeds them to
report.main and checks the TARGETS lines it prints.
"""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (after the path is set)


def run(scenario, broker, msgs, p99=10.0, consume=None, evicted=0, records=1000, hwm=None,
        cpu=None):
    """One run's JSON line, with the fields report.py reads."""
    r = {"scenario": scenario, "broker": broker, "ok": True, "produce": True,
         "records": records, "size": 100, "partitions": 1, "producers": 1,
         "p_msgs_per_s": msgs, "p_mb_per_s": msgs / 1e4, "p_p50_ms": p99 / 2,
         "p_p99_ms": p99, "p_max_ms": p99, "p_failed": 0, "consume": consume is not None}
    if consume is not None:
        r.update({"consume_mode": "assign", "c_msgs_per_s": consume, "c_mb_per_s": 1.0,
                  "c_first_ms": 1.0, "c_received": records - evicted,
                  "c_missing": evicted, "c_duplicate": 0, "c_corrupt": 0,
                  "c_log_start": evicted})
    if hwm is not None:
        r["vm_hwm_kib"] = hwm
    if cpu is not None:
        r["broker_cpu_ms"] = cpu
    return r


def targets_of(lines):
    """report.main over these JSON lines; the TARGETS block's lines, stripped."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write(json.dumps({"machine": True, "nproc": 2, "scale": 1, "reps": 2}) + "\n")
        for line in lines:
            f.write(json.dumps(line) + "\n")
        path = f.name
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            report.main(path)
    finally:
        os.unlink(path)
    text = out.getvalue()
    block = text[text.index("TARGETS"):text.index("JSON (medians)")]
    return [line.strip() for line in block.splitlines()[1:] if line.strip()]


class TargetTests(unittest.TestCase):
    def test_produce_ratio_is_the_ratio_of_medians_with_the_pairs_behind_it(self):
        lines = targets_of([run("a", "mock", 100), run("a", "klamm", 90),
                            run("a", "mock", 100), run("a", "klamm", 130),
                            run("a", "mock", 200), run("a", "klamm", 110)])
        # medians: Klamm 110, mock 100 -> 1.10; pairs 0.90, 1.30, 0.55
        self.assertIn("met     a                          produce ratio 1.10 >= 1.0  "
                      "[0.90, 1.30, 0.55]", lines)

    def test_a_ratio_below_one_is_not_met(self):
        lines = targets_of([run("a", "mock", 100), run("a", "klamm", 99)])
        self.assertTrue(any(l.startswith("NOT MET a") and "produce ratio 0.99" in l
                            for l in lines), lines)

    def test_p99_is_compared_with_the_mocks(self):
        lines = targets_of([run("a", "mock", 100, p99=10.0), run("a", "klamm", 100, p99=10.5)])
        self.assertIn("NOT MET a                          p99 10.5 ms <= mock's 10.0 ms", lines)
        lines = targets_of([run("a", "mock", 100, p99=10.0), run("a", "klamm", 100, p99=9.0)])
        self.assertIn("met     a                          p99 9.0 ms <= mock's 10.0 ms", lines)

    def test_consume_is_judged_only_where_the_mock_kept_every_record(self):
        lines = targets_of([run("fit", "mock", 100, consume=100),
                            run("fit", "klamm", 100, consume=80),
                            run("big", "mock", 100, consume=500, evicted=10),
                            run("big", "klamm", 100, consume=50)])
        self.assertTrue(any(l.startswith("NOT MET fit") and "consume ratio 0.80" in l
                            for l in lines), lines)
        self.assertFalse(any("big" in l and "consume" in l for l in lines), lines)

    def test_scaling_rows_against_the_single_partition_row(self):
        lines = targets_of([run("scale 100x100B 1p", "klamm", 1000),
                            run("scale 100x100B 64p", "klamm", 700),
                            run("scale 100x100B 4p 32prod", "klamm", 699)])
        self.assertIn("met     64 partitions keep 70 % >= 70 % of the 1-partition msgs/s", lines)
        self.assertTrue(any(l.startswith("NOT MET 32 producer connections keep 70 %")
                            for l in lines), lines)

    def test_peak_rss_of_the_two_million_record_runs(self):
        lines = targets_of([run("m", "mock", 1, records=2000000),
                            run("m", "klamm", 1, records=2000000, hwm=101 * 1024)])
        self.assertIn("NOT MET peak RSS 101 MiB < 100 MiB in the 2M-record runs", lines)

    def test_a_lost_record_fails_the_exactly_once_line(self):
        lines = targets_of([run("x", "klamm", 1, consume=1),
                            dict(run("y", "klamm", 1, consume=1), c_duplicate=1)])
        self.assertIn("NOT MET every record read back exactly once from Klamm: not in y", lines)


if __name__ == "__main__":
    unittest.main()
