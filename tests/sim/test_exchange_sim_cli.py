#!/usr/bin/env python3
"""exchange-sim end to end, as a separate process over loopback UDP: a receiver recovers planned gaps
through the retransmission server and gets the generator's exact day; generator, BinaryFILE and pcap
sources publish the same bytes; SIGINT/SIGTERM end the session with exit 0; the JSON summary agrees
with what was seen on the wire; bad options exit 2 naming the option.

Usage: test_exchange_sim_cli.py EXCHANGE_SIM ITCH_GEN
"""
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SIM, GEN = sys.argv[1], sys.argv[2]
failures = []
DAY = ["--seed", "5", "--messages", "20000", "--symbols", "150", "--live-orders", "4000"]
HEARTBEAT, END_OF_SESSION = 0, 0xFFFF


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def header(p):
    """MoldUDP64 header at the spec's offsets: session (10), sequence (8, BE), count (2, BE)."""
    return p[:10], struct.unpack(">Q", p[10:18])[0], struct.unpack(">H", p[18:20])[0]


def blocks(p):
    """The messages of a downstream packet."""
    _, _, count = header(p)
    out, off = [], 20
    for _ in range(count if count != END_OF_SESSION else 0):
        n = struct.unpack(">H", p[off:off + 2])[0]
        out.append(p[off + 2:off + 2 + n])
        off += 2 + n
    check(off == len(p), f"packet of {len(p)} bytes has {len(p) - off} trailing bytes")
    return out


def binaryfile_messages(path):
    data, out, off = open(path, "rb").read(), [], 0
    while off + 2 <= len(data):
        n = struct.unpack(">H", data[off:off + 2])[0]
        if n == 0:
            break
        out.append(data[off + 2:off + 2 + n])
        off += 2 + n
    return out


def receiver():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", 0))
    return s


def receive(sock, until, timeout=10.0):
    """(sender, bytes) datagrams until until(list) holds or the timeout passes."""
    got, end = [], time.monotonic() + timeout
    while not until(got) and time.monotonic() < end:
        ready, _, _ = select.select([sock], [], [], 0.05)
        if ready:
            data, addr = sock.recvfrom(65536)
            got.append((addr, data))
    return got


def start(sock, *args):
    """Starts exchange-sim publishing to sock; returns the process and the retransmission address."""
    port = sock.getsockname()[1]
    p = subprocess.Popen([SIM, "--feed-dest", f"127.0.0.1:{port}", "--retrans-listen", "127.0.0.1:0",
                          "--order-listen", "127.0.0.1:0", *map(str, args)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"retransmission requests on ([\d.]+):(\d+)", line)
    check(m is not None, f"start line without the retransmission address: {line!r}")
    return p, ((m.group(1), int(m.group(2))) if m else None)


def finish(p, sig=None):
    if sig is not None:
        p.send_signal(sig)
    out, err = p.communicate(timeout=20)
    try:
        report = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        report = None
        check(False, f"summary is not JSON: {out!r}")
    return p.returncode, report, err


def has_end_of_session(got):
    return any(header(d)[2] == END_OF_SESSION for _, d in got)


def feed_run(*args):
    """Runs exchange-sim to its end (no lingering) and returns the feed packets and the summary."""
    with receiver() as sock:
        p, _ = start(sock, "--rate", 500000, "--linger-ms", 0, "--json", *args)
        got = receive(sock, has_end_of_session)
        code, report, err = finish(p)
        check(code == 0, f"exchange-sim {' '.join(map(str, args))} exited {code}: {err}")
        return [d for _, d in got], report


with tempfile.TemporaryDirectory(prefix="pmm_sim_") as tmp:
    itch = os.path.join(tmp, "day.itch")
    pcap = os.path.join(tmp, "day.pcap")
    for args in ([*DAY, "--out", itch],
                 [*DAY, "--format", "pcap", "--out", pcap, "--session", "OTHER", "--max-messages", "5"]):
        r = subprocess.run([GEN, *args], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"itch-gen {args}: {r.stderr}")
    day = binaryfile_messages(itch)
    check(len(day) == 20000, f"itch-gen wrote {len(day)} messages")

    # 1. Gap recovery: packets 3 and 10 never go out; a receiver asks for what it missed (including the
    # tail, from the end of session's next sequence) and ends up with the generator's day.
    with receiver() as sock:
        p, server = start(sock, *DAY, "--rate", 500000, "--drop-packets", "3,10", "--linger-ms", 8000,
                          "--heartbeat-ms", 100, "--json")
        got = receive(sock, has_end_of_session)
        feed_from = got[0][0] if got else None
        messages, next_seq, gaps = {}, 1, []
        data_packets = 0
        for addr, d in got:
            session, seq, count = header(d)
            check(session == b"PMMSIM0001", f"session {session!r}")
            if count in (HEARTBEAT, END_OF_SESSION):
                if seq > next_seq:
                    gaps.append((next_seq, seq - next_seq))
                    next_seq = seq
                continue
            data_packets += 1
            if seq > next_seq:
                gaps.append((next_seq, seq - next_seq))
            for i, m in enumerate(blocks(d)):
                messages[seq + i] = m
            next_seq = seq + count
        check(len(gaps) == 2, f"gaps seen: {gaps}")
        for first, count in gaps:
            sock.sendto(b"PMMSIM0001" + struct.pack(">QH", first, count), server)
        missing = sum(c for _, c in gaps)
        answers = receive(sock, lambda g: sum(header(d)[2] for a, d in g if a == server) >= missing)
        for addr, d in answers:
            if addr != server:
                continue
            _, seq, _ = header(d)
            for i, m in enumerate(blocks(d)):
                check(seq + i not in messages, f"message {seq + i} retransmitted but not missing")
                messages[seq + i] = m
        check(sorted(messages) == list(range(1, 20001)), f"have {len(messages)} distinct messages after recovery")
        check([messages[s] for s in sorted(messages)] == day, "recovered day differs from itch-gen's BinaryFILE")
        code, report, err = finish(p, signal.SIGINT)
        check(code == 0, f"exit {code} after SIGINT while lingering: {err}")
        if report:
            check(report["messages"] == 20000, f"messages {report['messages']}")
            check(report["dropped_packets"] == [3, 10], f"dropped_packets {report['dropped_packets']}")
            check(report["packets_sent"] == report["packets"] - 2 == data_packets,
                  f"packets {report['packets']}, sent {report['packets_sent']}, received {data_packets}")
            check(report["dropped_messages"] == missing, f"dropped_messages {report['dropped_messages']} != {missing}")
            check(report["retrans_requests"] == 2, f"retrans_requests {report['retrans_requests']}")
            check(report["retrans_messages_sent"] == missing, f"retrans_messages_sent {report['retrans_messages_sent']}")
            for key in ("retrans_out_of_range", "retrans_malformed", "retrans_wrong_session", "send_errors"):
                check(report[key] == 0, f"{key} {report[key]}")
            check(report["next_sequence"] == 20001, f"next_sequence {report['next_sequence']}")
            check(report["end_of_session_packets"] >= 1, "no end-of-session packet counted")
            check(report["stopped"] is False, "a signal while lingering reported as stopping the feed")
            check(report["source"] == "generator", f"source {report['source']}")

    # 2. The same day from the generator, a BinaryFILE and a pcap (other session and packet sizes):
    # the same feed bytes, re-packetized in our session.
    generated, gen_report = feed_run(*DAY)
    from_file, file_report = feed_run("--replay", itch)
    from_pcap, pcap_report = feed_run("--replay", pcap)
    check(len(generated) > 100 and header(generated[-1])[2] == END_OF_SESSION, "generator run incomplete")
    check(from_file == generated, "BinaryFILE replay publishes other bytes than the generator")
    check(from_pcap == generated, "pcap replay publishes other bytes than the generator")
    if gen_report and file_report and pcap_report:
        check([r["source"] for r in (gen_report, file_report, pcap_report)] == ["generator", "binaryfile", "pcap"],
              "source kinds")
        check(pcap_report["source_counters"].get("gaps") == 0, f"pcap counters {pcap_report['source_counters']}")
        check(gen_report["heartbeats"] == 0, "heartbeats in a short run without lingering")

    # 3. SIGTERM in the middle of a slow feed: the end of session comes at once with the next sequence.
    with receiver() as sock:
        p, _ = start(sock, *DAY, "--rate", 2000, "--json")
        got = receive(sock, lambda g: len(g) >= 3)
        t0 = time.monotonic()
        code, report, err = finish(p, signal.SIGTERM)
        check(time.monotonic() - t0 < 3, "SIGTERM took more than 3 s")
        check(code == 0, f"exit {code} after SIGTERM: {err}")
        got += receive(sock, has_end_of_session, timeout=2)
        last = [d for _, d in got if header(d)[2] == END_OF_SESSION]
        check(len(last) == 1, f"{len(last)} end-of-session packets after SIGTERM")
        if report and last:
            check(report["stopped"] is True, "SIGTERM mid-feed not reported as stopped")
            check(report["messages"] < 20000, f"messages {report['messages']}")
            check(header(last[0])[1] == report["next_sequence"] == report["messages"] + 1,
                  f"end of session at {header(last[0])[1]}, next_sequence {report['next_sequence']}")

    # 4. Bad options: exit 2 and the option named; unreadable input: exit 1.
    bad = [
        (["--feed-dest", "127.0.0.1"], "--feed-dest"),
        (["--feed-dest", "127.0.0.1:0"], "--feed-dest"),
        (["--retrans-listen", "here:1"], "--retrans-listen"),
        (["--feed-interface", "10.0.0.1"], "--feed-interface"),
        (["--bind", "10.0.0"], "--bind"),
        (["--drop-rate", "1.5"], "--drop-rate"),
        (["--drop-packets", "0,3"], "--drop-packets"),
        (["--drop-packets", "3;4"], "--drop-packets"),
        (["--max-payload", "10"], "--max-payload"),
        (["--max-messages", "0"], "--max-messages"),
        (["--session", "ELEVENCHARS"], "--session"),
        (["--symbols", "0"], "--symbols"),
        (["--retrans-max-messages", "0"], "--retrans-max-messages"),
        (["--linger-packet", "sometimes"], "--linger-packet"),
        (["--rate", "fast"], "--rate"),
        (["--replay", itch, "--seed", "3"], "--"),
        (["--max-payload", "60", "--replay", itch], "--max-payload"),
        (["--no-such-option"], "--no-such-option"),
    ]
    for args, name in bad:
        r = subprocess.run([SIM, "--linger-ms", "0", "--retrans-listen", "127.0.0.1:0", "--order-listen", "127.0.0.1:0",
                            *args],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, f"{args}: exit {r.returncode}, want 2 ({r.stderr.strip()})")
        check(name in r.stderr, f"{args}: stderr does not name {name}: {r.stderr.strip()!r}")
    r = subprocess.run([SIM, "--replay", os.path.join(tmp, "missing.itch")], capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "missing.itch" in r.stderr, f"missing file: exit {r.returncode}, {r.stderr.strip()!r}")
    truncated = os.path.join(tmp, "truncated.itch")
    with open(itch, "rb") as f, open(truncated, "wb") as g:
        g.write(f.read()[:1001])
    r = subprocess.run([SIM, "--replay", truncated], capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "byte offset" in r.stderr, f"truncated file: exit {r.returncode}, {r.stderr.strip()!r}")
    r = subprocess.run([SIM, "--help"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "--drop-packets" in r.stdout, f"--help: exit {r.returncode}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("exchange-sim: all checks passed")
