#!/usr/bin/env python3
"""DPDK backend end to end over net_tap, without hugepages or a NIC. The appliance runs with --backend dpdk
in a network namespace of its own and creates a tap interface there (--vdev=net_tap0); the kernel side of
the tap gets the simulator's address and a static neighbour entry for the appliance (the backend does not
answer ARP). exchange-sim, in the same namespace, publishes a seeded feed through the tap and serves
retransmissions; the appliance sends its re-requests as frames it builds itself (rte_eth_tx_burst into
the tap). Two runs: clean, and with feed packets dropped at the simulator (gaps re-requested and filled).
Both must end with the books of a plain replay of the same day.

Root only (EAL, network namespaces, /dev/net/tun): exits 77 (skipped) otherwise. The namespace, and
with it the tap, is removed on every exit path, SIGTERM from meson's timeout included.

Usage: test_dpdk_tap_e2e.py PINNACLEMM EXCHANGE_SIM ITCH_GEN ITCH_REPLAY
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e_common import Checks, finish_appliance, reference, wait_for_line

APP, SIM, GEN, REPLAY = sys.argv[1:5]
DAY = ["--seed", "12", "--messages", "300000", "--symbols", "500", "--live-orders", "50000"]
RATE = "1000000"  # paced: the tap is a kernel path, and the machine is shared
FEED_PORT, SERVER_PORT = 26400, 26410

if os.geteuid() != 0:
    print("skipped: needs root (DPDK EAL, network namespaces, tap)")
    sys.exit(77)
if shutil.which("ip") is None or not os.path.exists("/dev/net/tun"):
    print("skipped: no ip command (iproute2) or no /dev/net/tun")
    sys.exit(77)

pid = os.getpid()
NS = f"pmmd{pid}"
TAP = f"pmmt{pid}"[:15]
SIM_IP, APP_IP = "10.77.0.1", "10.77.0.2"  # the namespace is ours: no clash with other tests
APP_MAC = "02:00:00:77:00:02"  # net_tap's port and the kernel's tap interface share it
cpus = sorted(os.sched_getaffinity(0))
LCORES = ["-l", f"{cpus[0]},{cpus[1]}"] if len(cpus) >= 2 else ["--lcores", f"0@{cpus[0]},1@{cpus[0]}"]


def ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def in_ns(*command):
    return ["ip", "netns", "exec", NS, *command]


def create_namespace():
    try:
        ip("netns", "add", NS)
    except RuntimeError as e:
        print(f"skipped: cannot create a network namespace here ({e})")
        sys.exit(77)
    for path in ("/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"):
        subprocess.run(in_ns("sh", "-c", f"[ -e {path} ] && echo 1 > {path} || true"), capture_output=True)
    ip("-n", NS, "link", "set", "lo", "up")


def configure_tap():
    """The kernel side of the tap the appliance created: the simulator's address, a route to us."""
    ip("-n", NS, "addr", "replace", f"{SIM_IP}/24", "dev", TAP)
    ip("-n", NS, "link", "set", TAP, "up")
    ip("-n", NS, "neigh", "replace", APP_IP, "lladdr", APP_MAC, "dev", TAP, "nud", "permanent")


def on_term(signum, frame):
    raise SystemExit(128 + signum)  # runs the finally below


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)

c = Checks()


def run_case(name, tmp, extra_sim=()):
    log_path = os.path.join(tmp, f"{name}.log")
    eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry", f"--file-prefix=pmm-e2e-{pid}-{name}", *LCORES,
           "--log-level=lib.eal:warning", f"--vdev=net_tap0,iface={TAP},mac={APP_MAC}"]
    with open(log_path, "w") as log:
        # Stopped by SIGINT once the simulator is done: the tap goes with the appliance, and the simulator
        # still sends end-of-session packets while it lingers.
        app = subprocess.Popen(in_ns(APP, "--backend", "dpdk", "--json",
                                     "--max-seconds", "240",
                                     "--set", "dpdk.eal=" + json.dumps(eal),
                                     "--set", f"network.local_ip={APP_IP}",
                                     "--set", f"network.gateway_mac={APP_MAC}",
                                     "--set", f"retransmission.server={SIM_IP}:{SERVER_PORT}",
                                     "--set", f"feed.port={FEED_PORT}",
                                     "--set", "feed.session=PMMSIM0001",
                                     "--set", "books.max_locates=1024",
                                     "--set", "status.interval_ms=500"),
                               stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            started = wait_for_line(log_path, "[pmm] stages:")
            c.check(started, f"{name}: appliance did not start")
            sim_rc, sim = -1, None
            if started:
                configure_tap()
                r = subprocess.run(in_ns(SIM, "--json", *DAY, "--feed-dest", f"{APP_IP}:{FEED_PORT}", "--bind", SIM_IP,
                                         "--retrans-listen", f"{SIM_IP}:{SERVER_PORT}", "--rate", RATE,
                                         "--linger-ms", "3000", "--heartbeat-ms", "100", *extra_sim),
                                   stdout=subprocess.PIPE, stderr=log, text=True, timeout=240)
                sim_rc = r.returncode
                try:
                    sim = json.loads(r.stdout)
                except json.JSONDecodeError:
                    sim = None
            app.send_signal(signal.SIGINT)  # first signal: drain, print the summary, exit 0
            app_rc, summary = finish_appliance(app)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    log_text = open(log_path).read()
    c.check(sim_rc == 0 and sim is not None, f"{name}: exchange-sim exited {sim_rc}; log {log_text[-3000:]}")
    c.check(app_rc == 0 and summary is not None, f"{name}: pinnaclemm exited {app_rc}; log {log_text[-3000:]}")
    summary = summary or {}
    print(f"{name}: messages {summary.get('messages')} digest {summary.get('digest')} rx_packets "
          f"{summary.get('rx_packets')} feed_packets {summary.get('feed_packets')} gaps {summary.get('gaps')} "
          f"filled {summary.get('gaps_filled')} requests {summary.get('requests')} retrans_packets "
          f"{summary.get('retrans_packets')} bad_frames {summary.get('bad_frames')}", flush=True)
    return sim or {}, summary


def expect_books(name, summary, ref):
    c.check(summary.get("backend") == "dpdk", f"{name}: backend {summary.get('backend')}, not dpdk")
    c.check(summary.get("digest") == ref["digest"], f"{name}: digest {summary.get('digest')} != replay {ref['digest']}")
    c.check(summary.get("messages") == ref["messages"], f"{name}: {summary.get('messages')} messages, replay {ref['messages']}")
    c.check(summary.get("live_orders") == ref["live_orders"], f"{name}: live orders differ from the replay")
    c.check(summary.get("by_type") == ref["by_type"], f"{name}: per-type counts differ from the replay")
    c.check(summary.get("messages_lost") == 0 and summary.get("gaps_unrecovered") == 0, f"{name}: messages lost")
    c.check(summary.get("gaps") == summary.get("gaps_filled"), f"{name}: {summary.get('gaps')} gaps, {summary.get('gaps_filled')} filled")
    c.check(summary.get("stale") == 0 and summary.get("end_of_session") == 1, f"{name}: not whole at the end")


try:
    create_namespace()
    with tempfile.TemporaryDirectory(prefix="pmm_e2e_dpdk_tap_") as tmp:
        ref = reference(GEN, REPLAY, DAY, tmp)

        sim, clean = run_case("clean", tmp)
        expect_books("clean", clean, ref)
        c.check(sim.get("dropped_packet_count") == 0, "clean: the simulator dropped packets")
        c.check(clean.get("feed_packets", 0) + clean.get("retrans_packets", 0) >= sim.get("packets_sent", 0),
                "clean: fewer packets than the simulator sent")

        sim, dropped = run_case("drops", tmp, ("--drop-packets", "1,2", "--drop-rate", "0.02", "--drop-seed", "5"))
        expect_books("drops", dropped, ref)
        c.check(sim.get("dropped_packet_count", 0) > 2, "drops: the simulator dropped nothing")
        c.check(dropped.get("gaps", 0) > 0, "drops: no gap seen")
        c.check(dropped.get("requests", 0) >= dropped.get("gaps", 0), "drops: fewer requests than gaps")
        # The requests left through rte_eth_tx_burst as frames we built, and the kernel delivered each one.
        c.check(dropped.get("tx_sent") == dropped.get("requests") and dropped.get("tx_failed") == 0,
                f"drops: tx_sent {dropped.get('tx_sent')}, tx_failed {dropped.get('tx_failed')}, requests {dropped.get('requests')}")
        c.check(sim.get("retrans_requests") == dropped.get("requests"),
                f"drops: the server answered {sim.get('retrans_requests')} requests, the appliance sent {dropped.get('requests')}")
        c.check(dropped.get("retrans_packets", 0) > 0, "drops: no retransmission reached the appliance")
        for key in ("digest", "messages", "live_orders", "live_levels", "by_type", "applied"):
            c.check(clean.get(key) == dropped.get(key), f"{key} differs between the clean and the lossy run")
finally:
    ip("netns", "del", NS, check=False)
c.exit()
