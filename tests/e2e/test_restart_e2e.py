#!/usr/bin/env python3
"""Crash and restart of the appliance with persistence on (docs/recovery.md, "In the appliance"): the
portable backend trades the exchange simulator's seeded day over loopback; about 3 s in, the appliance is
killed with SIGKILL (no unwind, no clean shutdown), and restarted at once on the same data directory. The
restarted appliance must recover its trading state from the journal ("recoverState: Success",
"Replaying N journal entries"), take over its live orders, keep quoting, and at the end of the session
leave nothing open on either side, with final positions per symbol equal to the simulator's positions
file for our firm.

Ports come from the process id in 60000..64999 (e2e_common.base_port() uses 20000..59999), so this test can
run alongside the other end-to-end tests.

Usage: test_restart_e2e.py PINNACLEMM EXCHANGE_SIM
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_common import DAY, SESSION, Checks, parse_summary, wait_for_line

APP, SIM = sys.argv[1:3]

FIRM = "PMM1"
RATE = 30000           # messages/s: the day lasts ~10 s, so the kill lands mid-session
KILL_AFTER_S = 3.0     # after the simulator started


def restart_port():
    # 60000..64999 in steps of 40: each run owns [p, p + 40).
    return 60000 + (os.getpid() % 125) * 40


def appliance(p, data_dir):
    return [APP, "--exit-at-end-of-session", "--json", "--max-seconds", "120", "--backend", "portable",
            "--set", "status.interval_ms=500", "--set", f"feed.session={SESSION}", "--set", "books.max_locates=1024",
            "--set", f"feed.port={p}", "--set", f"retransmission.port={p + 1}", "--set", f"orders.port={p + 2}",
            "--set", f"retransmission.server=127.0.0.1:{p + 10}", "--set", f"orders.gateway=127.0.0.1:{p + 11}",
            "--set", f"orders.firm={FIRM}", "--set", "persistence.enabled=true",
            "--set", f"persistence.dataDirectory={data_dir}", "--set", "persistence.journalSyncIntervalMs=5"]


def simulator(p, positions_out):
    return [SIM, "--json", *DAY, "--feed-dest", f"127.0.0.1:{p}", "--retrans-listen", f"127.0.0.1:{p + 10}",
            "--order-listen", f"127.0.0.1:{p + 11}", "--query-listen", f"127.0.0.1:{p + 12}",
            "--positions-out", positions_out, "--rate", str(RATE),
            "--linger-ms", "3000", "--heartbeat-ms", "100"]


def finish(proc, timeout):
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return -9, None
    try:
        return proc.returncode, parse_summary(out)
    except json.JSONDecodeError:
        return proc.returncode, None


def simulator_positions(sim_positions):
    for account in (sim_positions or {}).get("accounts", []):
        if account.get("account") == FIRM:
            return {p["symbol"]: p for p in account.get("positions", [])}, account.get("open_orders", [])
    return {}, []


c = Checks()
p = restart_port()
with tempfile.TemporaryDirectory(prefix="pmm_e2e_restart_") as tmp:
    data_dir = os.path.join(tmp, "data")
    positions_out = os.path.join(tmp, "positions.json")
    first_log, second_log, sim_log = (os.path.join(tmp, n) for n in ("first.log", "second.log", "sim.log"))
    procs = []
    try:
        with open(first_log, "w") as flog, open(second_log, "w") as slog, open(sim_log, "w") as simlog:
            first = subprocess.Popen(appliance(p, data_dir), stdout=subprocess.DEVNULL, stderr=flog, text=True)
            procs.append(first)
            c.check(wait_for_line(first_log, "[pmm] stages:"), "first run: appliance did not start")
            sim = subprocess.Popen(simulator(p, positions_out), stdout=subprocess.PIPE, stderr=simlog, text=True)
            procs.append(sim)
            time.sleep(KILL_AFTER_S)
            c.check(first.poll() is None, f"first run: appliance exited early ({first.returncode})")
            first.send_signal(signal.SIGKILL)
            first.wait()
            second = subprocess.Popen(appliance(p, data_dir), stdout=subprocess.PIPE, stderr=slog, text=True)
            procs.append(second)
            # The session ends, the appliance exits by itself; then the simulator's linger is cut short.
            deadline = time.monotonic() + 120
            while sim.poll() is None and second.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            app_rc, summary = finish(second, max(1, deadline - time.monotonic()))
            if sim.poll() is None:
                sim.send_signal(signal.SIGINT)
            sim_rc, sim_summary = finish(sim, 30)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    first_text, second_text = open(first_log).read(), open(second_log).read()
    c.check("recoverState: CleanStart" in first_text, f"first run: no CleanStart; log {first_text[-2000:]}")
    c.check("journal durable" in first_text, "first run: no journal figures on the status line")
    c.check(any("recoverState: Success" in line for line in second_text.splitlines()),
            f"restart: no 'recoverState: Success' line; log {second_text[-3000:]}")
    c.check("Replaying" in second_text, "restart: no 'Replaying' line")
    c.check("restored " in second_text, "restart: no 'restored ... open order(s)' line")
    c.check("JOURNAL FAILED" not in second_text and "JOURNAL-FAILED" not in second_text, "restart: the journal failed")
    c.check("Clean shutdown" in second_text, "restart: no clean shutdown at the end")
    c.check(app_rc == 0 and summary is not None, f"restart: pinnaclemm exited {app_rc}; log {second_text[-3000:]}")
    c.check(sim_rc == 0 and sim_summary is not None, f"exchange-sim exited {sim_rc}")
    summary = summary or {}
    with open(positions_out) if os.path.exists(positions_out) else open(os.devnull) as f:
        try:
            sim_positions = json.load(f)
        except json.JSONDecodeError:
            sim_positions = None
    c.check(sim_positions is not None, "no positions file from exchange-sim")
    exchange, resting = simulator_positions(sim_positions)
    gw = (sim_summary or {}).get("orders", {})
    print(f"restart: orders_sent {summary.get('orders_sent')} fills {summary.get('fills')} open_at_exit "
          f"{summary.get('open_orders_at_exit')} net_position {summary.get('net_position')} session_gaps "
          f"{summary.get('order_session_gaps')} | gateway: received {gw.get('orders_received')} gaps {gw.get('gaps')} "
          f"retransmit_missing {gw.get('retransmit_missing')} (a message journaled but never sent before the kill "
          f"shows here: docs/recovery.md) | exchange positions in "
          f"{len(exchange)} symbol(s), resting {len(resting)}", flush=True)
    for line in second_text.splitlines():
        if "recoverState" in line or "Replaying" in line or "restored " in line or "Clean shutdown" in line:
            print(line, flush=True)
    # The session login (docs/order-entry.md, "Login"): the restarted appliance asked the gateway where its
    # stream ends before sending anything, took any request the journal lost as sent, and so never used a
    # sequence number twice (the gateway would drop the message as a duplicate).
    print(f"restart: login_state {summary.get('login_state')} login_requests {summary.get('login_requests')} "
          f"login_echoes {summary.get('login_echoes')} | gateway: logins {gw.get('logins')} login_echoes "
          f"{gw.get('login_echoes')} duplicates {gw.get('duplicates')}", flush=True)
    c.check(summary.get("login_state") == 2, f"restart: the login did not complete ({summary.get('login_state')})")
    c.check(summary.get("login_echo_errors") == 0, f"restart: {summary.get('login_echo_errors')} echoes not applied")
    c.check(gw.get("logins", 0) >= 2, f"the gateway saw {gw.get('logins')} login(s), expected one per start")
    c.check(gw.get("duplicates") == 0, f"the gateway dropped {gw.get('duplicates')} reused sequence number(s)")
    c.check(gw.get("login_echoes") == summary.get("login_echoes"),
            f"echoes: the gateway sent {gw.get('login_echoes')}, the appliance took {summary.get('login_echoes')}")
    c.check(summary.get("orders_sent", 0) > 0, "restart: no order sent after the restart")
    c.check(summary.get("open_orders_at_exit") == 0, f"restart: {summary.get('open_orders_at_exit')} orders open at exit")
    c.check(not resting, f"{len(resting)} of our orders still rest at exchange-sim: {resting[:3]}")
    c.check(len(exchange) > 0, "the simulator has no position for our firm: nothing was filled")
    ours = summary.get("positions") or {}
    for symbol in sorted(set(exchange) | set(ours)):
        mine, theirs = ours.get(symbol, {}), exchange.get(symbol, {})
        for key in ("shares", "bought", "sold"):
            c.check(mine.get(key, 0) == theirs.get(key, 0),
                    f"{symbol} {key}: appliance {mine.get(key, 0)}, exchange-sim {theirs.get(key, 0)}")

c.exit()
