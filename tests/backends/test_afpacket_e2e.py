#!/usr/bin/env python3
"""AF_PACKET backend end to end over a veth pair. Two network namespaces joined by one veth pair: the
simulator's side has an IP address and a static neighbour entry for the appliance (so no ARP is
needed); the appliance's side has no address at all, so its kernel ignores the traffic and only our
packet socket sees it. exchange-sim publishes a seeded feed there and serves retransmissions; the
appliance runs with --backend afpacket and sends its re-requests as frames it builds itself. Two runs:
clean, and with feed packets dropped at the simulator (gaps re-requested over the TX ring and filled).
Both must end with the books of a plain replay of the same day.

Root only (network namespaces, veth, AF_PACKET): exits 77 (skipped) otherwise. The namespaces are
removed on every exit path, SIGTERM from meson's timeout included. The link is AfPacketLink in
netns_common.py; the day is e2e_common.DAY, the one every end-to-end test replays.

Usage: test_afpacket_e2e.py PINNACLEMM EXCHANGE_SIM ITCH_GEN ITCH_REPLAY
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns_common import AfPacketLink, Unavailable, check_clean_and_lossy, require_root, stop_on_signals
from e2e_common import DAY, Checks, reference

APP, SIM, GEN, REPLAY = sys.argv[1:5]
stop_on_signals()
c = Checks()

try:
    require_root("network namespaces, veth, AF_PACKET")
    with AfPacketLink() as link, tempfile.TemporaryDirectory(prefix="pmm_e2e_afpacket_") as tmp:
        ref = reference(GEN, REPLAY, DAY, tmp)
        check_clean_and_lossy(c, lambda name, extra_sim: link.run(c, APP, SIM, name, tmp, extra_sim=extra_sim), ref,
                              "afpacket", drop_seed=3)
except Unavailable as e:
    print(f"skipped: {e}")
    sys.exit(77)
c.exit()
