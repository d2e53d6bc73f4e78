#!/usr/bin/env python3
"""exchange-sim's order gateway end to end, as a separate process over loopback UDP: a tiny client,
written from the OUCH 4.2 and MoldUDP64 offset tables (shared/specs/ouch42.txt, moldudp64.txt) with
struct.pack and independent of the C++ codec, enters, cancels and takes liquidity while the feed runs;
the answers, the gateway's heartbeats, re-requests and end of session, the --positions-out file and the
--json summary must agree with each other and with the fills received. Bad order options exit 2.

Usage: test_exchange_sim_orders.py EXCHANGE_SIM
"""
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

SIM = sys.argv[1]
failures = []
DAY = ["--seed", "5", "--messages", "20000", "--symbols", "150", "--live-orders", "4000"]
HEARTBEAT, END_OF_SESSION = 0, 0xFFFF
CLIENT_SESSION = b"PYCLIENT  "
FIRM = b"TST1"


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


# ---- MoldUDP64: header session (10), sequence (8, BE), count (2, BE); blocks: length (2, BE) + data.
def mold_header(p):
    return p[:10], struct.unpack(">Q", p[10:18])[0], struct.unpack(">H", p[18:20])[0]


def mold_blocks(p):
    _, _, count = mold_header(p)
    out, off = [], 20
    for _ in range(count if count != END_OF_SESSION else 0):
        n = struct.unpack(">H", p[off:off + 2])[0]
        out.append(p[off + 2:off + 2 + n])
        off += 2 + n
    return out


def mold_packet(session, sequence, message):
    return session + struct.pack(">QHH", sequence, 1, len(message)) + message


# ---- OUCH 4.2 inbound, from the spec's offset tables.
def enter_order(token, side, shares, stock, price, tif=99999):
    # O, token 14, side 1, shares 4, stock 8, price 4, TIF 4, firm 4, display, capacity, ISO, min qty 4,
    # cross type, customer type: 49 bytes.
    return struct.pack(">c14scI8sII4scccIcc", b"O", token.ljust(14), side, shares, stock.ljust(8), price, tif,
                       FIRM, b"Y", b"P", b"N", 0, b"N", b"R")


def cancel_order(token, shares=0):
    return struct.pack(">c14sI", b"X", token.ljust(14), shares)  # 19 bytes


# ---- OUCH 4.2 outbound.
def decode_outbound(m):
    t = m[:1]
    if t == b"A" and len(m) == 66:
        f = struct.unpack(">cQ14scI8sII4scQccIccc", m)
        return {"type": "A", "timestamp": f[1], "token": f[2], "side": f[3], "shares": f[4], "stock": f[5],
                "price": f[6], "tif": f[7], "firm": f[8], "display": f[9], "order_ref": f[10], "state": f[15]}
    if t == b"E" and len(m) == 40:
        f = struct.unpack(">cQ14sIIcQ", m)
        return {"type": "E", "timestamp": f[1], "token": f[2], "shares": f[3], "price": f[4], "liquidity": f[5],
                "match": f[6]}
    if t == b"C" and len(m) == 28:
        f = struct.unpack(">cQ14sIc", m)
        return {"type": "C", "timestamp": f[1], "token": f[2], "decrement": f[3], "reason": f[4]}
    if t == b"J" and len(m) == 24:
        f = struct.unpack(">cQ14sc", m)
        return {"type": "J", "timestamp": f[1], "token": f[2], "reason": f[3]}
    return {"type": "?", "bytes": m}


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", 0))
    return s


class Session:
    """The feed (watched for symbols and time) and the order session, on two sockets."""

    def __init__(self, feed_sock, order_sock, gateway):
        self.feed, self.orders, self.gateway = feed_sock, order_sock, gateway
        self.feed_messages = 0
        self.last_ts = 0
        self.trading = {}     # locate -> stock
        self.sells = {}       # locate -> sell orders added so far
        self.directory = {}
        self.feed_ended = False
        self.order_packets = []  # (sender, bytes)
        self.next_out = 1

    def pump(self, until, timeout=10.0):
        end = time.monotonic() + timeout
        while not until() and time.monotonic() < end:
            ready, _, _ = select.select([self.feed, self.orders], [], [], 0.02)
            for s in ready:
                data, addr = s.recvfrom(65536)
                if s is self.feed:
                    self.on_feed(data)
                else:
                    self.order_packets.append((addr, data))
        return until()

    def on_feed(self, p):
        _, _, count = mold_header(p)
        if count == END_OF_SESSION:
            self.feed_ended = True
        for m in mold_blocks(p):
            self.feed_messages += 1
            self.last_ts = int.from_bytes(m[5:11], "big")
            locate = struct.unpack(">H", m[1:3])[0]
            if m[:1] == b"R":
                self.directory[locate] = m[11:19]
            elif m[:1] == b"H" and m[19:20] == b"T":
                self.trading[locate] = m[11:19]
            elif m[:1] in (b"A", b"F") and m[19:20] == b"S":
                self.sells[locate] = self.sells.get(locate, 0) + 1

    def send(self, message, as_of=None):
        block = struct.pack(">Q", self.last_ts if as_of is None else as_of) + message
        p = mold_packet(CLIENT_SESSION, self.next_out, block)
        self.next_out += 1
        self.orders.sendto(p, self.gateway)
        return p

    def data(self):
        """(sequence, raw packet, decoded message) of the gateway's numbered messages."""
        out = []
        for addr, p in self.order_packets:
            check(addr == self.gateway, f"order packet from {addr}")
            _, seq, count = mold_header(p)
            if len(p) > 20 and count not in (HEARTBEAT, END_OF_SESSION):
                blocks = mold_blocks(p)
                check(count == 1 and len(blocks) == 1, f"packet {seq} carries {count} messages")
                out.append((seq, p, decode_outbound(blocks[0])))
        return out

    def controls(self, want):
        return [mold_header(p) for _, p in self.order_packets if len(p) == 20 and mold_header(p)[2] == want]


def start(feed_sock, *args):
    port = feed_sock.getsockname()[1]
    p = subprocess.Popen([SIM, "--feed-dest", f"127.0.0.1:{port}", "--retrans-listen", "127.0.0.1:0",
                          "--order-listen", "127.0.0.1:0", *map(str, args)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"orders on ([\d.]+):(\d+)", line)
    check(m is not None, f"start line without the order gateway's address: {line!r}")
    return p, ((m.group(1), int(m.group(2))) if m else None)


with tempfile.TemporaryDirectory(prefix="pmm_orders_") as tmp:
    positions_path = os.path.join(tmp, "positions.json")
    with udp() as feed_sock, udp() as order_sock:
        p, gateway = start(feed_sock, *DAY, "--rate", 20000, "--linger-ms", 600, "--heartbeat-ms", 100,
                           "--order-heartbeat-ms", 50, "--order-session", "PYGATEWAY", "--positions-out",
                           positions_path, "--json")
        s = Session(feed_sock, order_sock, gateway)
        check(s.pump(lambda: s.feed_messages >= 5000), f"only {s.feed_messages} feed messages arrived")
        locate = max((n, l) for l, n in s.sells.items() if l in s.trading)[1]
        stock = s.trading[locate]

        # A resting bid at one cent, another one canceled, and a buy at $10 000 that takes the asks (IOC).
        first = s.send(enter_order(b"PASSIVE1", b"B", 100, stock, 100))
        s.send(enter_order(b"PASSIVE2", b"B", 200, stock, 100))
        s.send(cancel_order(b"PASSIVE2"))
        s.send(enter_order(b"TAKE1", b"B", 300, stock, 100000000, tif=0))
        orders_ts = s.last_ts

        def answered():
            d = s.data()
            tokens = [(m["type"], m.get("token", b"").strip()) for _, _, m in d]
            took = sum(m["shares"] for _, _, m in d if m["type"] == "E")
            ioc_rest = sum(m["decrement"] for _, _, m in d if m["type"] == "C" and m["reason"] == b"I")
            return (("A", b"PASSIVE1") in tokens and ("C", b"PASSIVE2") in tokens and ("A", b"TAKE1") in tokens
                    and took + ioc_rest == 300)

        check(s.pump(answered), f"answers: {[m for _, _, m in s.data()]}")
        out = s.data()
        check([seq for seq, _, _ in out] == list(range(1, len(out) + 1)), "gateway sequence numbers not 1, 2, ...")
        msgs = [m for _, _, m in out]
        check([m["type"] for m in msgs[:3]] == ["A", "A", "C"], f"first answers {[m['type'] for m in msgs[:3]]}")
        a = msgs[0]
        check(a["type"] == "A" and a["token"] == b"PASSIVE1".ljust(14) and a["side"] == b"B" and a["shares"] == 100
              and a["stock"] == stock and a["price"] == 100 and a["firm"] == FIRM and a["state"] == b"L",
              f"Accepted {a}")
        check(0 < a["timestamp"] <= s.last_ts, f"Accepted's timestamp {a['timestamp']} is not exchange time")
        check(msgs[2]["type"] == "C" and msgs[2]["decrement"] == 200 and msgs[2]["reason"] == b"U",
              f"Canceled {msgs[2]}")
        fills = [m for m in msgs if m["type"] == "E"]
        check(len(fills) >= 1, "the marketable buy got no fill")
        for f in fills:
            check(f["token"] == b"TAKE1".ljust(14) and f["liquidity"] == b"R" and f["timestamp"] >= orders_ts,
                  f"Executed {f}")
        bought = sum(f["shares"] for f in fills)
        cash = -sum(f["shares"] * f["price"] for f in fills)

        # Heartbeats carry the next sequence; a re-request gets the original packet back; a runt is counted.
        check(s.pump(lambda: len(s.controls(HEARTBEAT)) >= 2, timeout=3), "no heartbeats from the gateway")
        next_seq = len(out) + 1
        check(all(seq == next_seq and session == b"PYGATEWAY " for session, seq, _ in s.controls(HEARTBEAT)),
              f"heartbeats {s.controls(HEARTBEAT)}, next {next_seq}")
        before = len(s.order_packets)
        order_sock.sendto(b"PYGATEWAY " + struct.pack(">QH", 1, 1), gateway)
        check(s.pump(lambda: any(len(p) > 20 for _, p in s.order_packets[before:]), timeout=3), "re-request unanswered")
        resent = [p for _, p in s.order_packets[before:] if len(p) > 20]
        check(resent[:1] == [out[0][1]], "re-sent message 1 differs from the original")
        order_sock.sendto(b"\x01\x02\x03", gateway)
        # The client re-sends its first packet: a duplicate, dropped.
        order_sock.sendto(first, gateway)

        s.pump(lambda: bool(s.controls(END_OF_SESSION)) and s.feed_ended, timeout=15)
        check(s.controls(END_OF_SESSION) != [], "no end of session from the gateway at exit")
        if s.controls(END_OF_SESSION):
            check(s.controls(END_OF_SESSION)[0][1] == next_seq, f"end of session {s.controls(END_OF_SESSION)}")
        stdout, stderr = p.communicate(timeout=20)
        check(p.returncode == 0, f"exchange-sim exited {p.returncode}: {stderr}")

    # The positions file and the summary.
    try:
        positions = json.load(open(positions_path))
    except (OSError, json.JSONDecodeError) as e:
        positions = None
        check(False, f"positions file: {e}")
    if positions:
        check(positions["session"] == "PYGATEWAY ", f"session {positions['session']!r}")
        accounts = {a["account"]: a for a in positions["accounts"]}
        check(list(accounts) == ["TST1"], f"accounts {list(accounts)}")
        acct = accounts.get("TST1", {"positions": [], "open_orders": []})
        pos = acct["positions"]
        check(len(pos) == 1 and pos[0]["symbol"] == stock.decode().strip() and pos[0]["locate"] == locate,
              f"positions {pos}")
        if pos:
            check(pos[0]["shares"] == bought == pos[0]["bought"] and pos[0]["sold"] == 0,
                  f"position {pos[0]}, fills bought {bought}")
            check(pos[0]["cash"] == cash and pos[0]["fees"] == 0, f"cash {pos[0]['cash']}, fills say {cash}")
        opens = acct["open_orders"]
        check([(o["token"], o["side"], o["price"], o["open_shares"]) for o in opens] == [("PASSIVE1", "B", 100, 100)],
              f"open orders {opens}")
        c = positions["counters"]
        expect = {"orders_received": 4, "enters": 3, "cancels": 1, "accepted": 3, "fills": len(fills),
                  "late_orders": 0, "malformed": 1, "duplicates": 1, "client_requests": 1, "retransmitted": 1,
                  "gaps": 0, "other_client": 0, "send_errors": 0, "end_of_session": 1}
        for key, value in expect.items():
            check(c.get(key) == value, f"counters[{key}] = {c.get(key)}, want {value}")
        check(c.get("responses_sent") == next_seq - 1, f"responses_sent {c.get('responses_sent')}")
        try:
            summary = json.loads(stdout)
            check(summary["orders"] == c, "the --json summary's orders differ from the positions file's counters")
            check(summary["messages"] == 20000, f"messages {summary['messages']}")
        except (json.JSONDecodeError, KeyError) as e:
            check(False, f"summary: {e}: {stdout!r}")

    # Bad order options: exit 2 naming the option; an unwritable positions file: exit 1.
    bad = [
        (["--order-listen", "here"], "--order-listen"),
        (["--order-session", "ELEVENCHARS"], "--order-session"),
        (["--order-history", "1000"], "--order-history"),
        (["--order-max-held", "0"], "--order-max-held"),
        (["--order-reject-rate", "2"], "--order-reject-rate"),
        (["--order-drop-rate", "-1"], "--order-drop-rate"),
        (["--order-listen", "off", "--positions-out", positions_path], "--positions-out"),
    ]
    for args, name in bad:
        r = subprocess.run([SIM, "--messages", "1000", "--linger-ms", "0", "--retrans-listen", "127.0.0.1:0", *args],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, f"{args}: exit {r.returncode}, want 2 ({r.stderr.strip()})")
        check(name in r.stderr, f"{args}: stderr does not name {name}: {r.stderr.strip()!r}")
    r = subprocess.run([SIM, "--messages", "1000", "--symbols", "10", "--live-orders", "100", "--linger-ms", "0",
                        "--retrans-listen", "127.0.0.1:0", "--order-listen", "127.0.0.1:0",
                        "--positions-out", os.path.join(tmp, "no", "such", "dir.json")],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "--positions-out" in r.stderr, f"unwritable positions: {r.returncode} {r.stderr!r}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("exchange-sim orders: all checks passed")
