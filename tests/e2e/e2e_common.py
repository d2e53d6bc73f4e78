"""Shared by the end-to-end tests: the seeded day they all replay, running the exchange simulator and the
appliance against each other, reading their JSON, and the checks every run's books must pass.

Tests on loopback pick their own ports (from their process id) so they can run in parallel on one machine;
tests in network namespaces (tests/backends/netns_common.py) have the namespace to themselves.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

# The one day every end-to-end test replays, whatever the backend: the same seeded feed must build the same
# books everywhere (test_backends_agree.py compares the backends on it).
DAY = ["--seed", "11", "--messages", "300000", "--symbols", "500", "--live-orders", "50000"]
SESSION = "PMMSIM0001"  # exchange-sim's and itch-gen's default MoldUDP64 session
# Every appliance run: the day's session, and room for its 500 locates.
FEED_SETTINGS = ["--set", f"feed.session={SESSION}", "--set", "books.max_locates=1024"]


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


def appliance_command(app, *args, exit_at_end_of_session=True):
    """The appliance with a JSON summary on stdout and a status line every 500 ms on stderr."""
    end = ["--exit-at-end-of-session"] if exit_at_end_of_session else []
    return [app, *end, "--json", "--max-seconds", "240", "--set", "status.interval_ms=500", *FEED_SETTINGS, *args]


def sim_command(sim, day, feed_dest, retrans_listen, rate, *extra, bind=None):
    """exchange-sim publishing the day to feed_dest and serving retransmissions, lingering 3 s at the end
    (end-of-session packets and heartbeats) so the appliance can finish recovering."""
    return [sim, "--json", *day, "--feed-dest", feed_dest, *(["--bind", bind] if bind else []),
            "--retrans-listen", retrans_listen, "--rate", rate, "--linger-ms", "3000", "--heartbeat-ms", "100", *extra]


def run_sim(command, log, timeout=240):
    r = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, timeout=timeout)
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


def summary_line(name, summary):
    return (f"{name}: messages {summary.get('messages')} digest {summary.get('digest')} rx_packets "
            f"{summary.get('rx_packets')} feed_packets {summary.get('feed_packets')} gaps {summary.get('gaps')} "
            f"filled {summary.get('gaps_filled')} requests {summary.get('requests')} retrans_packets "
            f"{summary.get('retrans_packets')} bad_frames {summary.get('bad_frames')}")


def run_feed(c, name, tmp, app_command, sim_cmd, before_sim=None, during=None, stop_app=False):
    """One run: start the appliance, wait until its stages run, run the simulator to its end, collect both
    JSON summaries (empty dicts when missing, with the failure checked). before_sim runs once the appliance
    is up (e.g. to configure the tap it created); during runs in a thread alongside the simulator; stop_app
    sends the appliance SIGINT (drain, summary, exit 0) once the simulator is done, for an appliance not
    told to exit at the end of the session. The appliance is killed on every exit path."""
    log_path = os.path.join(tmp, f"{name}.log")
    sim_rc, sim = -1, None
    with open(log_path, "w") as log:
        app = subprocess.Popen(app_command, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            started = wait_for_line(log_path, "[pmm] stages:")
            c.check(started, f"{name}: appliance did not start")
            if started:
                if before_sim:
                    before_sim()
                injector = threading.Thread(target=during) if during else None
                if injector:
                    injector.start()
                sim_rc, sim = run_sim(sim_cmd, log)
                if injector:
                    injector.join()
            if stop_app:
                app.send_signal(signal.SIGINT)
            app_rc, summary = finish_appliance(app)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    log_text = open(log_path).read()
    c.check(sim_rc == 0 and sim is not None, f"{name}: exchange-sim exited {sim_rc}; log {log_text[-3000:]}")
    c.check(app_rc == 0 and summary is not None, f"{name}: pinnaclemm exited {app_rc}; log {log_text[-3000:]}")
    summary = summary or {}
    print(summary_line(name, summary), flush=True)
    return sim or {}, summary


def portable_args(p):
    """--backend portable on loopback: feed on p, retransmissions on p + 1, orders on p + 2, server on p + 10."""
    return ["--backend", "portable", "--set", f"feed.port={p}", "--set", f"retransmission.port={p + 1}",
            "--set", f"orders.port={p + 2}", "--set", f"retransmission.server=127.0.0.1:{p + 10}"]


def run_portable(c, app, sim, name, tmp, p, day=DAY, extra_sim=(), during=None):
    """The portable backend against exchange-sim over loopback UDP. during(p) runs alongside the simulator."""
    return run_feed(c, name, tmp, appliance_command(app, *portable_args(p)),
                    sim_command(sim, day, f"127.0.0.1:{p}", f"127.0.0.1:{p + 10}", "400000", *extra_sim),
                    during=(lambda: during(p)) if during else None)


def expect_books(c, name, summary, ref, backend=None):
    """The run ended whole, with the books of a plain replay of the same day."""
    if backend:
        c.check(summary.get("backend") == backend, f"{name}: backend {summary.get('backend')}, not {backend}")
    c.check(summary.get("digest") == ref["digest"], f"{name}: digest {summary.get('digest')} != replay {ref['digest']}")
    c.check(summary.get("messages") == ref["messages"], f"{name}: {summary.get('messages')} messages, replay {ref['messages']}")
    c.check(summary.get("live_orders") == ref["live_orders"], f"{name}: live orders differ from the replay")
    c.check(summary.get("by_type") == ref["by_type"], f"{name}: per-type counts differ from the replay")
    c.check(summary.get("messages_lost") == 0 and summary.get("gaps_unrecovered") == 0, f"{name}: messages lost")
    c.check(summary.get("gaps") == summary.get("gaps_filled"), f"{name}: {summary.get('gaps')} gaps, {summary.get('gaps_filled')} filled")
    c.check(summary.get("stale") == 0 and summary.get("end_of_session") == 1, f"{name}: not whole at the end")
