#!/usr/bin/env python3
"""AF_PACKET backend end to end over a veth pair. Two network namespaces joined by one veth pair: the
simulator's side has an IP address and a static neighbour entry for the appliance (so no ARP is
needed); the appliance's side has no address at all, so its kernel ignores the traffic and only our
packet socket sees it. exchange-sim publishes a seeded feed there and serves retransmissions; the
appliance runs with --backend afpacket and sends its re-requests as frames it builds itself. Two runs:
clean, and with feed packets dropped at the simulator (gaps re-requested over the TX ring and filled).
Both must end with the books of a plain replay of the same day.

Root only (network namespaces, veth, AF_PACKET): exits 77 (skipped) otherwise. The namespaces are
removed on every exit path, SIGTERM from meson's timeout included.

Usage: test_afpacket_e2e.py PINNACLEMM EXCHANGE_SIM ITCH_GEN ITCH_REPLAY
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
DAY = ["--seed", "11", "--messages", "300000", "--symbols", "500", "--live-orders", "50000"]
# Paced so that a busy shared machine keeps up with the clean run (at full speed the RX ring can overflow:
# recovered by re-requests, but then the clean run tests the same path as the lossy one).
RATE = "1000000"
FEED_PORT, SERVER_PORT = 26400, 26410

if os.geteuid() != 0:
    print("skipped: needs root (network namespaces, veth, AF_PACKET)")
    sys.exit(77)
if shutil.which("ip") is None:
    print("skipped: no ip command (iproute2)")
    sys.exit(77)

pid = os.getpid()
SIM_NS = SIM_IF = f"pmmv{pid}s"  # at most 12 characters: under IFNAMSIZ
APP_NS = APP_IF = f"pmmv{pid}a"
subnet = 20 + pid % 200
SIM_IP, APP_IP = f"10.77.{subnet}.1", f"10.77.{subnet}.2"


def ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def in_ns(ns, *command):
    return ["ip", "netns", "exec", ns, *command]


def set_sysctl(ns, path, value):
    """Writes /proc/sys in the namespace (its network sysctls are per namespace). Absent keys are fine."""
    subprocess.run(in_ns(ns, "sh", "-c", f"[ -e {path} ] && echo {value} > {path} || true"), capture_output=True)


def mac_of(ns, dev):
    return json.loads(ip("-n", ns, "-j", "link", "show", "dev", dev))[0]["address"]


def create_link():
    try:
        ip("netns", "add", SIM_NS)
        ip("netns", "add", APP_NS)
    except RuntimeError as e:
        print(f"skipped: cannot create network namespaces here ({e})")
        remove_link()
        sys.exit(77)
    for ns in (SIM_NS, APP_NS):
        # Nothing on the link but the test's traffic: no IPv6 router solicitations or MLD reports.
        set_sysctl(ns, "/proc/sys/net/ipv6/conf/all/disable_ipv6", 1)
        set_sysctl(ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6", 1)
    set_sysctl(APP_NS, "/proc/sys/net/ipv4/ip_forward", 0)  # the appliance's kernel must not route the feed
    ip("link", "add", SIM_IF, "type", "veth", "peer", "name", APP_IF)
    ip("link", "set", SIM_IF, "netns", SIM_NS)
    ip("link", "set", APP_IF, "netns", APP_NS)
    ip("-n", SIM_NS, "addr", "add", f"{SIM_IP}/24", "dev", SIM_IF)
    for ns, dev in ((SIM_NS, SIM_IF), (APP_NS, APP_IF), (SIM_NS, "lo"), (APP_NS, "lo")):
        ip("-n", ns, "link", "set", dev, "up")
    app_mac, sim_mac = mac_of(APP_NS, APP_IF), mac_of(SIM_NS, SIM_IF)
    ip("-n", SIM_NS, "neigh", "replace", APP_IP, "lladdr", app_mac, "dev", SIM_IF, "nud", "permanent")
    return app_mac, sim_mac


def remove_link():
    ip("netns", "del", SIM_NS, check=False)  # takes its end of the veth pair, and so the pair, with it
    ip("netns", "del", APP_NS, check=False)


def on_term(signum, frame):
    raise SystemExit(128 + signum)  # runs the finally below


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)

c = Checks()


def run_case(name, tmp, sim_mac, extra_sim=()):
    log_path = os.path.join(tmp, f"{name}.log")
    with open(log_path, "w") as log:
        app = subprocess.Popen(in_ns(APP_NS, APP, "--backend", "afpacket", "--exit-at-end-of-session", "--json",
                                     "--max-seconds", "240",
                                     "--set", f"afpacket.interface={APP_IF}",
                                     "--set", f"network.local_ip={APP_IP}",
                                     "--set", f"network.gateway_mac={sim_mac}",
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
                r = subprocess.run(in_ns(SIM_NS, SIM, "--json", *DAY, "--feed-dest", f"{APP_IP}:{FEED_PORT}", "--bind",
                                         SIM_IP, "--retrans-listen", f"{SIM_IP}:{SERVER_PORT}", "--rate", RATE, "--linger-ms", "3000",
                                         "--heartbeat-ms", "100", *extra_sim),
                                   stdout=subprocess.PIPE, stderr=log, text=True, timeout=240)
                sim_rc = r.returncode
                try:
                    sim = json.loads(r.stdout)
                except json.JSONDecodeError:
                    sim = None
            app_rc, summary = finish_appliance(app)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    log_text = open(log_path).read()
    c.check(sim_rc == 0 and sim is not None, f"{name}: exchange-sim exited {sim_rc}")
    c.check(app_rc == 0 and summary is not None, f"{name}: pinnaclemm exited {app_rc}; log {log_text[-3000:]}")
    summary = summary or {}
    print(f"{name}: messages {summary.get('messages')} digest {summary.get('digest')} rx_packets "
          f"{summary.get('rx_packets')} feed_packets {summary.get('feed_packets')} gaps {summary.get('gaps')} "
          f"filled {summary.get('gaps_filled')} requests {summary.get('requests')} retrans_packets "
          f"{summary.get('retrans_packets')} bad_frames {summary.get('bad_frames')}", flush=True)
    return sim or {}, summary


def expect_books(name, summary, ref):
    c.check(summary.get("backend") == "afpacket", f"{name}: backend {summary.get('backend')}, not afpacket")
    c.check(summary.get("digest") == ref["digest"], f"{name}: digest {summary.get('digest')} != replay {ref['digest']}")
    c.check(summary.get("messages") == ref["messages"], f"{name}: {summary.get('messages')} messages, replay {ref['messages']}")
    c.check(summary.get("live_orders") == ref["live_orders"], f"{name}: live orders differ from the replay")
    c.check(summary.get("by_type") == ref["by_type"], f"{name}: per-type counts differ from the replay")
    c.check(summary.get("messages_lost") == 0 and summary.get("gaps_unrecovered") == 0, f"{name}: messages lost")
    c.check(summary.get("gaps") == summary.get("gaps_filled"), f"{name}: {summary.get('gaps')} gaps, {summary.get('gaps_filled')} filled")
    c.check(summary.get("stale") == 0 and summary.get("end_of_session") == 1, f"{name}: not whole at the end")


try:
    app_mac, sim_mac = create_link()
    print(f"link: {SIM_NS} {SIM_IP} {sim_mac} <-> {APP_NS} {APP_IP} {app_mac}", flush=True)
    with tempfile.TemporaryDirectory(prefix="pmm_e2e_afpacket_") as tmp:
        ref = reference(GEN, REPLAY, DAY, tmp)

        sim, clean = run_case("clean", tmp, sim_mac)
        expect_books("clean", clean, ref)
        c.check(sim.get("dropped_packet_count") == 0, "clean: the simulator dropped packets")
        # Every feed packet reached the parse stage, directly or (after a kernel ring overflow) re-requested.
        c.check(clean.get("feed_packets", 0) + clean.get("retrans_packets", 0) >= sim.get("packets_sent", 0),
                "clean: fewer packets than the simulator sent")

        sim, dropped = run_case("drops", tmp, sim_mac, ("--drop-packets", "1,2", "--drop-rate", "0.02", "--drop-seed", "3"))
        expect_books("drops", dropped, ref)
        c.check(sim.get("dropped_packet_count", 0) > 2, "drops: the simulator dropped nothing")
        c.check(dropped.get("gaps", 0) > 0, "drops: no gap seen")
        c.check(dropped.get("requests", 0) >= dropped.get("gaps", 0), "drops: fewer requests than gaps")
        # The requests went out through the TX ring as frames we built: the server got each one.
        c.check(dropped.get("tx_sent") == dropped.get("requests") and dropped.get("tx_failed") == 0,
                f"drops: tx_sent {dropped.get('tx_sent')}, tx_failed {dropped.get('tx_failed')}, requests {dropped.get('requests')}")
        c.check(sim.get("retrans_requests") == dropped.get("requests"),
                f"drops: the server answered {sim.get('retrans_requests')} requests, the appliance sent {dropped.get('requests')}")
        c.check(dropped.get("retrans_packets", 0) > 0, "drops: no retransmission reached the appliance")

        # top_events is left out: the book stage coalesces top changes per burst, and bursts follow timing.
    for key in ("digest", "messages", "live_orders", "live_levels", "by_type", "applied"):
            c.check(clean.get(key) == dropped.get(key), f"{key} differs between the clean and the lossy run")
finally:
    remove_link()
c.exit()
