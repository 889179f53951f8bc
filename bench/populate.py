#!/usr/bin/env python3
"""populate.py: create COUNT clusters on an ECS endpoint (berthd or moto).

Names are PREFIX + five digits (bench-cluster-00000, ...); every tenth
cluster carries two tags.  Each worker thread keeps one HTTP/1.1 keep-alive
connection (http.client reconnects by itself when a server closes after each
answer, as moto does) and takes the next index from a shared counter, so
when --time-limit stops the run early the clusters created are still the
first K names (the wrk scripts pick random names below K).

Afterwards it checks the result: the listable clusters are counted
(ListClusters, following nextToken) and ten names are described.

Prints one JSON object on stdout:
  {"requested": N, "created": K, "errors": E, "seconds": S, "rate": K/S,
   "listed": L, "described_ok": bool, "stopped_early": bool}
Exits 1 if any create failed or the check does not find the clusters.
"""
import argparse
import http.client
import itertools
import json
import random
import sys
import threading
import time

TARGET = "AmazonEC2ContainerServiceV20141113."
# moto routes a request to a service by the Authorization header's
# credential scope; berthd ignores an unsigned one.  Static, never checked.
AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecs/aws4_request, "
        "SignedHeaders=host;x-amz-target, Signature=0")


def name_of(prefix, i):
    return "%s%05d" % (prefix, i)


class Client:
    def __init__(self, host, port, auth):
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.headers = {"Content-Type": "application/x-amz-json-1.1"}
        if auth:
            self.headers["Authorization"] = AUTH

    def call(self, action, body):
        h = dict(self.headers)
        h["X-Amz-Target"] = TARGET + action
        data = json.dumps(body).encode()
        for attempt in range(2):
            try:
                self.conn.request("POST", "/", body=data, headers=h)
                r = self.conn.getresponse()
                payload = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return r.status, payload
            except (http.client.HTTPException, ConnectionError):
                # a keep-alive connection the server closed under us
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")


def create_body(prefix, i):
    b = {"clusterName": name_of(prefix, i)}
    if i % 10 == 0:
        b["tags"] = [{"key": "team", "value": "t%d" % (i % 7)}, {"key": "env", "value": "bench"}]
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--prefix", default="bench-cluster-")
    ap.add_argument("--auth", action="store_true", help="send the static Authorization header (moto needs it)")
    ap.add_argument("--time-limit", type=float, default=0, help="stop creating after this many seconds (0: none)")
    ap.add_argument("--first-error", action="store_true", help="print the first failed answer on stderr")
    a = ap.parse_args()

    counter = itertools.count()
    lock = threading.Lock()
    state = {"created": 0, "errors": 0, "max_index": -1, "first_error": None, "stop": False}
    t0 = time.perf_counter()
    deadline = t0 + a.time_limit if a.time_limit > 0 else None

    def worker():
        c = Client(a.host, a.port, a.auth)
        created = errors = 0
        top = -1
        while not state["stop"]:
            i = next(counter)
            if i >= a.count:
                break
            if deadline and time.perf_counter() > deadline:
                state["stop"] = True
                break
            try:
                status, payload = c.call("CreateCluster", create_body(a.prefix, i))
            except Exception as ex:  # noqa: BLE001 - reported, counted
                status, payload = 0, repr(ex).encode()
            if status == 200:
                created += 1
                top = max(top, i)
            else:
                errors += 1
                with lock:
                    if state["first_error"] is None:
                        state["first_error"] = "%s %s: %s" % (name_of(a.prefix, i), status, payload[:300])
        with lock:
            state["created"] += created
            state["errors"] += errors
            state["max_index"] = max(state["max_index"], top)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    created = state["created"]

    # Check: count what ListClusters gives (following nextToken; moto
    # answers everything in one page) and describe ten names.
    t1 = time.perf_counter()
    c = Client(a.host, a.port, a.auth)
    listed = 0
    tok = None
    while True:
        body = {"maxResults": 100}
        if tok:
            body["nextToken"] = tok
        status, payload = c.call("ListClusters", body)
        if status != 200:
            print("ListClusters: %s %s" % (status, payload[:300]), file=sys.stderr)
            break
        j = json.loads(payload)
        listed += sum(1 for arn in j.get("clusterArns", []) if "/" + a.prefix in arn)
        tok = j.get("nextToken")
        if not tok:
            break
    k = state["max_index"] + 1
    names = [name_of(a.prefix, i) for i in random.sample(range(max(k, 1)), min(10, max(k, 1)))]
    status, payload = c.call("DescribeClusters", {"clusters": names})
    described_ok = False
    if status == 200:
        j = json.loads(payload)
        described_ok = len(j.get("clusters", [])) == len(names) and not j.get("failures")
    if state["first_error"] and a.first_error:
        print("first failed create: " + state["first_error"], file=sys.stderr)
    out = {
        "requested": a.count,
        "created": created,
        "errors": state["errors"],
        "seconds": round(secs, 3),
        "rate": round(created / secs, 1) if secs > 0 else 0,
        "listed": listed,
        "check_seconds": round(time.perf_counter() - t1, 3),
        "described_ok": described_ok,
        "stopped_early": bool(state["stop"]),
    }
    print(json.dumps(out))
    ok = state["errors"] == 0 and listed >= created and described_ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
