#!/usr/bin/env python3
"""DPDK backend end to end over net_tap, without hugepages or a NIC. The appliance runs with --backend dpdk
in a network namespace of its own and creates a tap interface there (--vdev=net_tap0); the kernel side of
the tap gets the simulator's address and a static neighbour entry for the appliance (the backend does not
answer ARP). exchange-sim, in the same namespace, publishes a seeded feed through the tap and serves
retransmissions; the appliance sends its re-requests as frames it builds itself (rte_eth_tx_burst into
the tap). Two runs: clean, and with feed packets dropped at the simulator (gaps re-requested and filled).
Both must end with the books of a plain replay of the same day.

Root only (EAL, network namespaces, /dev/net/tun): exits 77 (skipped) otherwise. The namespace, and
with it the tap, is removed on every exit path, SIGTERM from meson's timeout included. The namespace is
TapNamespace in netns_common.py; the day is e2e_common.DAY, the one every end-to-end test replays.

Usage: test_dpdk_tap_e2e.py PINNACLEMM EXCHANGE_SIM ITCH_GEN ITCH_REPLAY
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns_common import TapNamespace, Unavailable, check_clean_and_lossy, require_root, stop_on_signals
from e2e_common import DAY, Checks, reference

APP, SIM, GEN, REPLAY = sys.argv[1:5]
stop_on_signals()
c = Checks()

try:
    require_root("DPDK EAL, network namespaces, tap", tun=True)
    with TapNamespace() as ns, tempfile.TemporaryDirectory(prefix="pmm_e2e_dpdk_tap_") as tmp:
        ref = reference(GEN, REPLAY, DAY, tmp)
        check_clean_and_lossy(c, lambda name, extra_sim: ns.run(c, APP, SIM, name, tmp, extra_sim=extra_sim), ref,
                              "dpdk", drop_seed=5)
except Unavailable as e:
    print(f"skipped: {e}")
    sys.exit(77)
c.exit()
