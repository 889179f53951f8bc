"""Test harness for Berth's end-to-end tests.

Starts a real berthd on a free loopback port with its own data directory,
gives tests real clients (boto3, the AWS CLI), and runs test functions,
printing one line each and a closing "N passed, M failed".

A test file defines functions named test_*; each takes one argument, the
Berth fixture (a running daemon shared by the file unless the test asks for
a fresh one with @fresh).  Tests wait on conditions with deadlines
(wait_until), never on bare sleeps.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BERTHD = os.environ.get("BERTHD", os.path.join(ROOT, "build", "berthd"))
ACCOUNT = "000000000000"
REGION = "us-east-1"

CLIENT_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_PAGER": "",
    "AWS_EC2_METADATA_DISABLED": "true",
}
os.environ.update(CLIENT_ENV)


class Berth:
    """A running berthd.  start() launches it; stop() sends SIGTERM and
    waits; kill() sends SIGKILL.  The data directory survives restarts."""

    def __init__(self, *args, data_dir=None, env=None):
        self.args = list(args)
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="berth-test-")
        self.env = env or {}
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.data_dir, "berthd.log")
        self._clients = {}

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, port=0, timeout=10):
        env = dict(os.environ)
        env.update(self.env)
        seen = self._started_lines() if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        listen = "127.0.0.1:%d" % (port or 0)
        self.proc = subprocess.Popen(
            [BERTHD, "--listen", listen, "--data-dir", self.data_dir, "--transition-ms", "0"] + self.args,
            stdout=log, stderr=log, env=env)
        deadline = time.time() + timeout
        pat = re.compile(rb"listening on [0-9.]+:(\d+)")
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("berthd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            with open(self.log_path, "rb") as f:
                data = f.read()
            # One read for both questions (a second read could see a start
            # line the first missed), and only whole lines: the newest
            # start line, written by this process, is the last one.
            data = data[:data.rfind(b"\n") + 1]
            found = pat.findall(data)
            if found and data.count(b"listening on") > seen:
                self.port = int(found[-1])
                self._clients = {}
                return self
            time.sleep(0.01)
        raise RuntimeError("berthd did not start:\n" + self.log())

    def _started_lines(self):
        with open(self.log_path, "rb") as f:
            return f.read().count(b"listening on")

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("berthd did not stop on SIGTERM")
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def client(self, service="ecs", region=REGION):
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service, endpoint_url=self.endpoint, region_name=region,
                aws_access_key_id="test", aws_secret_access_key="test",
                config=botocore.config.Config(retries={"max_attempts": 1}))
        return self._clients[key]

    @property
    def ecs(self):
        return self.client("ecs")

    def cli(self, *args, region=REGION, check=True):
        """Run the AWS CLI against this berthd; returns (rc, parsed JSON or
        None, stderr)."""
        cmd = ["aws", "--endpoint-url", self.endpoint, "--region", region, "--output", "json"] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        out = None
        if p.stdout.strip():
            try:
                out = json.loads(p.stdout)
            except ValueError:
                out = p.stdout
        if check and p.returncode != 0:
            raise AssertionError("aws %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p.returncode, out, p.stderr

    def raw(self, target, body, headers=None, method="POST", path="/"):
        """Send a raw HTTP request; returns (status, headers, parsed body)."""
        data = body if isinstance(body, (bytes, type(None))) else body.encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        if target:
            req.add_header("X-Amz-Target", "AmazonEC2ContainerServiceV20141113." + target)
        req.add_header("Content-Type", "application/x-amz-json-1.1")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, hdrs, payload = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, dict(e.headers), e.read()
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = payload
        return status, hdrs, parsed


def error_code(exc):
    return exc.response["Error"]["Code"]


def expect_error(code, fn, *args, message=None, **kwargs):
    """Call fn and require a botocore ClientError with this code (and, if
    given, a message containing `message`).  Returns the error."""
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = error_code(e)
        if got != code:
            raise AssertionError("expected %s, got %s: %s" % (code, got, e))
        if message is not None and message not in e.response["Error"]["Message"]:
            raise AssertionError("expected message containing %r, got %r" % (message, e.response["Error"]["Message"]))
        return e
    raise AssertionError("expected %s, call succeeded" % code)


def wait_until(pred, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def fresh(fn):
    """Mark a test that needs its own berthd (and data directory)."""
    fn.fresh = True
    return fn


def berthd_args(*args):
    """Mark a test whose own berthd gets extra arguments."""
    def deco(fn):
        fn.fresh = True
        fn.berthd_args = list(args)
        return fn
    return deco


def main(module_globals, shared_args=()):
    """Run every test_* function of the calling module; print results and a
    summary line; exit non-zero on any failure."""
    name = os.path.basename(module_globals.get("__file__", "tests"))
    only = os.environ.get("BERTH_TEST_ONLY")
    tests = [(k, v) for k, v in module_globals.items() if k.startswith("test_") and callable(v)]
    tests.sort(key=lambda kv: kv[1].__code__.co_firstlineno)
    if only:
        tests = [(k, v) for k, v in tests if re.search(only, k)]
    passed = failed = 0
    shared = None
    try:
        for tname, fn in tests:
            t0 = time.time()
            b = None
            try:
                if getattr(fn, "fresh", False):
                    b = Berth(*getattr(fn, "berthd_args", [])).start()
                    fn(b)
                else:
                    if shared is None or shared.proc.poll() is not None:
                        shared = Berth(*shared_args).start()
                    fn(shared)
                passed += 1
                print("ok   %s::%s (%.2fs)" % (name, tname, time.time() - t0), flush=True)
            except Exception:
                failed += 1
                print("FAIL %s::%s" % (name, tname), flush=True)
                traceback.print_exc()
                logb = b or shared
                if logb:
                    print("--- berthd log (tail) ---\n" + logb.log(), flush=True)
            finally:
                if b:
                    b.close()
    finally:
        if shared:
            rc = shared.stop()
            if rc not in (0, None):
                print("FAIL %s: shared berthd exited %s on SIGTERM" % (name, rc))
                failed += 1
            shared.close()
    print("%s: %d passed, %d failed" % (name, passed, failed), flush=True)
    sys.exit(1 if failed else 0)
