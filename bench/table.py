#!/usr/bin/env python3
"""table.py RESULTS [--json OUT]: print bench/run.sh's side-by-side table.

RESULTS is the key=value file run.sh writes (values are numbers, text or
one-line JSON).  The ratio column is how many times better berthd is than
moto on that line (requests/s: berthd/moto; latency, CPU, memory, time:
moto/berthd).  The aim column restates issue 2's aims and whether this run
met them; timings never decide pass/fail.  Exits 1 only when berthd gave a
wrong answer, an error status, a socket error or a timeout under load.
"""
import json
import statistics
import sys
import time


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" not in line:
                continue
            k, v = line.split("=", 1)
            try:
                r[k] = json.loads(v)
            except ValueError:
                r[k] = v
    return r


def fmt(x, unit="", digits=None):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if digits is None:
        if isinstance(x, int):
            digits = 0
        else:
            digits = 0 if abs(x) >= 100 else (1 if abs(x) >= 10 else 2)
    return ("{:,.%df}" % digits).format(x) + unit


def ratio(b, m, higher_better):
    if b is None or m is None or b == 0 or m == 0:
        return "-"
    x = b / m if higher_better else m / b
    return ("%.0fx" % x) if x >= 10 else ("%.1fx" % x)


def main():
    args = sys.argv[1:]
    out_json = None
    if "--json" in args:
        i = args.index("--json")
        out_json = args[i + 1]
        del args[i:i + 2]
    r = load(args[0])
    tck = float(r.get("clk_tck", 100))
    moto = "moto.populate" in r
    rows = []   # (metric, berthd, moto, ratio, aim)
    problems = []

    def pop(srv, k):
        return (r.get(srv + ".populate") or {}).get(k)

    nb, nm = pop("berthd", "created"), pop("moto", "created")
    rows.append(("clusters stored", fmt(nb), fmt(nm) + (" (STOPPED EARLY: time limit)" if pop("moto", "stopped_early") else "") if moto else "-", "", ""))
    rows.append(("populate: CreateCluster/s (16 / 8 conns)", fmt(pop("berthd", "rate")), fmt(pop("moto", "rate")) if moto else "-",
                 ratio(pop("berthd", "rate"), pop("moto", "rate"), True), ""))
    rows.append(("populate: wall time", fmt(pop("berthd", "seconds"), " s"), fmt(pop("moto", "seconds"), " s") if moto else "-",
                 ratio(pop("berthd", "seconds"), pop("moto", "seconds"), False), ""))

    def aim_note(ok, text):
        if ok is None:
            return text
        return text + (" (met)" if ok else " (NOT met)")

    for wl, title in (("describe", "DescribeClusters (10 names)"), ("list", "ListClusters (first page)")):
        fig = {}
        for srv in ("berthd", "moto"):
            j = r.get("%s.%s.run" % (srv, wl))
            if not isinstance(j, dict):
                fig[srv] = None
                continue
            cpu_us = None
            ticks = r.get("%s.%s.cpu_ticks" % (srv, wl))
            if ticks is not None and j["requests"]:
                cpu_us = ticks / tck * 1e6 / j["requests"]
            errs = j["err_connect"] + j["err_read"] + j["err_write"] + j["err_status"] + j["err_timeout"]
            warm = r.get("%s.%s.warm" % (srv, wl)) or {}
            bad = warm.get("bad_status", 0) + warm.get("bad_body", 0)
            fig[srv] = dict(rps=j["rps"], p50=j["p50_us"] / 1000, p99=j["p99_us"] / 1000, p999=j["p999_us"] / 1000,
                            max=j["lat_max_us"] / 1000, cpu=cpu_us, errs=errs, bad=bad, warm_n=warm.get("requests", 0),
                            n=j["requests"], first_bad=warm.get("first_bad", ""))
            if errs or bad:
                problems.append("%s %s: %d error(s) in the measured run (%s), %d wrong answer(s) of %d in the checked warm-up%s"
                                % (srv, wl, errs, ", ".join("%s %d" % (k[4:], j[k]) for k in
                                                             ("err_connect", "err_read", "err_write", "err_status", "err_timeout") if j[k]),
                                   bad, warm.get("requests", 0),
                                   (": first: " + warm["first_bad"]) if warm.get("first_bad") else ""))
        b, m = fig["berthd"], fig.get("moto")

        def g(f, k):
            return f[k] if f else None
        rps_ok = (g(b, "rps") / g(m, "rps") >= 100) if (b and m) else None
        rows.append((title + ": requests/s", fmt(g(b, "rps")), fmt(g(m, "rps")), ratio(g(b, "rps"), g(m, "rps"), True),
                     aim_note(rps_ok, ">= 100x moto")))
        rows.append(("  p50 latency", fmt(g(b, "p50"), " ms", 3), fmt(g(m, "p50"), " ms", 1),
                     ratio(g(b, "p50"), g(m, "p50"), False), ""))
        rows.append(("  p99 latency", fmt(g(b, "p99"), " ms", 3), fmt(g(m, "p99"), " ms", 1),
                     ratio(g(b, "p99"), g(m, "p99"), False), aim_note(g(b, "p99") <= 2 if b else None, "<= 2 ms")))
        rows.append(("  p99.9 / max latency", "%s / %s" % (fmt(g(b, "p999"), " ms", 2), fmt(g(b, "max"), " ms", 1)) if b else "-",
                     "%s / %s" % (fmt(g(m, "p999"), " ms", 0), fmt(g(m, "max"), " ms", 0)) if m else "-", "", ""))
        rows.append(("  server CPU per request", fmt(g(b, "cpu"), " us", 1), fmt(g(m, "cpu"), " us", 0),
                     ratio(g(b, "cpu"), g(m, "cpu"), False), ""))
        sreq, serr = r.get("berthd.%s.server_requests" % wl), r.get("berthd.%s.server_errors" % wl)
        if serr:
            problems.append("berthd %s: /metrics counted %d error answer(s) during the measured run" % (wl, serr))
        rows.append(("  requests measured / errors", "%s / %s" % (fmt(g(b, "n")), fmt(g(b, "errs"))) if b else "-",
                      "%s / %s" % (fmt(g(m, "n")), fmt(g(m, "errs"))) if m else "-", "", ""))
        if sreq is not None:
            rows.append(("  berthd's /metrics: answered / errors", "%s / %s" % (fmt(sreq), fmt(serr)), "", "", ""))
        rows.append(("  checked warm-up: wrong answers", "%s of %s" % (fmt(g(b, "bad")), fmt(g(b, "warm_n"))) if b else "-",
                     "%s of %s" % (fmt(g(m, "bad")), fmt(g(m, "warm_n"))) if m else "-", "", ""))

    sb, sm = r.get("berthd.startup") or {}, r.get("moto.startup") or {}
    rows.append(("start to first answer, median (%d runs / %d)" % (len(sb.get("runs_ms", [])), len(sm.get("runs_ms", []))),
                 fmt(sb.get("median_ms"), " ms", 1), (fmt(sm.get("median_ms"), " ms", 0) + " (empty)") if sm else "-",
                 ratio(sb.get("median_ms"), sm.get("median_ms"), False),
                 aim_note(sb["median_ms"] <= 50 if sb else None, "<= 50 ms")))
    rows.append(("  max", fmt(sb.get("max_ms"), " ms", 1), (fmt(sm.get("max_ms"), " ms", 0) + " (empty)") if sm else "-", "", ""))
    if sb.get("cpu_median_ms") is not None:
        rows.append(("  server CPU until then (median)", fmt(sb["cpu_median_ms"], " ms", 0),
                     (fmt(sm.get("cpu_median_ms"), " ms", 0) + " (empty)") if sm.get("cpu_median_ms") is not None else "-",
                     ratio(sb.get("cpu_median_ms"), sm.get("cpu_median_ms"), False), ""))
    if sb.get("self_reported_ms"):
        rows.append(("  berthd's own 'loaded in' (median)", fmt(statistics.median(sb["self_reported_ms"]), " ms", 1), "-", "", ""))

    def mib(k):
        v = r.get(k)
        return v / 1024.0 if isinstance(v, (int, float)) else None
    for label, key in (("RSS empty", "rss_empty_kb"), ("RSS after populating", "rss_populated_kb"),
                       ("RSS after the wrk runs", "rss_after_load_kb"), ("peak RSS (VmHWM)", "hwm_kb")):
        b, m = mib("berthd." + key), mib("moto." + key)
        rows.append((label, fmt(b, " MiB", 1), fmt(m, " MiB", 0) if moto else "-", ratio(b, m, False), ""))
    rows.append(("RSS after restart (loaded from store)", fmt(mib("berthd.rss_restarted_kb"), " MiB", 1),
                 "n/a (no store)" if moto else "-", "", ""))
    ec = r.get("berthd.exit_code")
    rows.append(("berthd exit status on SIGTERM", fmt(ec), "", "", ""))
    if ec not in (0, None):
        problems.append("berthd exited with status %s on SIGTERM" % ec)
    sz = r.get("berthd.store_bytes")
    rows.append(("store size on disk (after SIGTERM)", fmt(sz / 1048576.0 if sz else None, " MiB", 2), "n/a (in memory)" if moto else "-", "", ""))
    szr = r.get("berthd.store_bytes_running")
    rows.append(("  while running (db + WAL + shm)", fmt(szr / 1048576.0 if szr else None, " MiB", 2), "", "", ""))
    if sz and nb:
        rows.append(("  bytes per cluster", fmt(sz / nb, " B", 0), "", "", ""))

    head = ("metric", "berthd", "moto", "ratio", "aim (this run)")
    w = [max(len(str(x[i])) for x in rows + [head]) for i in range(5)]
    line = "+".join("-" * (n + 2) for n in w)
    print()
    print("Berth bench, %s: %s cores, load average %s at start, %s at end; wrk %s threads x %s connections, %s s per run; "
          "berthd --store-sync %s; moto %s"
          % (time.strftime("%Y-%m-%d %H:%M"), r.get("nproc"), r.get("loadavg_start"), r.get("loadavg_end"),
             r.get("wrk_threads"), r.get("connections"), r.get("seconds"), r.get("store_sync"), r.get("moto.version", "not run")))
    print(line)
    for i, row in enumerate([head] + rows):
        print("|".join(" %s " % (str(c).ljust(w[k]) if k == 0 or k == 4 else str(c).rjust(w[k])) for k, c in enumerate(row)))
        if i == 0:
            print(line)
    print(line)
    print("ratio: how many times better berthd is.  moto answers ListClusters with all its cluster ARNs in one page"
          " (it ignores maxResults), and closes the connection after every answer (Werkzeug dev server), so wrk"
          " reconnects for each moto request.  wrk shares the machine with the server: on few cores it caps berthd's figures.")
    if r.get("berthd.restart_log"):
        print("restart: " + str(r["berthd.restart_log"]))
    for p in problems:
        print("WARNING: " + p)
    if out_json:
        with open(out_json, "w") as f:
            json.dump(r, f, indent=1, sort_keys=True)
    bad_berthd = [p for p in problems if p.startswith("berthd")]
    sys.exit(1 if bad_berthd else 0)


if __name__ == "__main__":
    main()
