#!/usr/bin/env python3
"""itch-gen and itch-replay end to end: the same seeded day written as BinaryFILE and as a pcap must
replay to the same books; bad input must fail with a clear message and the documented exit status
(0 clean, 1 input not readable to its end, 2 feed anomalies).

Usage: test_itch_tools.py ITCH_GEN ITCH_REPLAY
"""
import json
import os
import subprocess
import sys
import tempfile

GEN, REPLAY = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=240)


def replay_json(path, *extra):
    r = run(REPLAY, path, "--json", "--check", *extra)
    try:
        report = json.loads(r.stdout)
    except json.JSONDecodeError:
        report = None
    return r, report


with tempfile.TemporaryDirectory(prefix="pmm_tools_") as tmp:
    day = ["--seed", "5", "--messages", "60000", "--symbols", "150", "--live-orders", "4000"]
    itch = os.path.join(tmp, "day.itch")
    itch_again = os.path.join(tmp, "day2.itch")
    pcap = os.path.join(tmp, "day.pcap")

    for args in ([*day, "--out", itch], [*day, "--out", itch_again], [*day, "--format", "pcap", "--out", pcap]):
        r = run(GEN, *args)
        check(r.returncode == 0, f"itch-gen {' '.join(args)} exited {r.returncode}: {r.stderr}")
        check("wrote 60000 messages" in r.stdout, f"itch-gen output: {r.stdout!r}")
    with open(itch, "rb") as a, open(itch_again, "rb") as b:
        check(a.read() == b.read(), "same seed, different BinaryFILE bytes")

    r_file, file_report = replay_json(itch)
    r_pcap, pcap_report = replay_json(pcap)
    check(r_file.returncode == 0, f"replay BinaryFILE exited {r_file.returncode}: {r_file.stderr}")
    check(r_pcap.returncode == 0, f"replay pcap exited {r_pcap.returncode}: {r_pcap.stderr}")
    if file_report and pcap_report:
        for key in ("messages", "by_type", "digest", "live_orders", "live_levels", "top", "end_of_session"):
            check(file_report[key] == pcap_report[key], f"{key}: BinaryFILE {file_report[key]} != pcap {pcap_report[key]}")
        check(file_report["messages"] == 60000, f"messages {file_report['messages']}")
        check(file_report["format"] == "binaryfile" and pcap_report["format"] == "pcap", "format detection")
        check(file_report["end_of_session"] is True, "BinaryFILE end-of-session marker not seen")
        check(sum(file_report["by_type"].values()) == 60000, "by_type does not add up to messages")
        for report in (file_report, pcap_report):
            errors = {k: v for k, v in report["errors"].items() if k != "input" and v != 0}
            check(not errors, f"{report['format']}: errors {errors}")
            check(report["errors"]["input"] == "", f"{report['format']}: input error {report['errors']['input']}")
            check(report["invariants"] == "", f"{report['format']}: invariants {report['invariants']}")
            check(report["ns_per_message"] > 0, "no throughput figure")
            check(report["top"]["AAPL"] is not None and report["top"]["AAPL"]["bid"]["shares"] > 0, "AAPL has no bid")
        check(pcap_report["packets"] > 0 and pcap_report["frames"] == pcap_report["packets"],
              f"frames {pcap_report.get('frames')} packets {pcap_report.get('packets')}")
    else:
        check(False, f"replay --json output is not JSON: {r_file.stdout[:200]!r} / {r_pcap.stdout[:200]!r}")

    # Text mode: a top-of-book line with the price in dollars and 4 decimals.
    r = run(REPLAY, itch, "--symbols", "AAPL,NOPE")
    check(r.returncode == 0, f"text replay exited {r.returncode}")
    aapl = [line for line in r.stdout.splitlines() if line.startswith("AAPL")]
    check(len(aapl) == 1 and " bid " in aapl[0] and "." in aapl[0].split(" bid ")[1][:12], f"AAPL line: {aapl}")
    check(any(line.startswith("NOPE") and "not in the stock directory" in line for line in r.stdout.splitlines()),
          "unknown symbol not reported")

    # Another port: every frame is other traffic, nothing is applied.
    r, report = replay_json(pcap, "--port", "1")
    check(r.returncode == 0 and report and report["messages"] == 0 and report["other_traffic"] == report["frames"],
          f"--port filter: {r.returncode} {report and report.get('messages')}")

    # A BinaryFILE cut inside a message: exit 1, the error gives the byte offset.
    with open(itch, "rb") as f:
        data = f.read()
    cut = os.path.join(tmp, "cut.itch")
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2 + 1])
    r = run(REPLAY, cut)
    check(r.returncode == 1, f"truncated BinaryFILE exited {r.returncode}")
    check("byte offset" in r.stderr, f"truncated BinaryFILE message: {r.stderr!r}")

    # A pcap cut inside a record: exit 1, the error names the frame.
    with open(pcap, "rb") as f:
        data = f.read()
    cut_pcap = os.path.join(tmp, "cut.pcap")
    with open(cut_pcap, "wb") as f:
        f.write(data[:-7])
    r = run(REPLAY, cut_pcap)
    check(r.returncode == 1, f"truncated pcap exited {r.returncode}")
    check("frame" in r.stderr and "byte offset" in r.stderr, f"truncated pcap message: {r.stderr!r}")

    # One flipped payload byte in the first frame: a UDP checksum error, exit 2.
    bad = bytearray(data)
    bad[24 + 16 + 42 + 25] ^= 0xFF  # inside the first frame's MoldUDP64 payload
    bad_pcap = os.path.join(tmp, "bad.pcap")
    with open(bad_pcap, "wb") as f:
        f.write(bad)
    r, report = replay_json(bad_pcap)
    check(r.returncode == 2, f"corrupted frame exited {r.returncode}")
    check(report is not None and report["errors"]["frame_udp_checksum"] == 1, "UDP checksum error not counted")

    # Bad options are refused with a message.
    r = run(GEN, "--symbols", "0", "--out", os.path.join(tmp, "x.itch"))
    check(r.returncode != 0 and "symbols" in r.stderr, f"itch-gen --symbols 0: {r.returncode} {r.stderr!r}")
    r = run(REPLAY, os.path.join(tmp, "missing.itch"))
    check(r.returncode == 1 and "missing.itch" in r.stderr, f"missing input: {r.returncode} {r.stderr!r}")

print(f"{len(failures)} failure(s)" if failures else "all checks passed")
sys.exit(1 if failures else 0)
