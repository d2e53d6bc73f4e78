"""Shared by the root-only end-to-end tests: network namespaces, and the appliance against exchange-sim in
them. AfPacketLink: two namespaces joined by one veth pair (the simulator's side has an IP address and a
static neighbour entry for the appliance, so no ARP is needed; the appliance's side has no address, so its
kernel ignores the traffic and only the packet socket sees it). TapNamespace: one namespace where the
appliance creates a DPDK net_tap interface and the simulator publishes through the kernel side of it.

In both the simulator's order gateway listens on the simulator's address (ORDER_PORT, beside its
retransmission server) and the appliance's orders.gateway points there: the frame backends send orders,
like re-requests, to network.gateway_mac, the simulator's side of the link.

Both are context managers: the namespaces (and with them the veth pair or tap) are removed on every exit
path; stop_on_signals() turns meson's SIGTERM into SystemExit so that holds for its timeout too.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e_common import DAY, appliance_command, expect_books, expect_closed_loop, run_feed, sim_command

# The namespaces are ours: fixed ports. The appliance's order port is its default (orders.port 26402).
FEED_PORT, SERVER_PORT, ORDER_PORT = 26400, 26410, 26420
# Paced so that a busy shared machine keeps up with a clean run (at full speed the RX ring or the tap can
# overflow: recovered by re-requests, but then the clean run tests the same path as the lossy one).
RATE = "1000000"


class Unavailable(Exception):
    """This machine cannot run the test (not root, no iproute2, no namespaces, no tun): a skip, not a failure."""


def require_root(what, tun=False):
    if os.geteuid() != 0:
        raise Unavailable(f"needs root ({what})")
    if shutil.which("ip") is None:
        raise Unavailable("no ip command (iproute2)")
    if tun and not os.path.exists("/dev/net/tun"):
        raise Unavailable("no /dev/net/tun")


def stop_on_signals():
    def on_term(signum, frame):
        raise SystemExit(128 + signum)  # runs the callers' finally blocks and context exits
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)


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


def add_namespace(ns):
    """A namespace with lo up and nothing on its links but the test's traffic (no IPv6 router solicitations
    or MLD reports)."""
    try:
        ip("netns", "add", ns)
    except RuntimeError as e:
        raise Unavailable(f"cannot create a network namespace here ({e})")
    set_sysctl(ns, "/proc/sys/net/ipv6/conf/all/disable_ipv6", 1)
    set_sysctl(ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6", 1)
    ip("-n", ns, "link", "set", "lo", "up")


def dpdk_lcores():
    """Two lcores (main and worker) on the CPUs we may use; both on one CPU if there is only one."""
    cpus = sorted(os.sched_getaffinity(0))
    return ["-l", f"{cpus[0]},{cpus[1]}"] if len(cpus) >= 2 else ["--lcores", f"0@{cpus[0]},1@{cpus[0]}"]


def dpdk_eal(file_prefix, vdev):
    """EAL arguments for a virtual device without hugepages, PCI, shared config or telemetry."""
    return ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry", f"--file-prefix={file_prefix}",
            *dpdk_lcores(), "--log-level=lib.eal:warning", f"--vdev={vdev}"]


class AfPacketLink:
    """The AF_PACKET backend in one namespace, exchange-sim in another, one veth pair between them."""

    def __init__(self):
        pid = os.getpid()
        self.sim_ns = self.sim_if = f"pmmv{pid}s"  # at most 12 characters: under IFNAMSIZ
        self.app_ns = self.app_if = f"pmmv{pid}a"
        subnet = 20 + pid % 200
        self.sim_ip, self.app_ip = f"10.77.{subnet}.1", f"10.77.{subnet}.2"
        self.app_mac = self.sim_mac = None

    def __enter__(self):
        try:
            add_namespace(self.sim_ns)
            add_namespace(self.app_ns)
            set_sysctl(self.app_ns, "/proc/sys/net/ipv4/ip_forward", 0)  # the appliance's kernel must not route the feed
            ip("link", "add", self.sim_if, "type", "veth", "peer", "name", self.app_if)
            ip("link", "set", self.sim_if, "netns", self.sim_ns)
            ip("link", "set", self.app_if, "netns", self.app_ns)
            ip("-n", self.sim_ns, "addr", "add", f"{self.sim_ip}/24", "dev", self.sim_if)
            for ns, dev in ((self.sim_ns, self.sim_if), (self.app_ns, self.app_if)):
                ip("-n", ns, "link", "set", dev, "up")
            self.app_mac, self.sim_mac = mac_of(self.app_ns, self.app_if), mac_of(self.sim_ns, self.sim_if)
            ip("-n", self.sim_ns, "neigh", "replace", self.app_ip, "lladdr", self.app_mac, "dev", self.sim_if,
               "nud", "permanent")
        except BaseException:
            self.__exit__()
            raise
        print(f"link: {self.sim_ns} {self.sim_ip} {self.sim_mac} <-> {self.app_ns} {self.app_ip} {self.app_mac}", flush=True)
        return self

    def __exit__(self, *exc):
        ip("netns", "del", self.sim_ns, check=False)  # takes its end of the veth pair, and so the pair, with it
        ip("netns", "del", self.app_ns, check=False)

    def run(self, c, app, sim, name, tmp, day=DAY, extra_sim=(), extra_app=(), rate=RATE):
        app_cmd = in_ns(self.app_ns, *appliance_command(
            app, "--backend", "afpacket", "--set", f"afpacket.interface={self.app_if}",
            "--set", f"network.local_ip={self.app_ip}", "--set", f"network.gateway_mac={self.sim_mac}",
            "--set", f"retransmission.server={self.sim_ip}:{SERVER_PORT}", "--set", f"feed.port={FEED_PORT}",
            "--set", f"orders.gateway={self.sim_ip}:{ORDER_PORT}", *extra_app, data_dir=os.path.join(tmp, name, "data")))
        positions = os.path.join(tmp, f"{name}.positions.json")
        sim_cmd = in_ns(self.sim_ns, *sim_command(sim, day, f"{self.app_ip}:{FEED_PORT}", f"{self.sim_ip}:{SERVER_PORT}",
                                                  rate, *extra_sim, order_listen=f"{self.sim_ip}:{ORDER_PORT}",
                                                  positions_out=positions, bind=self.sim_ip))
        return run_feed(c, name, tmp, app_cmd, sim_cmd, positions)


class TapNamespace:
    """The DPDK backend on net_tap and exchange-sim in one namespace: the kernel side of the tap the appliance
    creates gets the simulator's address and a static neighbour entry for the appliance (the backend does
    not answer ARP)."""
    SIM_IP, APP_IP = "10.77.0.1", "10.77.0.2"  # the namespace is ours: no clash with other tests
    APP_MAC = "02:00:00:77:00:02"  # net_tap's port and the kernel's tap interface share it

    def __init__(self):
        pid = os.getpid()
        self.ns = f"pmmd{pid}"
        self.tap = f"pmmt{pid}"[:15]

    def __enter__(self):
        add_namespace(self.ns)
        return self

    def __exit__(self, *exc):
        ip("netns", "del", self.ns, check=False)  # the tap goes with the appliance, or with the namespace

    def configure_tap(self):
        ip("-n", self.ns, "addr", "replace", f"{self.SIM_IP}/24", "dev", self.tap)
        ip("-n", self.ns, "link", "set", self.tap, "up")
        ip("-n", self.ns, "neigh", "replace", self.APP_IP, "lladdr", self.APP_MAC, "dev", self.tap, "nud", "permanent")

    def run(self, c, app, sim, name, tmp, day=DAY, extra_sim=(), extra_app=(), rate=RATE):
        eal = dpdk_eal(f"pmm-e2e-{os.getpid()}-{name}", f"net_tap0,iface={self.tap},mac={self.APP_MAC}")
        # Stopped by SIGINT once the simulator is done (not at the end of the session): the tap goes with the
        # appliance, and the simulator still sends end-of-session packets while it lingers. The end of the
        # session unwinds our orders meanwhile, answered by the gateway while the simulator lingers.
        app_cmd = in_ns(self.ns, *appliance_command(
            app, "--backend", "dpdk", "--set", "dpdk.eal=" + json.dumps(eal),
            "--set", f"network.local_ip={self.APP_IP}", "--set", f"network.gateway_mac={self.APP_MAC}",
            "--set", f"retransmission.server={self.SIM_IP}:{SERVER_PORT}", "--set", f"feed.port={FEED_PORT}",
            "--set", f"orders.gateway={self.SIM_IP}:{ORDER_PORT}", *extra_app, data_dir=os.path.join(tmp, name, "data"),
            exit_at_end_of_session=False))
        positions = os.path.join(tmp, f"{name}.positions.json")
        sim_cmd = in_ns(self.ns, *sim_command(sim, day, f"{self.APP_IP}:{FEED_PORT}", f"{self.SIM_IP}:{SERVER_PORT}",
                                              rate, *extra_sim, order_listen=f"{self.SIM_IP}:{ORDER_PORT}",
                                              positions_out=positions, bind=self.SIM_IP))
        return run_feed(c, name, tmp, app_cmd, sim_cmd, positions, before_sim=self.configure_tap, stop_app=True)


def check_clean_and_lossy(c, run, ref, backend, drop_seed):
    """Two runs of the day through run(name, extra_sim): clean, and with the simulator dropping feed packets
    (the first two and 2 % of the rest). Both end with the books of the replay ref; in the lossy one every
    gap is re-requested in frames the backend built itself (AF_PACKET's TX ring, rte_eth_tx_burst), the
    server answers each request and the books are those of the clean run. In both the closed loop works:
    orders sent as frames, filled, positions equal to the exchange's, nothing open at exit (the order
    session loses nothing: only feed packets are dropped)."""
    sim, clean = run("clean", ())
    expect_books(c, "clean", clean, ref, backend)
    expect_closed_loop(c, "clean", clean, sim)
    c.check(sim.get("dropped_packet_count") == 0, "clean: the simulator dropped packets")
    # Every feed packet reached the parse stage, directly or (after a kernel ring overflow) re-requested.
    c.check(clean.get("feed_packets", 0) + clean.get("retrans_packets", 0) >= sim.get("packets_sent", 0),
            "clean: fewer packets than the simulator sent")

    sim, dropped = run("drops", ("--drop-packets", "1,2", "--drop-rate", "0.02", "--drop-seed", str(drop_seed)))
    expect_books(c, "drops", dropped, ref, backend)
    expect_closed_loop(c, "drops", dropped, sim)
    c.check(sim.get("dropped_packet_count", 0) > 2, "drops: the simulator dropped nothing")
    c.check(dropped.get("gaps", 0) > 0, "drops: no gap seen")
    c.check(dropped.get("requests", 0) >= dropped.get("gaps", 0), "drops: fewer requests than gaps")
    # TX carries the re-requests and the order session's datagrams (order_datagrams_sent; older builds
    # named it orders_sent, the second key of that name: see e2e_common.parse_summary).
    order_datagrams = dropped.get("order_datagrams_sent", dropped.get("orders_sent#2", -1))
    c.check(dropped.get("tx_sent") == dropped.get("requests", 0) + order_datagrams and dropped.get("tx_failed") == 0,
            f"drops: tx_sent {dropped.get('tx_sent')}, tx_failed {dropped.get('tx_failed')}, requests "
            f"{dropped.get('requests')}, order datagrams {order_datagrams}")
    c.check(sim.get("retrans_requests") == dropped.get("requests"),
            f"drops: the server answered {sim.get('retrans_requests')} requests, the appliance sent {dropped.get('requests')}")
    c.check(dropped.get("retrans_packets", 0) > 0, "drops: no retransmission reached the appliance")

    # top_events is left out: the book stage coalesces top changes per burst, and bursts follow timing.
    for key in ("digest", "messages", "live_orders", "live_levels", "by_type", "applied"):
        c.check(clean.get(key) == dropped.get(key), f"{key} differs between the clean and the lossy run")
