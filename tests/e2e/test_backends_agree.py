#!/usr/bin/env python3
"""Every backend builds the same books from the same feed. One seeded day (e2e_common.DAY), four clean runs:
  portable  --backend portable against exchange-sim over loopback UDP;
  afpacket  --backend afpacket against exchange-sim over a veth pair between two network namespaces;
  dpdk-tap  --backend dpdk on net_tap against exchange-sim in a network namespace;
  dpdk-pcap --backend dpdk on net_pcap replaying `itch-gen --format pcap` of the day (no simulator).
All four must end with the same digest of all books and the same counters, equal to a plain itch-replay
of the day, with nothing lost and no gap. Prints a table of the four.

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
from e2e_common import DAY, Checks, appliance_command, base_port, expect_books, reference, run_portable, summary_line
from netns_common import FEED_PORT, AfPacketLink, TapNamespace, Unavailable, dpdk_eal, require_root, stop_on_signals

APP, SIM, GEN, REPLAY = sys.argv[1:5]
# Equal in all four runs: the books (digest and sizes) and every count of what the feed held.
SAME = ("digest", "messages", "live_orders", "live_levels", "applied", "by_type", "unknown_type", "bad_length",
        "malformed_packets", "wrong_session", "gaps", "messages_lost", "end_of_session")
stop_on_signals()
c = Checks()


def run_dpdk_pcap(name, tmp):
    """The day as a pcap, read by net_pcap as fast as the RX stage polls it: nothing can be dropped."""
    capture = os.path.join(tmp, "day.pcap")
    subprocess.run([GEN, *DAY, "--format", "pcap", "--port", str(FEED_PORT), "--out", capture], check=True,
                   capture_output=True, timeout=300)
    eal = dpdk_eal(f"pmm-agree-{os.getpid()}", f"net_pcap0,rx_pcap={capture},tx_pcap=/dev/null")
    # Frames go to itch-gen's multicast group: local_ip 0.0.0.0 accepts any destination address.
    command = appliance_command(APP, "--backend", "dpdk", "--set", "dpdk.eal=" + json.dumps(eal),
                                "--set", "network.local_ip=0.0.0.0", "--set", "network.gateway_mac=02:00:00:00:00:01",
                                "--set", f"feed.port={FEED_PORT}")
    log_path = os.path.join(tmp, f"{name}.log")
    with open(log_path, "w") as log:
        r = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, timeout=300)
    try:
        summary = json.loads(r.stdout)
    except json.JSONDecodeError:
        summary = None
    c.check(r.returncode == 0 and summary is not None,
            f"{name}: pinnaclemm exited {r.returncode}; log {open(log_path).read()[-3000:]}")
    summary = summary or {}
    print(summary_line(name, summary), flush=True)
    return {}, summary


def leg_afpacket(name, tmp):
    require_root("network namespaces, veth, AF_PACKET")
    with AfPacketLink() as link:
        return link.run(c, APP, SIM, name, tmp)


def leg_dpdk_tap(name, tmp):
    require_root("DPDK EAL, network namespaces, tap", tun=True)
    with TapNamespace() as ns:
        return ns.run(c, APP, SIM, name, tmp)


def leg_dpdk_pcap(name, tmp):
    require_root("DPDK EAL")
    return run_dpdk_pcap(name, tmp)


backends = subprocess.run([APP, "--backends"], capture_output=True, text=True, check=True).stdout.split()
legs = [("portable", "portable", lambda name, tmp: run_portable(c, APP, SIM, name, tmp, base_port())),
        ("afpacket", "afpacket", leg_afpacket),
        ("dpdk-tap", "dpdk", leg_dpdk_tap),
        ("dpdk-pcap", "dpdk", leg_dpdk_pcap)]
runs, left_out = {}, []

with tempfile.TemporaryDirectory(prefix="pmm_e2e_agree_") as tmp:
    ref = reference(GEN, REPLAY, DAY, tmp)
    for name, backend, run in legs:
        if backend not in backends:
            left_out.append(f"{name} (this build has no {backend} backend)")
            continue
        began = time.monotonic()
        try:
            sim, summary = run(name, tmp)
        except Unavailable as e:
            left_out.append(f"{name} ({e})")
            continue
        runs[name] = (summary, time.monotonic() - began)
        expect_books(c, name, summary, ref, backend)
        if sim:  # clean: the simulator dropped nothing on purpose
            c.check(sim.get("dropped_packet_count") == 0, f"{name}: the simulator dropped packets")
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

first = next(iter(runs))
for name, (s, _) in runs.items():
    for key in SAME:
        c.check(s.get(key) == runs[first][0].get(key), f"{key}: {name} has {s.get(key)}, {first} has {runs[first][0].get(key)}")
    c.check(s.get("messages_lost") == 0 and s.get("gaps") == 0 and s.get("end_of_session") == 1,
            f"{name}: lost {s.get('messages_lost')}, gaps {s.get('gaps')}, end_of_session {s.get('end_of_session')}")
if left_out:
    print("left out:", "; ".join(left_out), flush=True)
    print(f"compared {len(runs)} of {len(legs)} runs: {', '.join(runs)} (and itch-replay)", flush=True)
else:
    print(f"all {len(runs)} backend runs agree with each other and with itch-replay", flush=True)
c.exit()
