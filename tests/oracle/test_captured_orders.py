#!/usr/bin/env python3
"""The orders on the wire, decoded by tshark's OUCH dissector, are exactly what the order manager sent.

Usage: test_captured_orders.py PINNACLEMM EXCHANGE_SIM PMMCTL

A closed-loop run (the portable backend against exchange-sim over loopback UDP) with dumpcap capturing the
appliance's datagrams to the simulator's order gateway. Each one is a MoldUDP64 packet whose blocks are
[8-byte as-of][OUCH 4.2 inbound message] (docs/order-session.md). Wireshark has no dissector for that
framing, so the test takes the OUCH messages out (in session sequence order, one copy of each, every
retransmitted copy byte-identical), re-frames each as a SoupBinTCP Unsequenced Data packet in one synthetic
TCP connection of a new pcap, and has tshark's soupbintcp and ouch dissectors decode it
(docs/tshark-oracle.md). The expected values come from the appliance's write-ahead journal (`pmmctl journal
dump`: order-submit, replace-request and cancel-request records, docs/journal-records.md), decoded here from
the record bytes, plus the fixed fields risk/trading_stage.cpp writes into every message; the stock is the
configured symbol name the record's symbol index points at (`pinnaclemm --print-config`). Every captured
message must match the journal record with its outbound sequence in every field tshark shows, and every
journaled request must have been captured.

Exit 77 (skip) when dumpcap or tshark is missing; PMM_KEEP_ORACLE_FILES=1 keeps the temporary directory.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

SESSION = "PMMSIM0001"
FIRM = "PMM1"
DAY = ["--seed", "11", "--messages", "100000", "--symbols", "500", "--live-orders", "50000"]
SOUP_PORT = 15000  # the synthetic SoupBinTCP server port tshark is told to decode

# What risk/trading_stage.cpp writes into every message besides the journaled values (OUCH 4.2).
TIF_MARKET_HOURS = 99998
ENTER_FIXED = {"ouch.tif": str(TIF_MARKET_HOURS), "ouch.firm": FIRM, "ouch.display": "Y", "ouch.capacity": "P",
               "ouch.iso_eligible": "N", "ouch.min_quantity": "0", "ouch.cross_type": "N", "ouch.customer_type": "N"}
REPLACE_FIXED = {"ouch.tif": str(TIF_MARKET_HOURS), "ouch.display": "Y", "ouch.iso_eligible": "N",
                 "ouch.min_quantity": "0"}
CANCEL_FIXED = {"ouch.shares": "0"}  # a cancel takes the order's whole remainder: shares 0

# OUCH 4.2 inbound message lengths (shared/specs/ouch42.txt): Enter O 49, Replace U 47, Cancel X 19.
OUCH_LENGTHS = {ord("O"): 49, ord("U"): 47, ord("X"): 19}


def fail(what):
    print("FAIL:", what, flush=True)
    sys.exit(1)


def ports():
    # 50000..59999 in steps of 10, from the process id: [p, p + 10) is ours.
    p = 50000 + (os.getpid() % 1000) * 10
    return {"feed": p, "retrans_app": p + 1, "orders_app": p + 2, "retrans_sim": p + 3, "gateway": p + 4}


def wait_for(path, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False


# ---- Reading the capture (classic pcap, as dumpcap -P writes it) ----

def read_pcap(path):
    """[(linktype, frame bytes)] of a classic pcap file, either byte order, µs or ns timestamps."""
    data = open(path, "rb").read()
    if len(data) < 24:
        fail(f"{path}: {len(data)} bytes, shorter than a pcap file header")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        fail(f"{path}: not a classic pcap file (magic {magic.hex()}); dumpcap -P should write one")
    (linktype,) = struct.unpack_from(e + "I", data, 20)
    frames, at = [], 24
    while at + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from(e + "IIII", data, at)
        if at + 16 + incl > len(data):
            fail(f"{path}: record at offset {at} runs past the end of the file")
        frames.append((linktype, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    return frames


def udp_payload(linktype, frame):
    """(destination port, payload) of an IPv4/UDP frame, or None. lo is Ethernet (1) on Linux; Linux cooked
    (113) in case the capture was taken on 'any'."""
    if linktype == 1:
        if len(frame) < 14 or frame[12:14] != b"\x08\x00":
            return None
        ip = frame[14:]
    elif linktype == 113:
        if len(frame) < 16 or frame[14:16] != b"\x08\x00":
            return None
        ip = frame[16:]
    else:
        fail(f"capture link type {linktype}: expected Ethernet (1) or Linux cooked (113)")
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    ihl = (ip[0] & 0x0F) * 4
    (total,) = struct.unpack_from(">H", ip, 2)
    udp = ip[ihl:total]
    if len(udp) < 8:
        return None
    _, dport, length = struct.unpack_from(">HHH", udp, 0)
    return dport, udp[8:length]


def ouch_messages(frames, gateway_port, our_session):
    """{session sequence: (as-of, OUCH message bytes)} from the appliance's MoldUDP64 packets to the gateway,
    and counts. A message seen twice (a retransmission) must be the same bytes."""
    messages, counts = {}, {"datagrams": 0, "heartbeats_or_requests": 0, "data_packets": 0, "copies": 0,
                            "retransmitted": 0}
    for linktype, frame in frames:
        u = udp_payload(linktype, frame)
        if u is None or u[0] != gateway_port:
            continue
        payload = u[1]
        counts["datagrams"] += 1
        if len(payload) < 20:
            fail(f"datagram {counts['datagrams']} to the gateway: {len(payload)} bytes, shorter than a MoldUDP64 header")
        session = payload[:10].decode("ascii", "replace")
        seq, count = struct.unpack_from(">QH", payload, 10)
        if session != our_session:
            fail(f"datagram {counts['datagrams']}: session '{session}', expected our order session '{our_session}'")
        if count == 0 or len(payload) == 20:  # heartbeat, or our re-request of the gateway's responses
            counts["heartbeats_or_requests"] += 1
            continue
        counts["data_packets"] += 1
        at = 20
        for i in range(count):
            if at + 2 > len(payload):
                fail(f"datagram {counts['datagrams']} (sequence {seq}): block {i} of {count} starts past the end")
            (length,) = struct.unpack_from(">H", payload, at)
            block = payload[at + 2:at + 2 + length]
            if len(block) != length or length < 9:
                fail(f"datagram {counts['datagrams']} (sequence {seq}): block {i} length {length} does not fit")
            as_of, msg = struct.unpack_from(">Q", block, 0)[0], block[8:]
            expected_len = OUCH_LENGTHS.get(msg[0])
            if expected_len != len(msg):
                fail(f"sequence {seq + i}: OUCH type {chr(msg[0])!r} length {len(msg)}, expected an inbound O/U/X "
                     f"of its spec length")
            counts["copies"] += 1
            if seq + i in messages:
                counts["retransmitted"] += 1
                if messages[seq + i] != (as_of, msg):
                    fail(f"sequence {seq + i}: a retransmitted copy differs from the first")
            else:
                messages[seq + i] = (as_of, msg)
            at += 2 + length
        if at != len(payload):
            fail(f"datagram {counts['datagrams']} (sequence {seq}): {len(payload) - at} bytes after its {count} blocks")
    return messages, counts


# ---- Re-framing as SoupBinTCP over one TCP connection ----

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class TcpPcap:
    """A pcap (Ethernet) holding one TCP connection: real sequence numbers, IPv4 and TCP checksums."""
    SYN, ACK, PSH = 0x02, 0x10, 0x08

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.ends = {True: {"mac": b"\x02\0\0\0\0\x01", "ip": bytes([192, 0, 2, 1]), "port": 40000, "seq": 0x10000000, "id": 1},
                     False: {"mac": b"\x02\0\0\0\0\x02", "ip": bytes([192, 0, 2, 2]), "port": SOUP_PORT, "seq": 0xFFFFF000, "id": 1}}
        self.t = 1_700_000_000_000_000
        self.frames = 0

    def send(self, from_client, flags, payload=b""):
        me, peer = self.ends[from_client], self.ends[not from_client]
        tcp = struct.pack(">HHIIBBHHH", me["port"], peer["port"], me["seq"], peer["seq"] if flags & self.ACK else 0,
                          5 << 4, flags, 65535, 0, 0) + payload
        pseudo = me["ip"] + peer["ip"] + struct.pack(">BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack(">H", checksum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), me["id"], 0x4000, 64, 6, 0, me["ip"], peer["ip"])
        ip = ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:]
        me["id"] = (me["id"] + 1) & 0xFFFF
        me["seq"] = (me["seq"] + len(payload) + (1 if flags & self.SYN else 0)) & 0xFFFFFFFF
        frame = peer["mac"] + me["mac"] + b"\x08\x00" + ip + tcp
        self.t += 1000
        self.f.write(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, len(frame), len(frame)) + frame)
        self.frames += 1

    def close(self):
        self.f.close()


def soup(packet_type, payload):
    return struct.pack(">H", 1 + len(payload)) + packet_type.encode() + payload


def write_soup_pcap(path, ordered):
    """Handshake, Login Request / Login Accepted, then one Unsequenced Data packet per OUCH message (its own
    segment). Returns {frame number: session sequence}."""
    w = TcpPcap(path)
    w.send(True, TcpPcap.SYN)
    w.send(False, TcpPcap.SYN | TcpPcap.ACK)
    w.send(True, TcpPcap.ACK)
    w.send(True, TcpPcap.PSH | TcpPcap.ACK, soup("L", b"PMM1  " + b"secret    " + b"PMMORDERS " + b"1".rjust(20)))
    w.send(False, TcpPcap.PSH | TcpPcap.ACK, soup("A", b"PMMORDERS " + b"1".rjust(20)))
    frame_of = {}
    for seq, (_, msg) in ordered:
        w.send(True, TcpPcap.PSH | TcpPcap.ACK, soup("U", msg))
        frame_of[w.frames] = seq
    w.close()
    return frame_of


def ouch_field_names():
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True, timeout=120).stdout
    names = sorted({cols[2] for cols in (l.split("\t") for l in out.splitlines())
                    if len(cols) > 3 and cols[0] == "F" and cols[2].startswith("ouch.") and cols[3] != "FT_NONE"})
    if "ouch.order_token" not in names:
        fail("tshark -G fields lists no ouch.order_token: this tshark has no OUCH dissector")
    return names


def tshark_decode(path, fields, env):
    """{frame number: {field: value}} for every ouch.* field tshark shows (one value each: inbound
    messages have no repeated fields), plus expert infos / malformed per frame."""
    sep, agg = "\x1e", "\x1f"
    cols = ["frame.number", "ip.checksum.status", "tcp.checksum.status", "soupbintcp.packet_type",
            "soupbintcp.packet_length", "_ws.expert.message", "_ws.malformed", *fields]
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
           "-d", f"tcp.port=={SOUP_PORT},soupbintcp", "-T", "fields", "-E", "occurrence=a",
           "-E", f"separator={sep}", "-E", f"aggregator={agg}", "-E", "quote=n"]
    for c in cols:
        cmd += ["-e", c]
    r = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
    if r.returncode != 0:
        fail(f"tshark exited {r.returncode}: {r.stderr.decode(errors='replace')[-2000:]}")
    rows = {}
    for line in r.stdout.decode("utf-8", errors="replace").split("\n"):
        if not line:
            continue
        values = line.split(sep)
        if len(values) != len(cols):
            fail(f"tshark line with {len(values)} columns, expected {len(cols)}: {line!r}")
        row = {c: v for c, v in zip(cols, values) if v != ""}
        rows[int(row["frame.number"])] = row
    return rows


# ---- What the order manager sent: the journal ----

def journal_requests(pmmctl, data_dir):
    """{outbound sequence: record} for the order-submit (16), replace-request (17) and cancel-request (18)
    records, decoded from the payload bytes per docs/journal-records.md (and checked against pmmctl's own
    decoding of the same line)."""
    r = subprocess.run([pmmctl, "journal", "dump", "--data-dir", data_dir], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail(f"pmmctl journal dump exited {r.returncode}: {r.stderr[-2000:]}")
    line_re = re.compile(r"^seq=(\d+) type=(\d+)(?:\(([\w-]+)\))? len=(\d+) payload=([0-9a-fA-F]*)(?: \| (.*))?$")
    out, records = {}, 0
    for line in r.stdout.splitlines():
        m = line_re.match(line)
        if not m:
            fail(f"pmmctl journal dump: unexpected line {line!r}")
        records += 1
        jseq, rtype, name, length, payload, decoded = int(m[1]), int(m[2]), m[3], int(m[4]), bytes.fromhex(m[5]), m[6]
        if len(payload) != length:
            fail(f"journal record {jseq}: len={length} but {len(payload)} payload bytes")
        if rtype == 16:
            if length != 41:
                fail(f"journal record {jseq}: order-submit of {length} bytes, expected 41")
            token, sym, side, price, shares, seq, as_of = struct.unpack(">14sHBIIQQ", payload)
            rec = {"type": "O", "token": token.decode("ascii"), "symbol": sym, "side": "BS"[side] if side < 2 else "?",
                   "price": price, "shares": shares, "as_of": as_of}
            want = {"token": rec["token"], "symbol": str(sym), "side": rec["side"], "shares": str(shares)}
        elif rtype == 17:
            if length != 52:
                fail(f"journal record {jseq}: replace-request of {length} bytes, expected 52")
            old, new, price, shares, seq, as_of = struct.unpack(">14s14sIIQQ", payload)
            rec = {"type": "U", "token": old.decode("ascii"), "new_token": new.decode("ascii"), "price": price,
                   "shares": shares, "as_of": as_of}
            want = {"token": rec["token"], "new": rec["new_token"], "shares": str(shares)}
        elif rtype == 18:
            if length != 30:
                fail(f"journal record {jseq}: cancel-request of {length} bytes, expected 30")
            token, seq, as_of = struct.unpack(">14sQQ", payload)
            rec = {"type": "X", "token": token.decode("ascii"), "as_of": as_of}
            want = {"token": rec["token"]}
        else:
            continue
        # pmmctl's text must say the same as the bytes (both are views of one record).
        got = dict(kv.split("=", 1) for kv in (decoded or "").split(" ") if "=" in kv)
        want["out_seq"] = str(seq)
        want["as_of"] = str(rec["as_of"])
        if "price" in rec and rec["price"] != 0:
            want["price"] = str(rec["price"])
        for k, v in want.items():
            if got.get(k) != v:
                fail(f"journal record {jseq} ({name}): pmmctl shows {k}={got.get(k)!r}, its bytes say {v!r}: {line}")
        if seq in out:
            fail(f"journal records {out[seq]['journal_seq']} and {jseq} both have outbound sequence {seq}")
        rec["journal_seq"] = jseq
        out[seq] = rec
    return out, records


def expected_fields(rec, stocks):
    """The ouch.* fields (tshark's -T fields text) the message for journal record rec must show."""
    if rec["type"] == "O":
        if rec["symbol"] >= len(stocks):
            fail(f"journal record {rec['journal_seq']}: symbol index {rec['symbol']}, but {len(stocks)} symbols are configured")
        return {"ouch.packet_type": "O", "ouch.order_token": rec["token"], "ouch.buy_sell_indicator": rec["side"],
                "ouch.shares": str(rec["shares"]), "ouch.stock": stocks[rec["symbol"]].ljust(8),
                "ouch.price": str(rec["price"]), **ENTER_FIXED}
    if rec["type"] == "U":
        return {"ouch.packet_type": "U", "ouch.existing_order_token": rec["token"],
                "ouch.replacement_order_token": rec["new_token"], "ouch.shares": str(rec["shares"]),
                "ouch.price": str(rec["price"]), **REPLACE_FIXED}
    return {"ouch.packet_type": "X", "ouch.order_token": rec["token"], **CANCEL_FIXED}


def shown(value):
    # FT_CHAR fields print quoted ('B'); strings and integers print as they are.
    return value[1:-1] if len(value) == 3 and value[0] == value[2] == "'" else value


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().split("\n")[2], file=sys.stderr)
        return 2
    app, sim, pmmctl = sys.argv[1:4]
    dumpcap, tshark = shutil.which("dumpcap"), shutil.which("tshark")
    if not dumpcap or not tshark:
        print(f"SKIP: needs dumpcap and tshark (Debian: tshark); found dumpcap={dumpcap} tshark={tshark}", flush=True)
        return 77

    tmp = tempfile.mkdtemp(prefix="pmm_captured_orders_")
    keep = os.environ.get("PMM_KEEP_ORACLE_FILES") == "1"
    procs = []
    try:
        return run(app, sim, pmmctl, dumpcap, tmp, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if keep:
            print(f"kept {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(app, sim, pmmctl, dumpcap, tmp, procs):
    p = ports()
    data_dir = os.path.join(tmp, "data")
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=os.path.join(tmp, "wireshark-config"))  # no personal Decode As
    os.makedirs(env["WIRESHARK_CONFIG_DIR"])
    app_settings = ["--backend", "portable", "--set", f"feed.port={p['feed']}",
                    "--set", f"retransmission.server=127.0.0.1:{p['retrans_sim']}",
                    "--set", f"retransmission.port={p['retrans_app']}",
                    "--set", f"orders.gateway=127.0.0.1:{p['gateway']}", "--set", f"orders.port={p['orders_app']}",
                    "--set", f"orders.firm={FIRM}", "--set", f"feed.session={SESSION}", "--set", "books.max_locates=1024",
                    "--set", "persistence.enabled=true", "--set", f"persistence.dataDirectory={data_dir}"]

    # The configured symbols (the journal's symbol index points into them) and our order session name.
    r = subprocess.run([app, *app_settings, "--print-config"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f"pinnaclemm --print-config exited {r.returncode}: {r.stderr[-2000:]}")
    config = json.loads("\n".join(l for l in r.stdout.splitlines() if not l.lstrip().startswith("//")))
    stocks, order_session = config["symbols"], config["orders"]["session"].ljust(10)

    # 1. Capture the appliance's datagrams to the gateway.
    cap = os.path.join(tmp, "orders.pcap")
    cap_log = os.path.join(tmp, "dumpcap.log")
    with open(cap_log, "w") as log:
        dc = subprocess.Popen([dumpcap, "-q", "-P", "-i", "lo", "-B", "16", "-f", f"udp dst port {p['gateway']}",
                               "-w", cap], stdout=log, stderr=log)
    procs.append(dc)
    if not wait_for(cap_log, "Capturing on", 30):
        fail(f"dumpcap did not start capturing: {open(cap_log).read()[-2000:]}")
    time.sleep(0.3)  # "Capturing on" is printed as the capture opens; give the filter a moment

    # 2. The closed loop: appliance first, the simulator once its stages run.
    app_log = os.path.join(tmp, "pinnaclemm.log")
    sim_log = os.path.join(tmp, "exchange-sim.log")
    positions = os.path.join(tmp, "positions.json")
    with open(app_log, "w") as alog, open(sim_log, "w") as slog:
        a = subprocess.Popen([app, "--exit-at-end-of-session", "--json", "--max-seconds", "120", *app_settings],
                             stdout=subprocess.PIPE, stderr=alog, text=True)
        procs.append(a)
        if not wait_for(app_log, "[pmm] stages:", 30):
            fail(f"pinnaclemm did not start: {open(app_log).read()[-3000:]}")
        s = subprocess.Popen([sim, "--json", *DAY, "--feed-dest", f"127.0.0.1:{p['feed']}",
                              "--retrans-listen", f"127.0.0.1:{p['retrans_sim']}",
                              "--order-listen", f"127.0.0.1:{p['gateway']}", "--positions-out", positions,
                              "--rate", "100000", "--linger-ms", "500"], stdout=subprocess.PIPE, stderr=slog, text=True)
        procs.append(s)
        try:
            sim_out, _ = s.communicate(timeout=120)
            app_out, _ = a.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            fail("exchange-sim or pinnaclemm did not finish within 120 s")
    if s.returncode != 0:
        fail(f"exchange-sim exited {s.returncode}: {open(sim_log).read()[-3000:]}")
    if a.returncode != 0:
        fail(f"pinnaclemm exited {a.returncode}: {open(app_log).read()[-3000:]}")
    summary, sim_summary = json.loads(app_out), json.loads(sim_out)

    # 3. Stop the capture (SIGINT: dumpcap flushes and closes the file).
    time.sleep(0.2)
    dc.send_signal(signal.SIGINT)
    try:
        dc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        fail("dumpcap did not stop on SIGINT")
    cap_text = open(cap_log).read()
    m = re.search(r"Packets received/dropped on interface '[^']*': (\d+)/(\d+)", cap_text)
    if m and int(m[2]) != 0:
        fail(f"dumpcap dropped {m[2]} of {m[1]} packets: the capture is incomplete")

    messages, counts = ouch_messages(read_pcap(cap), p["gateway"], order_session)
    if not messages:
        fail(f"no OUCH message captured (datagrams to the gateway: {counts['datagrams']})")
    first, last = min(messages), max(messages)
    missing = [q for q in range(first, last + 1) if q not in messages]
    if first != 1 or missing:
        fail(f"captured sequences {first}..{last}, missing {missing[:20]}: the capture lost a message")
    ordered = sorted(messages.items())

    # 4. Re-frame as SoupBinTCP and decode with tshark.
    soup_cap = os.path.join(tmp, "orders_soupbintcp.pcap")
    frame_of = write_soup_pcap(soup_cap, ordered)
    fields = ouch_field_names()
    rows = tshark_decode(soup_cap, fields, env)

    # 5. The journal: what the order manager sent.
    journal, journal_records = journal_requests(pmmctl, data_dir)

    mismatches, fields_compared, by_type = [], 0, {"O": 0, "U": 0, "X": 0}
    for frame, row in sorted(rows.items()):
        seq = frame_of.get(frame)
        checks = [("ip.checksum.status", "1"), ("tcp.checksum.status", "1")]
        if seq is None:  # the handshake and login: no OUCH
            if any(k.startswith("ouch.") for k in row):
                mismatches.append(f"frame {frame} (handshake/login) shows OUCH fields")
            continue
        for k, v in checks:
            if row.get(k) != v:
                mismatches.append(f"frame {frame} (sequence {seq}): {k} = {row.get(k)!r}, expected {v!r}")
        for k in ("_ws.expert.message", "_ws.malformed"):
            if k in row:
                mismatches.append(f"frame {frame} (sequence {seq}): tshark reports {k} {row[k]!r}")
        if shown(row.get("soupbintcp.packet_type", "")) != "U":
            mismatches.append(f"frame {frame} (sequence {seq}): soupbintcp.packet_type {row.get('soupbintcp.packet_type')!r}")
        rec = journal.get(seq)
        if rec is None:
            mismatches.append(f"sequence {seq}: captured OUCH message {messages[seq][1]!r} has no journal record")
            continue
        if messages[seq][0] != rec["as_of"]:
            mismatches.append(f"sequence {seq}: block as-of {messages[seq][0]}, journal as_of {rec['as_of']}")
        want = expected_fields(rec, stocks)
        got = {k: shown(v) for k, v in row.items() if k.startswith("ouch.")}
        for k in sorted(set(want) | set(got)):
            fields_compared += 1
            if want.get(k) != got.get(k):
                mismatches.append(f"sequence {seq} (frame {frame}, journal record {rec['journal_seq']}): {k}: tshark "
                                  f"{got.get(k)!r}, order manager {want.get(k)!r}")
        by_type[rec["type"]] += 1
    for seq in sorted(journal):
        if seq not in messages:
            mismatches.append(f"journal record {journal[seq]['journal_seq']} (outbound sequence {seq}): never on the wire")
    decoded = sum(1 for f in frame_of if f in rows)
    if decoded != len(frame_of):
        mismatches.append(f"tshark printed {decoded} of the {len(frame_of)} OUCH frames")

    # The appliance's own counts agree with what was captured.
    sent = summary.get("orders_sent")
    if sent != len(messages):
        mismatches.append(f"appliance orders_sent {sent}, captured {len(messages)} distinct OUCH messages")
    for key, t in (("enters", "O"), ("replaces", "U"), ("cancels", "X")):
        if summary.get(key) != by_type[t]:
            mismatches.append(f"appliance {key} {summary.get(key)}, captured and matched {by_type[t]}")
    received = sim_summary.get("orders", {}).get("orders_received")

    print(f"capture: {counts['datagrams']} datagrams to the gateway ({counts['data_packets']} with orders, "
          f"{counts['heartbeats_or_requests']} heartbeats/requests), {counts['copies']} OUCH copies, "
          f"{counts['retransmitted']} retransmitted, {len(messages)} distinct (sequences 1..{last})", flush=True)
    print(f"journal: {journal_records} records, {len(journal)} requests; appliance orders_sent {sent} (enter "
          f"{summary.get('enters')} replace {summary.get('replaces')} cancel {summary.get('cancels')}); "
          f"exchange-sim orders_received {received}", flush=True)
    print(f"compared {sum(by_type.values())} messages (enter {by_type['O']}, replace {by_type['U']}, cancel "
          f"{by_type['X']}), {fields_compared} fields, {len(mismatches)} mismatch(es)", flush=True)
    if sum(by_type.values()) == 0 or by_type["O"] == 0 or by_type["X"] == 0:
        mismatches.append(f"too few messages of some type to mean anything: {by_type}")
    for mm in mismatches[:50]:
        print("FAIL:", mm, flush=True)
    if mismatches:
        print(f"{len(mismatches)} check(s) failed", flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
