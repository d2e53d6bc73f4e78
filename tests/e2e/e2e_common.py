"""Shared by the end-to-end tests: the seeded day they all replay, running the exchange simulator and the
appliance against each other in a closed loop (feed and retransmissions one way, OUCH orders and their
answers on the simulator's order gateway), reading their JSON, and the checks every run's books and
orders must pass.

Tests on loopback pick all their ports (feed, retransmission, order gateway and the appliance's order port)
from their process id so they can run in parallel on one machine; tests in network namespaces
(tests/backends/netns_common.py) have the namespace to themselves.
"""
import bisect
import json
import os
import signal
import struct
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
# Our account at the simulator: the Firm of every Enter Order, the account of --positions-out.
FIRM = "PMM1"

# Deterministic mode (docs/trading.md, docs/exchange-simulator.md): the appliance applies a response at its
# exchange timestamp + L, the simulator a request at its as-of + L, both in feed time. The results are a
# function of the feed only while nothing is late: every order must reach the simulator before it has
# published feed time as-of + L, every response the appliance before its tops reach timestamp + L. So L,
# in feed time, must cover the longest real round trip, and the rate turns feed time into real time.
# The generated day is not uniform: the average is ~190 ms of feed time per message (16 h, 300 k
# messages), but the pre-market (04:00-09:25) carries 4 % of them, ~1.6 s per message. So:
#   L = 1 h, the most the appliance takes (orders.response_latency_us <= 3.6e9): the longer L, the more
#       real time an order has at a given rate (a round trip costs 2 L of feed time, so a 16 h day still
#       gives about a hundred orders and dozens of fills);
#   the rate is chosen so that the day's sparsest hour of feed time (fewest messages in any window of L:
#       2192 for DAY, in the pre-market) takes DETERMINISTIC_MARGIN_S of real time or more: an order or
#       response may be that late behind the feed before anything counts as late. 40 ms is a few scheduler
#       time slices on a busy 2-vCPU machine; a round trip normally takes well under 1 ms.
# deterministic_timing() computes the rate from the day itself (the reference file), so a change of DAY
# keeps the margin. At DAY that is about 54 000 messages/s: 5.5 s of feed per run.
ORDER_LATENCY_US = 3_600_000_000
DETERMINISTIC_MARGIN_S = 0.040


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
    """Digest and counts of a plain replay of the same generated day (BinaryFILE, kept as tmp/reference.itch)."""
    path = os.path.join(tmp, "reference.itch")
    subprocess.run([itch_gen, *day, "--format", "binaryfile", "--out", path], check=True, capture_output=True, timeout=300)
    r = subprocess.run([itch_replay, path, "--json"], capture_output=True, text=True, timeout=300)
    return json.loads(r.stdout)


def feed_timestamps(path):
    """The ITCH timestamps (ns since midnight) of a BinaryFILE: [2-byte length][message] records, the
    timestamp at message offset 5 (6 bytes, big-endian); a zero length ends the file."""
    data = open(path, "rb").read()
    stamps, at = [], 0
    while at + 2 <= len(data):
        (length,) = struct.unpack_from(">H", data, at)
        if length == 0:
            break
        stamps.append(int.from_bytes(data[at + 7:at + 13], "big"))
        at += 2 + length
    return stamps


def deterministic_timing(tmp):
    """(response latency in µs, simulator rate in messages/s, fewest messages in any window of that latency)
    for the day in tmp/reference.itch (written by reference()): see ORDER_LATENCY_US above."""
    stamps = feed_timestamps(os.path.join(tmp, "reference.itch"))
    window = ORDER_LATENCY_US * 1000
    fewest = min(bisect.bisect_left(stamps, t + window) - i for i, t in enumerate(stamps) if t + window <= stamps[-1])
    rate = int(fewest / DETERMINISTIC_MARGIN_S) // 1000 * 1000
    return ORDER_LATENCY_US, rate, fewest


def deterministic_args(latency_us):
    """(appliance arguments, simulator arguments) for deterministic mode with latency_us on both sides."""
    return (["--set", f"orders.response_latency_us={latency_us}"], ["--order-latency-ns", str(latency_us * 1000)])


def parse_summary(text):
    """A JSON summary. A key that comes twice keeps its first value, a later one is kept as KEY#2: builds
    before order_datagrams_sent had orders_sent twice (the trading stage's OUCH messages, then the
    pipeline's datagrams to the gateway, heartbeats and re-requests included, which depend on timing)."""
    def pairs(items):
        d = {}
        for k, v in items:
            d[k if k not in d else k + "#2"] = v
        return d
    return json.loads(text, object_pairs_hook=pairs)


def appliance_command(app, *args, data_dir, exit_at_end_of_session=True):
    """The appliance with a JSON summary on stdout and a status line every 500 ms on stderr. data_dir is
    persistence.dataDirectory (the order-token epoch file goes there): a fresh one per run, so every run
    starts at the same epoch and the order tokens, and with them order_stream_digest, compare."""
    end = ["--exit-at-end-of-session"] if exit_at_end_of_session else []
    return [app, *end, "--json", "--max-seconds", "240", "--set", "status.interval_ms=500", *FEED_SETTINGS,
            "--set", f"orders.firm={FIRM}", "--set", f"persistence.dataDirectory={data_dir}", *args]


def sim_command(sim, day, feed_dest, retrans_listen, rate, *extra, order_listen, positions_out, bind=None):
    """exchange-sim publishing the day to feed_dest, serving retransmissions on retrans_listen and orders on
    order_listen (IP:PORT), lingering 3 s at the end (end-of-session packets and heartbeats) so the appliance
    can finish recovering and unwinding; positions_out gets its positions file."""
    return [sim, "--json", *day, "--feed-dest", feed_dest, *(["--bind", bind] if bind else []),
            "--retrans-listen", retrans_listen, "--order-listen", order_listen, "--positions-out", positions_out,
            "--rate", str(rate), "--linger-ms", "3000", "--heartbeat-ms", "100",
            # The appliance's session login completes before the first feed packet (the gateway answers
            # during the delay), so when quoting starts never depends on process start-up timing.
            "--start-delay-ms", "300", *extra]


def finish_process(p, timeout):
    """(exit status, parsed JSON on stdout or None); killed (-9) after timeout."""
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        return -9, None
    try:
        return p.returncode, parse_summary(out)
    except json.JSONDecodeError:
        return p.returncode, None


def finish_appliance(p, timeout=120):
    return finish_process(p, timeout)


def read_positions(path):
    """exchange-sim's --positions-out file, or None when it is missing or not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


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


def run_sim(sim_cmd, log, app, stop_app, timeout=240):
    """Runs the simulator to its end. With an appliance that exits by itself at the end of the session
    (not stop_app), the simulator's linger is cut short once the appliance has gone (SIGINT: the simulator
    then writes its summary and positions as at the end of its linger): nothing is left to serve."""
    sim = subprocess.Popen(sim_cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        deadline = time.monotonic() + timeout
        while sim.poll() is None and time.monotonic() < deadline:
            if not stop_app and app.poll() is not None:
                sim.send_signal(signal.SIGINT)
                break
            time.sleep(0.02)
        return finish_process(sim, max(1, deadline - time.monotonic()))
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait()


def run_feed(c, name, tmp, app_command, sim_cmd, positions_out, before_sim=None, during=None, stop_app=False):
    """One run: start the appliance, wait until its stages run, run the simulator to its end, collect both
    JSON summaries (empty dicts when missing, with the failure checked); the simulator's positions file
    (positions_out, written at its exit) is in the simulator's dict as "positions_file". before_sim runs once
    the appliance is up (e.g. to configure the tap it created); during runs in a thread alongside the
    simulator; stop_app sends the appliance SIGINT (drain, summary, exit 0) once the simulator is done, for
    an appliance not told to exit at the end of the session. Both are killed on every exit path."""
    log_path = os.path.join(tmp, f"{name}.log")
    sim_rc, sim = -1, None
    if os.path.exists(positions_out):
        os.remove(positions_out)
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
                sim_rc, sim = run_sim(sim_cmd, log, app, stop_app)
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
    summary, sim = summary or {}, sim or {}
    sim["positions_file"] = read_positions(positions_out)
    c.check(sim["positions_file"] is not None, f"{name}: no positions file from exchange-sim at {positions_out}")
    print(summary_line(name, summary), flush=True)
    print(orders_line(name, summary, sim), flush=True)
    return sim, summary


def portable_args(p):
    """--backend portable on loopback: feed on p, retransmissions on p + 1, orders on p + 2; the simulator's
    retransmission server on p + 10, its order gateway on p + 11."""
    return ["--backend", "portable", "--set", f"feed.port={p}", "--set", f"retransmission.port={p + 1}",
            "--set", f"orders.port={p + 2}", "--set", f"retransmission.server=127.0.0.1:{p + 10}",
            "--set", f"orders.gateway=127.0.0.1:{p + 11}"]


def run_portable(c, app, sim, name, tmp, p, day=DAY, extra_sim=(), extra_app=(), rate=400000, during=None):
    """The portable backend against exchange-sim over loopback UDP, a fresh data directory per run. during(p)
    runs alongside the simulator."""
    return run_feed(c, name, tmp,
                    appliance_command(app, *portable_args(p), *extra_app, data_dir=os.path.join(tmp, name, "data")),
                    sim_command(sim, day, f"127.0.0.1:{p}", f"127.0.0.1:{p + 10}", rate, *extra_sim,
                                order_listen=f"127.0.0.1:{p + 11}", positions_out=os.path.join(tmp, f"{name}.positions.json")),
                    os.path.join(tmp, f"{name}.positions.json"), during=(lambda: during(p)) if during else None)


def orders_line(name, summary, sim):
    o = sim.get("orders", {})
    return (f"{name}: orders {summary.get('orders_sent')} (enter {summary.get('enters')} replace "
            f"{summary.get('replaces')} cancel {summary.get('cancels')}) fills {summary.get('fills')} position "
            f"{summary.get('net_position')} rPnL_e4 {summary.get('realized_pnl_e4')} uPnL_e4 "
            f"{summary.get('unrealized_pnl_e4')} fees_e4 {summary.get('fees_e4')} order_digest "
            f"{summary.get('order_stream_digest')} late_responses {summary.get('late_responses')} open_at_exit "
            f"{summary.get('open_orders_at_exit')} session_gaps {summary.get('order_session_gaps')} | sim: received "
            f"{o.get('orders_received')} fills {o.get('fills')} late_orders {o.get('late_orders')} held_full "
            f"{o.get('held_full')} held_peak {o.get('held_peak')}")


def simulator_positions(sim, firm=FIRM):
    """{symbol: {shares, bought, sold, cash}} and the open orders of firm's account in exchange-sim's
    positions file (sim["positions_file"]); ({}, []) when the account never traded."""
    for account in (sim.get("positions_file") or {}).get("accounts", []):
        if account.get("account") == firm:
            return ({p["symbol"]: p for p in account.get("positions", [])}, account.get("open_orders", []))
    return {}, []


def expect_closed_loop(c, name, summary, sim, deterministic=False, session_gaps_allowed=False):
    """The closed loop worked: orders were sent and filled, the appliance's positions are the exchange's
    (exchange-sim's positions file for our firm: shares, bought and sold per symbol, a symbol missing on one
    side counts as flat), nothing of ours rests at exit on either side, the gateway received every order
    we sent, and (unless the test loses order packets on purpose) the order session had no gap. In
    deterministic mode nothing was late or overflowed on either side."""
    orders = sim.get("orders", {})
    c.check(summary.get("orders_sent", 0) > 0, f"{name}: no order sent")
    c.check(summary.get("fills", 0) > 0, f"{name}: no fill")
    c.check(orders.get("orders_received") == summary.get("orders_sent"),
            f"{name}: the gateway received {orders.get('orders_received')} orders, the appliance sent {summary.get('orders_sent')}")
    c.check(orders.get("fills") == summary.get("fills"),
            f"{name}: the gateway sent {orders.get('fills')} executions, the appliance applied {summary.get('fills')}")
    exchange, resting = simulator_positions(sim)
    ours = summary.get("positions") or {}
    for symbol in sorted(set(exchange) | set(ours)):
        mine, theirs = ours.get(symbol, {}), exchange.get(symbol, {})
        for key in ("shares", "bought", "sold"):
            c.check(mine.get(key, 0) == theirs.get(key, 0),
                    f"{name}: {symbol} {key}: appliance {mine.get(key, 0)}, exchange-sim {theirs.get(key, 0)}")
    c.check(summary.get("net_position") == sum(p.get("shares", 0) for p in ours.values()),
            f"{name}: net_position {summary.get('net_position')} is not the sum of the symbols' shares")
    c.check(summary.get("open_orders_at_exit") == 0, f"{name}: {summary.get('open_orders_at_exit')} orders open at exit")
    c.check(not resting, f"{name}: {len(resting)} of our orders still rest at exchange-sim: {resting[:3]}")
    if not session_gaps_allowed:
        c.check(summary.get("order_session_gaps") == 0 and orders.get("gaps") == 0,
                f"{name}: order session gaps: appliance {summary.get('order_session_gaps')}, gateway {orders.get('gaps')}")
    if deterministic:
        c.check(summary.get("late_responses") == 0, f"{name}: {summary.get('late_responses')} late responses")
        c.check(orders.get("late_orders") == 0 and orders.get("held_full") == 0,
                f"{name}: exchange-sim late_orders {orders.get('late_orders')}, held_full {orders.get('held_full')}")


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
