#!/usr/bin/env python3
"""report.py — turns klamm_bench's JSON lines (one per run) into the `make bench` table.

    report.py RESULTS.jsonl     medians per scenario and broker: tables, then JSON lines
    report.py --brief < LINE    one line's figures in a few words (progress output)
"""
import json
import statistics
import sys

MOCK_RETENTION = "mock keeps ~5 MiB/partition"


def brief(line):
    r = json.loads(line)
    if r.get("crashed"):
        return "FAILED (no result, exit %s)" % r.get("exit")
    parts = ["ok" if r.get("ok") else "NOT OK"]
    if r.get("produce"):
        parts.append("produce %.0f msg/s p99 %.1f ms failed %d"
                     % (r["p_msgs_per_s"], r["p_p99_ms"], r["p_failed"]))
    if r.get("consume"):
        parts.append("consume %.0f msg/s missing %d (retention %d) dup %d corrupt %d%s"
                     % (r["c_msgs_per_s"], r["c_missing"], r["c_log_start"], r["c_duplicate"],
                        r["c_corrupt"], " TIMEOUT" if r["c_timed_out"] else ""))
    if "vm_hwm_kib" in r:
        parts.append("VmHWM %d MiB" % (r["vm_hwm_kib"] // 1024))
    if "broker_cpu_ms" in r:
        parts.append("broker CPU %d ms" % r["broker_cpu_ms"])
    if "client_cpu_ms" in r:
        parts.append("client CPU %d ms" % r["client_cpu_ms"])
    return "; ".join(parts)


def median(runs, key):
    vals = [r[key] for r in runs if key in r and r[key] is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec="%.0f"):
    return "-" if v is None else spec % v


def table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: " | ".join(str(c).ljust(w) for c, w in zip(cells, widths))
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()


def main(path):
    runs, machine, startups = [], {}, []
    with open(path) as f:
        for text in f:
            text = text.strip()
            if not text:
                continue
            r = json.loads(text)
            if r.get("machine"):
                machine = r
            elif r.get("mode") == "startup":
                startups.append(r)
            else:
                runs.append(r)

    groups = {}  # (scenario, broker) -> runs, in first-seen order
    for r in runs:
        groups.setdefault((r["scenario"], r["broker"]), []).append(r)

    summary = {}
    for (scen, broker), rs in groups.items():
        good = [r for r in rs if r.get("ok")]
        use = good or [r for r in rs if not r.get("crashed")]
        s = {"scenario": scen, "broker": broker, "runs": len(rs), "ok_runs": len(good)}
        for key in ("records", "size", "partitions", "producers", "consume_mode"):
            if use and key in use[0]:
                s[key] = use[0][key]
        for key in ("p_msgs_per_s", "p_mb_per_s", "p_p50_ms", "p_p99_ms", "p_max_ms",
                    "p_failed", "c_msgs_per_s", "c_mb_per_s", "c_first_ms", "c_received",
                    "c_missing", "c_duplicate", "c_corrupt", "c_log_start", "vm_hwm_kib",
                    "broker_cpu_ms", "client_cpu_ms"):
            m = median(use, key)
            if m is not None:
                s[key] = m
        s["produce"] = any(r.get("produce") for r in use)
        s["consume"] = any(r.get("consume") for r in use)
        summary[(scen, broker)] = s

    print("Klamm benchmark — %s cores (nproc), %s repetitions per row, median shown, "
          "BENCH_SCALE=%s" % (machine.get("nproc", "?"), machine.get("reps", "?"),
                              machine.get("scale", "?")))
    print("msgs/s and MB/s count values only (1 MB = 10^6 B); latency = enqueue -> delivery "
          "report per record, acks=all,\nlinger.ms=5, batch.num.messages=10000, "
          "queue.buffering.max.messages=200000 (so under full load it is mostly queueing).")
    print("The mock is librdkafka's in-process mock cluster: same client, same settings, "
          "same loopback TCP, but it runs\ninside the benchmark process (shares its CPU) and "
          "does not write to disk.\n")

    def ratio(scen, key):
        k, m = summary.get((scen, "klamm")), summary.get((scen, "mock"))
        if not k or not m or not k["ok_runs"] or not m["ok_runs"]:
            return "-"
        if k.get(key) is None or not m.get(key):
            return "-"
        return "%.2f" % (k[key] / m[key])

    def okcol(s):
        return "%d/%d" % (s["ok_runs"], s["runs"])

    compared = [sc for sc in dict.fromkeys(k[0] for k in summary) if (sc, "mock") in summary]
    only = [sc for sc in dict.fromkeys(k[0] for k in summary) if (sc, "mock") not in summary]

    rows = []
    for scen in compared:
        for broker in ("klamm", "mock"):
            s = summary.get((scen, broker))
            if not s or not s["produce"]:
                continue
            rows.append([scen, broker, fmt(s.get("p_msgs_per_s")), fmt(s.get("p_mb_per_s"), "%.1f"),
                         fmt(s.get("p_p50_ms"), "%.1f"), fmt(s.get("p_p99_ms"), "%.1f"),
                         fmt(s.get("p_max_ms"), "%.1f"),
                         ratio(scen, "p_msgs_per_s") if broker == "klamm" else "",
                         fmt(s["vm_hwm_kib"] / 1024 if "vm_hwm_kib" in s else None, "%.0f"),
                         fmt(s.get("broker_cpu_ms")), fmt(s.get("client_cpu_ms")), okcol(s)])
    print("PRODUCE (CPU = user + system time of the whole run, produce and consume: broker = "
          "the Klamm process, or the mock's\nthread inside the client; client = the "
          "benchmark process without the mock's thread. Where the mock evicted records the "
          "client\nconsumed only what it kept, so compare client CPU on the fitting rows)")
    table(["scenario", "broker", "msgs/s", "MB/s", "p50 ms", "p99 ms", "max ms",
           "ratio Klamm/mock", "broker RSS MiB", "broker CPU ms", "client CPU ms", "ok runs"],
          rows)

    rows = []
    for scen in compared:
        for broker in ("klamm", "mock"):
            s = summary.get((scen, broker))
            if not s or not s["consume"]:
                continue
            held = s.get("c_log_start", 0)
            if held:
                rows.append([scen, broker, s.get("consume_mode", ""),
                             "n/a: %s, held %d of %d records"
                             % (MOCK_RETENTION, s["records"] - held, s["records"]),
                             "", "", "", "", okcol(s)])
                continue
            if not s["ok_runs"]:
                rows.append([scen, broker, s.get("consume_mode", ""), "FAILED", "", "",
                             "missing %s dup %s corrupt %s" % (fmt(s.get("c_missing")),
                                                               fmt(s.get("c_duplicate")),
                                                               fmt(s.get("c_corrupt"))),
                             "-" if broker == "klamm" else "", okcol(s)])
                continue
            mock = summary.get((scen, "mock"), {})
            comparable = not mock.get("c_log_start")
            verdict = "missing %d dup %d corrupt %d" % (s.get("c_missing", -1),
                                                        s.get("c_duplicate", -1),
                                                        s.get("c_corrupt", -1))
            rows.append([scen, broker, s.get("consume_mode", ""), fmt(s.get("c_msgs_per_s")),
                         fmt(s.get("c_mb_per_s"), "%.1f"), fmt(s.get("c_first_ms"), "%.1f"),
                         verdict,
                         (ratio(scen, "c_msgs_per_s") if comparable else "n/a (mock evicted)")
                         if broker == "klamm" else "", okcol(s)])
    print("CONSUME (read back from offset 0 and verified; compared only where the data fits "
          "the mock's ~5 MiB per partition)")
    table(["scenario", "broker", "mode", "msgs/s", "MB/s", "first rec ms", "verified",
           "ratio Klamm/mock", "ok runs"], rows)

    rows = []
    for scen in only:
        s = summary[(scen, "klamm")]
        rows.append([scen, fmt(s.get("p_msgs_per_s")), fmt(s.get("p_mb_per_s"), "%.1f"),
                     fmt(s.get("p_p50_ms"), "%.1f"), fmt(s.get("p_p99_ms"), "%.1f"),
                     fmt(s.get("p_max_ms"), "%.1f"), fmt(s.get("c_msgs_per_s")),
                     "missing %s dup %s corrupt %s" % (fmt(s.get("c_missing")),
                                                       fmt(s.get("c_duplicate")),
                                                       fmt(s.get("c_corrupt")))
                     if s["consume"] else "-",
                     fmt(s["vm_hwm_kib"] / 1024 if "vm_hwm_kib" in s else None),
                     fmt(s.get("broker_cpu_ms")), okcol(s)])
    if rows:
        print("KLAMM ONLY (scaling; fill and restart-verify belong to the startup row)")
        table(["scenario", "produce msgs/s", "MB/s", "p50 ms", "p99 ms", "max ms",
               "consume msgs/s", "verified", "broker RSS MiB", "broker CPU ms", "ok runs"],
              rows)

    if startups:
        good = [r for r in startups if "startup_ms" in r]
        scen = startups[0]["scenario"]
        print("STARTUP (exec -> port accepts; Klamm only): %s" % scen)
        if good:
            print("  median %.1f ms (runs: %s), SIGTERM -> exit median %.1f ms, "
                  "VmHWM when ready %.0f MiB, exit codes %s\n"
                  % (statistics.median(r["startup_ms"] for r in good),
                     ", ".join("%.1f" % r["startup_ms"] for r in good),
                     statistics.median(r["stop_ms"] for r in good),
                     statistics.median(r["vm_hwm_kib"] for r in good) / 1024,
                     ",".join(str(r["exit_code"]) for r in good)))
        else:
            print("  FAILED: the broker never accepted connections\n")
        summary[("startup", "klamm")] = {
            "scenario": scen, "broker": "klamm", "runs": len(startups), "ok_runs": len(good),
            "startup_ms": statistics.median(r["startup_ms"] for r in good) if good else None,
            "stop_ms": statistics.median(r["stop_ms"] for r in good) if good else None}

    for line in targets(summary, groups):
        print(line)
    print()

    print("JSON (medians)")
    print(json.dumps({"nproc": machine.get("nproc"), "scale": machine.get("scale"),
                      "reps": machine.get("reps")}))
    for s in summary.values():
        print(json.dumps(s, sort_keys=True))
    failed = [s for s in summary.values() if s["ok_runs"] < s["runs"]]
    if failed:
        print("\nNOT OK: %s" % ", ".join("%s/%s (%d of %d runs)" % (s["scenario"], s["broker"],
                                          s["runs"] - s["ok_runs"], s["runs"]) for s in failed))


def pair_ratios(groups, scen, key):
    """Klamm/mock of each interleaved pair (run i of Klamm against run i of the mock): the
    spread behind a median ratio, which on a shared 2-core machine is wide."""
    ks = [r for r in groups.get((scen, "klamm"), []) if r.get("ok")]
    ms = [r for r in groups.get((scen, "mock"), []) if r.get("ok")]
    return [k[key] / m[key] for k, m in zip(ks, ms) if k.get(key) and m.get(key)]


def verdict(ok):
    return "met    " if ok else "NOT MET"


def targets(summary, groups):
    """One line per target of issue 6, judged on the medians: "met" or "NOT MET", the
    figures it was judged on, and for ratios the per-pair spread."""
    out = ["TARGETS (issue 6; judged on the medians above, per-pair ratios in brackets)"]
    for scen in [sc for (sc, b) in summary if b == "klamm" and (sc, "mock") in summary]:
        k, m = summary[(scen, "klamm")], summary[(scen, "mock")]
        if not k["ok_runs"] or not m["ok_runs"]:
            out.append("  NOT MET  %-26s a run failed" % scen)
            continue
        for key, what in (("p_msgs_per_s", "produce"), ("c_msgs_per_s", "consume")):
            if key == "c_msgs_per_s" and (m.get("c_log_start") or not m.get("consume")):
                continue   # the mock evicted records: consume is not comparable
            if k.get(key) is None or not m.get(key):
                continue
            r = k[key] / m[key]
            spread = ", ".join("%.2f" % x for x in pair_ratios(groups, scen, key))
            out.append("  %s %-26s %s ratio %.2f >= 1.0  [%s]"
                       % (verdict(r >= 1.0), scen, what, r, spread))
        if k.get("p_p99_ms") is not None and m.get("p_p99_ms") is not None:
            out.append("  %s %-26s p99 %.1f ms <= mock's %.1f ms"
                       % (verdict(k["p_p99_ms"] <= m["p_p99_ms"]), scen, k["p_p99_ms"],
                          m["p_p99_ms"]))
    scale = {sc: s for (sc, b), s in summary.items() if sc.startswith("scale ")}
    base = next((s for sc, s in scale.items() if sc.endswith(" 1p")), None)
    for suffix, what in ((" 64p", "64 partitions"), (" 32prod", "32 producer connections")):
        row = next((s for sc, s in scale.items() if sc.endswith(suffix)), None)
        if base and row and base.get("p_msgs_per_s") and row.get("p_msgs_per_s") is not None:
            share = row["p_msgs_per_s"] / base["p_msgs_per_s"]
            out.append("  %s %s keep %.0f %% >= 70 %% of the 1-partition msgs/s"
                       % (verdict(share >= 0.7), what, 100 * share))
    start = summary.get(("startup", "klamm"))
    if start and start.get("startup_ms") is not None:
        out.append("  %s startup %.1f ms < 1000 ms over %s"
                   % (verdict(start["startup_ms"] < 1000), start["startup_ms"],
                      start["scenario"].replace("startup ", "")))
    big = [s for (sc, b), s in summary.items()
           if b == "klamm" and s.get("records", 0) >= 2000000 and "vm_hwm_kib" in s]
    if big:
        peak = max(s["vm_hwm_kib"] for s in big) / 1024
        out.append("  %s peak RSS %.0f MiB < 100 MiB in the 2M-record runs"
                   % (verdict(peak < 100), peak))
    lost = [s["scenario"] for (sc, b), s in summary.items()
            if b == "klamm" and s.get("consume") and not s.get("c_log_start")
            and (s.get("c_missing") or s.get("c_duplicate") or s.get("c_corrupt"))]
    out.append("  %s every record read back exactly once from Klamm%s"
               % (verdict(not lost), (": not in " + ", ".join(lost)) if lost else ""))
    return out


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--brief":
        print(brief(sys.stdin.read().strip()))
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit(__doc__)
