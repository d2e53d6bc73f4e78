"""Shared by the end-to-end tests: run the exchange simulator and the appliance, read their JSON.

Every test picks its own ports (from its process id) so tests can run in parallel on one machine.
"""
import json
import os
import subprocess
import sys
import tempfile
import time


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, condition, what):
        if not condition:
            self.failures.append(what)
            print("FAIL:", what, flush=True)
        return condition

    def exit(self):
        if self.failures:
            print(f"{len(self.failures)} check(s) failed", flush=True)
            sys.exit(1)
        print("all checks passed", flush=True)
        sys.exit(0)


def base_port():
    # 20000..59999 in steps of 40: each test owns [p, p + 40).
    return 20000 + (os.getpid() % 1000) * 40


def reference(itch_gen, itch_replay, day, tmp):
    """Digest and counts of a plain replay of the same generated day (BinaryFILE)."""
    path = os.path.join(tmp, "reference.itch")
    subprocess.run([itch_gen, *day, "--format", "binaryfile", "--out", path], check=True, capture_output=True, timeout=300)
    r = subprocess.run([itch_replay, path, "--json"], capture_output=True, text=True, timeout=300)
    return json.loads(r.stdout)


def start_appliance(app, args, log):
    return subprocess.Popen([app, "--exit-at-end-of-session", "--json", "--set", "status.interval_ms=500", *args],
                            stdout=subprocess.PIPE, stderr=log, text=True)


def run_sim(sim, args, log, timeout=300):
    r = subprocess.run([sim, "--json", *args], stdout=subprocess.PIPE, stderr=log, text=True, timeout=timeout)
    try:
        return r.returncode, json.loads(r.stdout)
    except json.JSONDecodeError:
        return r.returncode, None


def finish_appliance(p, timeout=120):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        return -9, None
    try:
        return p.returncode, json.loads(out)
    except json.JSONDecodeError:
        return p.returncode, None


def wait_for_line(path, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path) as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False
