#!/usr/bin/env python3
"""pmmctl journal verify/dump/repair/resume-from-snapshot as an operator runs them, on data directories
built by make_data_dir (the real writer) and damaged here: exit codes, what the output names, that a
refused repair and a dry run change nothing, that a repair keeps the cut bytes in *.corrupt. Record
payloads are recomputed here from make_data_dir's formula and record offsets come from an independent
walk of docs/journal-format.md, so nothing expected is produced by pmmctl itself.

Usage: test_pmmctl.py PMMCTL MAKE_DATA_DIR
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

PMMCTL, MAKE = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([PMMCTL, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def make(d, records, synced, snapshot_at):
    subprocess.run([MAKE, d, str(records), str(synced), str(snapshot_at)], check=True, capture_output=True,
                   timeout=60)


def payload_of(i):
    """make_data_dir's record i (recovery_test::payload_of): u64 LE key i % 37, then 8 + i % 50 bytes."""
    body = bytes(((i * 131 + k * 7) % 255) + 1 for k in range(8, 16 + i % 50))
    return struct.pack("<Q", i % 37) + body


def segments(d):
    j = os.path.join(d, "journal")
    return sorted(os.path.join(j, n) for n in os.listdir(j) if len(n) == 28 and n.endswith(".journal"))


def record_offsets(path):
    """sequence -> offset of each user record, walking the format: 4 KiB header page, 16-byte headers
    (crc u32, type u16, len u16, sequence u64), 8-byte padding, fewer than 16 bytes left in a page: next page."""
    data = open(path, "rb").read()
    out, pos = {}, 4096
    while pos + 16 <= len(data):
        if 4096 - pos % 4096 < 16:
            pos += 4096 - pos % 4096
            continue
        _, typ, length, seq = struct.unpack_from("<IHHQ", data, pos)
        if typ == 0:
            break
        if typ >= 16:
            out[seq] = pos
        pos += (16 + length + 7) // 8 * 8
        if typ == 3:
            break
    return out


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ 0x40]))


def tree_hash(d):
    h = {}
    for root, _, files in os.walk(d):
        for n in files:
            p = os.path.join(root, n)
            h[os.path.relpath(p, d)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return h


def find_segment_with(d, seq):
    for s in segments(d):
        offs = record_offsets(s)
        if seq in offs:
            return s, offs[seq]
    raise AssertionError(f"record {seq} not found")


with tempfile.TemporaryDirectory() as tmp:
    # ---- a clean directory: 300 records, all durable, a snapshot at 150 ----
    clean = os.path.join(tmp, "clean")
    make(clean, 300, 300, 150)
    code, out, err = run("journal", "verify", "--data-dir", clean)
    check(code == 0, f"verify clean: exit {code}, stderr {err!r}")
    check("durable watermark: 300" in out, "verify prints the watermark")
    check("last sequence: 300" in out, "verify prints the last sequence")
    check(f"segments: {len(segments(clean))}" in out, "verify counts the segments")
    check("snapshots: 1" in out and "00000000000000000150.snapshot: sequence 150" in out, "verify lists the snapshot")
    check("recovery would: Success from snapshot 150 + 150 journal entries" in out, f"verify's plan: {out}")

    code, out, _ = run("journal", "dump", "--data-dir", clean, "--from", "10", "--to", "12")
    lines = out.splitlines()
    check(code == 0 and len(lines) == 3, f"dump --from 10 --to 12: exit {code}, {len(lines)} lines")
    for seq, line in zip(range(10, 13), lines):
        want = f"seq={seq} type=4096 len={len(payload_of(seq))} payload={payload_of(seq).hex()}"
        check(line == want, f"dump line {seq}: {line!r} != {want!r}")
    code, out, _ = run("journal", "dump", "--data-dir", clean, "--type", "4096", "--limit", "5")
    check(code == 0 and [l.split()[0] for l in out.splitlines()] == [f"seq={i}" for i in range(1, 6)],
          f"dump --type 16 --limit 5: {out!r}")
    code, out, _ = run("journal", "dump", "--data-dir", clean, "--all", "--type", "sync-marker")
    check(code == 0 and "type=2(sync-marker)" in out and "durable_through=300" in out,
          f"dump --all --type sync-marker decodes markers: {out[-300:]!r}")
    code, _, err = run("journal", "dump", "--data-dir", clean, "--type", "no-such-type")
    check(code == 64 and "--type" in err, f"dump --type no-such-type: exit {code}, {err!r}")
    code, _, _ = run("journal", "verify")
    check(code == 64, f"verify without --data-dir: exit {code}")
    before = tree_hash(clean)
    code, out, _ = run("journal", "repair", "--data-dir", clean)
    check(code == 0 and "nothing to do" in out and tree_hash(clean) == before, f"repair of a clean journal: {code} {out!r}")

    # ---- a torn tail: durable through 150, 151..200 written but never synced, 180 torn ----
    torn = os.path.join(tmp, "torn")
    make(torn, 200, 150, 0)
    seg, off = find_segment_with(torn, 180)
    check(seg == segments(torn)[-1], "record 180 is in the last segment")
    flip(seg, off + 20)
    code, out, err = run("journal", "verify", "--data-dir", torn)
    check(code == 1, f"verify torn tail: exit {code}, {err!r}")
    check("torn tail" in out and seg in out and f"offset {off}" in out, f"verify names the torn record: {out}")
    check("20 record(s) with a valid CRC beyond it" in out, "verify counts what a repair drops (181..200)")
    code, out, err = run("journal", "dump", "--data-dir", torn, "--from", "178")
    check(code == 1 and [l.split()[0] for l in out.splitlines()] == ["seq=178", "seq=179"], f"dump stops at the tear: {out!r}")
    before = tree_hash(torn)
    code, out, _ = run("journal", "repair", "--data-dir", torn, "--dry-run")
    check(code == 1 and "dry run" in out and seg + ".corrupt" in out, f"repair --dry-run: {code} {out!r}")
    check(tree_hash(torn) == before, "a dry run changes nothing")
    seg_bytes = open(seg, "rb").read()
    code, out, err = run("journal", "repair", "--data-dir", torn)
    check(code == 0 and "journal repaired" in out and "last sequence kept 179" in out, f"repair: {code} {out!r} {err!r}")
    corrupt = open(seg + ".corrupt", "rb").read()
    check(corrupt == seg_bytes[off:off + len(corrupt)] and len(corrupt) > 0, "the cut bytes are kept in .corrupt")
    check(open(seg, "rb").read()[off:] == bytes(len(seg_bytes) - off), "the cut region is zeros")
    code, out, _ = run("journal", "verify", "--data-dir", torn)
    check(code == 0 and "last sequence: 179" in out, f"verify after the repair: {code}")

    # ---- damage before the watermark: refused, nothing changes ----
    bad = os.path.join(tmp, "bad")
    make(bad, 300, 300, 0)
    seg = segments(bad)[-1]  # in the last segment, so the watermark (not completeness) decides
    victim = min(record_offsets(seg)) + 10
    off = record_offsets(seg)[victim]
    flip(seg, off + 18)
    before = tree_hash(bad)
    code, out, err = run("journal", "verify", "--data-dir", bad)
    check(code == 2, f"verify damage before the watermark: exit {code}")
    check("CRC mismatch" in err and seg in err and f"offset {off}" in err and "before the durable watermark" in err,
          f"verify names file, offset and what: {err!r}")
    code, _, err = run("journal", "repair", "--data-dir", bad)
    check(code == 2 and "refused" in err and "nothing changed" in err, f"repair refuses: {code} {err!r}")
    code, out, err = run("journal", "dump", "--data-dir", bad, "--from", str(victim - 3))
    check(code == 2 and "Journal replay failed: CRC mismatch" in err, f"dump of a failed journal: {code} {err!r}")
    check([l.split()[0] for l in out.splitlines()] == [f"seq={victim - i}" for i in (3, 2, 1)],
          f"dump prints up to the damage: {out!r}")
    check(tree_hash(bad) == before, "verify, a refused repair and dump change nothing")

    # ---- the journal deleted behind a snapshot (the older runbook's procedure) ----
    gone = os.path.join(tmp, "gone")
    make(gone, 120, 120, 100)
    for s in segments(gone):
        os.remove(s)
    code, _, err = run("journal", "verify", "--data-dir", gone)
    check(code == 2 and "journal/ holds no segments" in err, f"verify with the journal gone: {code} {err!r}")
    code, out, err = run("journal", "resume-from-snapshot", "--data-dir", gone)
    check(code == 0 and "restarted at sequence 101" in out, f"resume-from-snapshot: {code} {out!r} {err!r}")
    code, out, _ = run("journal", "verify", "--data-dir", gone)
    check(code == 0 and "Success from snapshot 100 + 0 journal entries" in out, f"verify after resume: {code} {out}")
    code, _, err = run("journal", "resume-from-snapshot", "--data-dir", gone)
    check(code == 2 and "refused" in err, f"resume-from-snapshot with a journal present: {code} {err!r}")

print(f"{0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
