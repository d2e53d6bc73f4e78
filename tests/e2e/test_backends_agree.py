#!/usr/bin/env python3
"""Every backend builds the same books from the same feed, and trades them the same way. One seeded day
(e2e_common.DAY), four clean runs:
  portable  --backend portable against exchange-sim over loopback UDP;
  afpacket  --backend afpacket against exchange-sim over a veth pair between two network namespaces;
  dpdk-tap  --backend dpdk on net_tap against exchange-sim in a network namespace;
  dpdk-pcap --backend dpdk on net_pcap replaying `itch-gen --format pcap` of the day (no simulator).
All four must end with the same digest of all books and the same counters, equal to a plain itch-replay
of the day, with nothing lost and no gap.

The three runs with a simulator also close the loop: the appliance quotes with OUCH orders to the
simulator's order gateway, in deterministic mode with the same latency on both sides (e2e_common:
ORDER_LATENCY_US, the rate from deterministic_timing()), so what it sends and what it gets filled is a
function of the feed alone. They must agree on the order stream (order_stream_digest), the order and fill
counts, the positions per symbol, realized and unrealized PnL and fees, and on the simulator's side of it;
nothing may be late on either side; each run's positions must equal the simulator's positions file for our
firm, and nothing of ours may rest at exit on either side. Prints a table of the books and one of the orders.

The last three need root (namespaces, AF_PACKET, DPDK's EAL) and a build with those backends
(`pinnaclemm --backends`); without them only the portable run is compared with itch-replay, and the test
says which runs it left out. Namespaces are removed on every exit path, SIGTERM from meson included.

Usage: test_backends_agree.py PINNACLEMM EXCHANGE_SIM ITCH_GEN ITCH_REPLAY
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "backends"))
from e2e_common import (DAY, Checks, appliance_command, base_port, deterministic_args, deterministic_timing, expect_books,
                        expect_closed_loop, parse_summary, reference, run_portable, simulator_positions, summary_line)
from netns_common import FEED_PORT, AfPacketLink, TapNamespace, Unavailable, dpdk_eal, require_root, stop_on_signals

APP, SIM, GEN, REPLAY = sys.argv[1:5]
# Equal in all four runs: the books (digest and sizes) and every count of what the feed held.
SAME = ("digest", "messages", "live_orders", "live_levels", "applied", "by_type", "unknown_type", "bad_length",
        "malformed_packets", "wrong_session", "gaps", "messages_lost", "end_of_session")
# Equal in the runs with a simulator: what the appliance sent and what came of it (orders_sent is the trading
# stage's count of OUCH messages: see e2e_common.parse_summary) ...
ORDERS_SAME = ("order_stream_digest", "orders_sent", "enters", "replaces", "cancels", "fills", "responses", "positions",
               "net_position", "realized_pnl_e4", "unrealized_pnl_e4", "fees_e4", "risk_rejects", "risk_rejects_by_reason",
               "anomalies")
# ... and what the simulator's gateway and matching engine did with it.
GATEWAY_SAME = ("orders_received", "enters", "replaces", "cancels", "accepted", "rejected", "replaced", "canceled",
                "cancel_rejects", "fills")
stop_on_signals()
c = Checks()


def run_dpdk_pcap(name, tmp):
    """The day as a pcap, read by net_pcap as fast as the RX stage polls it: nothing can be dropped."""
    capture = os.path.join(tmp, "day.pcap")
    subprocess.run([GEN, *DAY, "--format", "pcap", "--port", str(FEED_PORT), "--out", capture], check=True,
                   capture_output=True, timeout=300)
    eal = dpdk_eal(f"pmm-agree-{os.getpid()}", f"net_pcap0,rx_pcap={capture},tx_pcap=/dev/null")
    # Frames go to itch-gen's multicast group: local_ip 0.0.0.0 accepts any destination address.
    # Order entry off (no gateway): nobody would answer, and the unwind would wait --unwind-ms for nothing.
    command = appliance_command(APP, "--backend", "dpdk", "--set", "dpdk.eal=" + json.dumps(eal),
                                "--set", "network.local_ip=0.0.0.0", "--set", "network.gateway_mac=02:00:00:00:00:01",
                                "--set", f"feed.port={FEED_PORT}", "--set", "orders.gateway=",
                                data_dir=os.path.join(tmp, name, "data"))
    log_path = os.path.join(tmp, f"{name}.log")
    with open(log_path, "w") as log:
        r = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, timeout=300)
    try:
        summary = parse_summary(r.stdout)
    except json.JSONDecodeError:
        summary = None
    c.check(r.returncode == 0 and summary is not None,
            f"{name}: pinnaclemm exited {r.returncode}; log {open(log_path).read()[-3000:]}")
    summary = summary or {}
    print(summary_line(name, summary), flush=True)
    return {}, summary


def leg_portable(name, tmp):
    return run_portable(c, APP, SIM, name, tmp, base_port(), extra_app=APP_DETERMINISTIC, extra_sim=SIM_DETERMINISTIC,
                        rate=RATE)


def leg_afpacket(name, tmp):
    require_root("network namespaces, veth, AF_PACKET")
    with AfPacketLink() as link:
        return link.run(c, APP, SIM, name, tmp, extra_app=APP_DETERMINISTIC, extra_sim=SIM_DETERMINISTIC, rate=RATE)


def leg_dpdk_tap(name, tmp):
    require_root("DPDK EAL, network namespaces, tap", tun=True)
    with TapNamespace() as ns:
        return ns.run(c, APP, SIM, name, tmp, extra_app=APP_DETERMINISTIC, extra_sim=SIM_DETERMINISTIC, rate=RATE)


def leg_dpdk_pcap(name, tmp):
    require_root("DPDK EAL")
    return run_dpdk_pcap(name, tmp)


backends = subprocess.run([APP, "--backends"], capture_output=True, text=True, check=True).stdout.split()
legs = [("portable", "portable", leg_portable),
        ("afpacket", "afpacket", leg_afpacket),
        ("dpdk-tap", "dpdk", leg_dpdk_tap),
        ("dpdk-pcap", "dpdk", leg_dpdk_pcap)]
runs, sims, left_out = {}, {}, []


def late_counts(summary, sim):
    orders = sim.get("orders", {})
    return summary.get("late_responses", 0), orders.get("late_orders", 0), orders.get("held_full", 0)


with tempfile.TemporaryDirectory(prefix="pmm_e2e_agree_") as tmp:
    ref = reference(GEN, REPLAY, DAY, tmp)
    LATENCY_US, RATE, fewest = deterministic_timing(tmp)
    APP_DETERMINISTIC, SIM_DETERMINISTIC = deterministic_args(LATENCY_US)
    print(f"deterministic mode: latency {LATENCY_US / 1e6:.0f} s of feed time on both sides; the day's sparsest "
          f"such window holds {fewest} messages; at {RATE} messages/s that is {fewest / RATE * 1000:.0f} ms of real "
          f"time, the most an order or a response may lag the feed", flush=True)
    for name, backend, run in legs:
        if backend not in backends:
            left_out.append(f"{name} (this build has no {backend} backend)")
            continue
        began = time.monotonic()
        try:
            sim, summary = run(name, tmp)
            # Late means the machine stalled one side for longer than the margin (a start-up stall of a busy
            # shared machine has done it): the run is then not a function of the feed. Once, run it again
            # (fresh processes and data directory); a second late run fails below.
            late = late_counts(summary, sim)
            if sim and any(late):
                print(f"{name}: late_responses, late_orders, held_full = {late}: not deterministic, "
                      "running it again", flush=True)
                sim, summary = run(name + "-again", tmp)
        except Unavailable as e:
            left_out.append(f"{name} ({e})")
            continue
        runs[name] = (summary, time.monotonic() - began)
        expect_books(c, name, summary, ref, backend)
        if sim:  # clean: the simulator dropped nothing on purpose
            c.check(sim.get("dropped_packet_count") == 0, f"{name}: the simulator dropped packets")
            expect_closed_loop(c, name, summary, sim, deterministic=True)
            sims[name] = sim
        c.check(summary.get("gaps") == 0, f"{name}: {summary.get('gaps')} gaps in a clean run")

print()
columns = ("run", "digest", "messages", "live_orders", "live_levels", "applied", "gaps", "lost", "eos", "malformed",
           "wrong_ses", "unknown", "bad_len", "seconds")
rows = [("itch-replay", ref["digest"], ref["messages"], ref["live_orders"], "", "", "", "", "", "", "", "", "", "")]
for name, (s, seconds) in runs.items():
    rows.append((name, s.get("digest"), s.get("messages"), s.get("live_orders"), s.get("live_levels"), s.get("applied"),
                 s.get("gaps"), s.get("messages_lost"), s.get("end_of_session"), s.get("malformed_packets"),
                 s.get("wrong_session"), s.get("unknown_type"), s.get("bad_length"), f"{seconds:.1f}"))
widths = [max(len(str(r[i])) for r in (columns, *rows)) for i in range(len(columns))]
for r in (columns, *rows):
    print("  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in enumerate(zip(r, widths))), flush=True)
print()
if sims:
    columns = ("run", "order_digest", "orders", "enter", "replace", "cancel", "fills", "position", "rPnL_e4", "uPnL_e4",
               "fees_e4", "open_exit", "late_resp", "sim_recv", "sim_fills", "late_ord", "held_full", "held_peak")
    rows = []
    for name in sims:
        s, o = runs[name][0], sims[name].get("orders", {})
        rows.append((name, s.get("order_stream_digest"), s.get("orders_sent"), s.get("enters"), s.get("replaces"),
                     s.get("cancels"), s.get("fills"), s.get("net_position"), s.get("realized_pnl_e4"),
                     s.get("unrealized_pnl_e4"), s.get("fees_e4"), s.get("open_orders_at_exit"), s.get("late_responses"),
                     o.get("orders_received"), o.get("fills"), o.get("late_orders"), o.get("held_full"), o.get("held_peak")))
    widths = [max(len(str(r[i])) for r in (columns, *rows)) for i in range(len(columns))]
    for r in (columns, *rows):
        print("  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in enumerate(zip(r, widths))), flush=True)
    print()

first = next(iter(runs))
for name, (s, _) in runs.items():
    for key in SAME:
        c.check(s.get(key) == runs[first][0].get(key), f"{key}: {name} has {s.get(key)}, {first} has {runs[first][0].get(key)}")
    c.check(s.get("messages_lost") == 0 and s.get("gaps") == 0 and s.get("end_of_session") == 1,
            f"{name}: lost {s.get('messages_lost')}, gaps {s.get('gaps')}, end_of_session {s.get('end_of_session')}")
if sims:
    first = next(iter(sims))
    for name in sims:
        for key in ORDERS_SAME:
            c.check(runs[name][0].get(key) == runs[first][0].get(key),
                    f"{key}: {name} has {runs[name][0].get(key)}, {first} has {runs[first][0].get(key)}")
        for key in GATEWAY_SAME:
            mine, theirs = sims[name].get("orders", {}).get(key), sims[first].get("orders", {}).get(key)
            c.check(mine == theirs, f"exchange-sim {key}: {name} has {mine}, {first} has {theirs}")
        c.check(simulator_positions(sims[name])[0] == simulator_positions(sims[first])[0],
                f"exchange-sim positions of our firm differ: {name} {simulator_positions(sims[name])[0]}, "
                f"{first} {simulator_positions(sims[first])[0]}")
if left_out:
    print("left out:", "; ".join(left_out), flush=True)
    print(f"compared {len(runs)} of {len(legs)} runs: {', '.join(runs)} (and itch-replay)", flush=True)
elif not c.failures:
    print(f"all {len(runs)} backend runs agree with each other and with itch-replay; the {len(sims)} with a simulator "
          f"also on their orders, fills, positions and PnL", flush=True)
c.exit()
