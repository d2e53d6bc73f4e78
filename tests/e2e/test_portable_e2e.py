#!/usr/bin/env python3
"""Portable backend end to end over loopback UDP: the exchange simulator publishes a seeded feed, the
appliance builds the books with --backend portable and trades them: it quotes its symbols with OUCH
orders to the simulator's order gateway, which matches them against its own copy of the feed. Three runs
of the same feed: clean; with feed packets dropped at the simulator (gaps re-requested and filled); with
malformed datagrams mixed in (counted and dropped). All three must end with the books of a plain replay
(same digest, same counts), and with a closed loop that worked: orders sent and filled, the appliance's
positions equal to the simulator's positions file, nothing open at exit on either side, no gap on the
order session (only feed packets are dropped). Every run has its own ports (e2e_common.portable_args).

Usage: test_portable_e2e.py PINNACLEMM EXCHANGE_SIM ITCH_GEN ITCH_REPLAY
"""
import os
import random
import signal
import socket
import subprocess
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (DAY, FEED_SETTINGS, SESSION, Checks, base_port, expect_books, expect_closed_loop, portable_args,
                        reference, run_portable, wait_for_line)

APP, SIM, GEN, REPLAY = sys.argv[1:5]
c = Checks()
port = base_port()


def run_case(name, p, tmp, extra_sim=(), during=None):
    return run_portable(c, APP, SIM, name, tmp, p, extra_sim=extra_sim, during=during)


def inject_garbage(p):
    """Malformed datagrams to the feed port while the feed runs: each kind counted by the appliance."""
    rng = random.Random(5)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    time.sleep(0.2)
    for i in range(60):
        kind = i % 3
        if kind == 0:  # shorter than a MoldUDP64 header
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
        elif kind == 1:  # a block length running past the datagram
            data = SESSION.encode() + struct.pack(">QH", 10**9, 1) + struct.pack(">H", 50) + b"A" * 10
        else:  # another session's heartbeat
            data = b"OTHERSESS1" + struct.pack(">QH", 1, 0)
        s.sendto(data, ("127.0.0.1", p))
        time.sleep(0.005)
    s.close()


with tempfile.TemporaryDirectory(prefix="pmm_e2e_portable_") as tmp:
    ref = reference(GEN, REPLAY, DAY, tmp)

    sim, clean = run_case("clean", port, tmp)
    expect_books(c, "clean", clean, ref, "portable")
    expect_closed_loop(c, "clean", clean, sim)
    # Every data packet, plus at least the first end-of-session packet (repeated while the sim lingers).
    sent, seen = sim.get("packets_sent", -1), clean.get("feed_packets", -1)
    c.check(sent + 1 <= seen <= sent + sim.get("end_of_session_packets", 0) + sim.get("heartbeats", 0),
            f"clean: appliance saw {seen} feed packets, sim sent {sent} data packets")

    sim, dropped = run_case("drops", port, tmp, ("--drop-rate", "0.01", "--drop-seed", "3"))
    expect_books(c, "drops", dropped, ref, "portable")
    expect_closed_loop(c, "drops", dropped, sim)
    c.check(len(sim.get("dropped_packets", [])) > 0, "drops: the simulator dropped nothing")
    c.check(dropped.get("gaps", 0) > 0, "drops: no gap seen")
    c.check(dropped.get("gaps") == dropped.get("gaps_filled"), f"drops: {dropped.get('gaps')} gaps, {dropped.get('gaps_filled')} filled")
    c.check(dropped.get("requests", 0) >= dropped.get("gaps", 0), "drops: fewer requests than gaps")
    c.check(sim.get("retrans_requests", 0) == dropped.get("requests"), f"drops: sim answered {sim.get('retrans_requests')} requests, appliance sent {dropped.get('requests')}")

    sim, garbage = run_case("garbage", port, tmp, during=inject_garbage)
    expect_books(c, "garbage", garbage, ref, "portable")
    expect_closed_loop(c, "garbage", garbage, sim)
    c.check(garbage.get("malformed_packets") == 40, f"garbage: {garbage.get('malformed_packets')} malformed counted, 40 sent")
    c.check(garbage.get("wrong_session") == 20, f"garbage: {garbage.get('wrong_session')} wrong-session counted, 20 sent")

    # Identical counters for the same feed, whatever happened on the way. (top_events is not among them:
    # a top that changes twice within one burst is reported once, so it depends on batching.)
    for key in ("digest", "messages", "live_orders", "live_levels", "by_type", "applied"):
        c.check(clean.get(key) == dropped.get(key) == garbage.get(key), f"{key} differs between runs")

    # Signals: the first drains and exits 0; a second exits at once with 130.
    for name, signals, want in (("sigint", 1, 0), ("sigterm", 1, 0), ("double", 2, 130)):
        log_path = os.path.join(tmp, f"{name}.log")
        with open(log_path, "w") as log:
            app = subprocess.Popen([APP, *portable_args(port + 20), *FEED_SETTINGS, "--set", "status.interval_ms=0",
                                    "--set", f"persistence.dataDirectory={os.path.join(tmp, name, 'data')}"],
                                   stdout=subprocess.DEVNULL, stderr=log)
            c.check(wait_for_line(log_path, "[pmm] stages:"), f"{name}: appliance did not start")
            if signals == 1:
                app.send_signal(signal.SIGTERM if name == "sigterm" else signal.SIGINT)
            else:
                # Two signals for certain before the first is handled: stopped, both kinds pending.
                app.send_signal(signal.SIGSTOP)
                app.send_signal(signal.SIGINT)
                app.send_signal(signal.SIGTERM)
                app.send_signal(signal.SIGCONT)
            try:
                rc = app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                app.kill()
                rc = None
        text = open(log_path).read()
        c.check(rc == want, f"{name}: exit status {rc}, expected {want}")
        if want == 0:
            c.check("stopping (signal): draining rings" in text and "drained" in text, f"{name}: no drain in the log")

c.exit()
