#include "mgmt/pmmctl/journal_commands.hpp"

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "persistence/file_ops.hpp"
#include "persistence/journal_format.hpp"
#include "persistence/journal_reader.hpp"
#include "persistence/journal_repair.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/recovery.hpp"
#include "persistence/state_snapshots.hpp"

namespace pmm::mgmt {

namespace ps = persistence;

namespace {

constexpr int kOk = 0, kTornTail = 1, kFailed = 2;

std::string hex(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}

std::string marker_text(const ps::MarkerCheck& m, const char* value_name) {
  if (!m.present()) return "missing";
  if (!m.problem.empty()) return "DAMAGED: " + m.problem;
  return std::string("present, ") + value_name + " " + std::to_string(m.value);
}

std::string root_of(std::string d) {
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

}  // namespace

int journal_verify(const std::string& data_dir, std::ostream& out, std::ostream& err) {
  ps::PosixFileOps ops;
  const ps::RecoveryPlan p = ps::plan_recovery(ops, data_dir);
  const ps::JournalReport& j = p.journal;
  out << "data directory: " << p.root << "\n";
  out << "journal: " << j.summary() << "\n";
  for (const ps::JournalSegmentReport& s : j.segments) {
    out << "  segment " << s.file << ": sequences " << s.first_sequence << ".." << s.last_sequence << ", "
        << s.records << " records, watermark " << s.watermark << ", " << (s.ended ? "complete" : "open")
        << ", " << s.segment_bytes << " bytes";
    if (s.damage.kind != ps::JournalDamageKind::None) out << ", DAMAGE: " << s.damage.detail;
    out << "\n";
  }
  out << "durable watermark: " << j.durable_watermark << "\n";
  out << "last sequence: " << (j.status == ps::JournalStatus::Empty ? 0 : j.last_sequence) << "\n";
  out << "segments: " << j.segments.size() << "\n";
  out << "snapshots: " << p.snapshots.size() << "\n";
  for (const ps::SnapshotCheck& s : p.snapshots) {
    if (s.valid) {
      out << "  snapshot " << s.path << ": sequence " << s.sequence << ", " << s.info.block_count << " blocks, "
          << s.info.total_length << " bytes, created " << s.info.created_unix_ns << " ns, OK\n";
    } else {
      out << "  snapshot " << s.path << ": DAMAGED: " << s.damage << "\n";
    }
  }
  // Emergency saves beyond the durable journal: listed for the operator, never used by recovery.
  std::error_code ec;
  for (std::filesystem::directory_iterator it(p.root + "/snapshots", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string suffix = std::string(ps::SnapshotDirectory::kExtension) + ps::kEmergencySnapshotSuffix;
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ps::SnapshotInfo info;
      ps::SnapshotDamage damage;
      const bool ok = ps::verify_snapshot_file(ops, it->path().string(), info, damage);
      out << "  emergency snapshot " << it->path().string() << ": "
          << (ok ? "sequence " + std::to_string(info.sequence) + ", OK (not used by recovery)"
                 : "DAMAGED: " + damage.to_string())
          << "\n";
    }
  }
  out << "initialised marker: " << marker_text(p.initialised, "set up at unix ns") << "\n";
  out << "clean-shutdown marker: " << marker_text(p.clean_shutdown, "final sequence") << "\n";
  for (const std::string& w : p.warnings) out << "warning: " << w << "\n";

  switch (p.status) {
    case ps::RecoveryStatus::Failed:
      out << "recovery would: Failed: " << p.reason << "\n";
      err << "pmmctl journal verify: FAILED: " << p.reason << "\n";
      return kFailed;
    case ps::RecoveryStatus::CleanStart:
      out << "recovery would: CleanStart (no prior data)\n";
      return kOk;
    case ps::RecoveryStatus::Success: break;
  }
  out << "recovery would: Success from ";
  if (!p.candidates.empty()) {
    const ps::SnapshotCheck& s = p.snapshots[p.candidates.front()];
    out << "snapshot " << s.sequence << " + " << p.final_sequence - s.sequence << " journal entries";
  } else {
    out << "the journal alone (" << p.final_sequence << " entries)";
  }
  out << ", state at sequence " << p.final_sequence << "\n";
  if (p.repair_tail) {
    out << "torn tail: " << j.damage.detail << "; " << j.damage.records_beyond
        << " record(s) with a valid CRC beyond it would be dropped (pmmctl journal repair, or recovery, cuts it)\n";
    return kTornTail;
  }
  return kOk;
}

int journal_dump(const std::string& data_dir, const JournalDumpOptions& o, const RecordTypeNames& names,
                 std::ostream& out, std::ostream& err) {
  const std::string dir = root_of(data_dir) + "/journal";
  uint64_t printed = 0;
  ps::JournalReplayOptions ro;
  ro.after_sequence = o.from > 0 ? o.from - 1 : 0;
  ro.include_internal = o.include_internal;
  const ps::JournalReplayResult r = ps::replay_journal(dir, ro, [&](const ps::JournalRecordView& v) {
    if (v.sequence > o.to && ps::journal::is_user_type(v.type)) return false;
    if (v.sequence < o.from) return true;  // internal records before `from`
    if (o.type && *o.type != v.type) return true;
    if (o.limit != 0 && printed == o.limit) return false;
    const RecordTypeNames::Entry* e = names.find(v.type);
    out << "seq=" << v.sequence << " type=" << v.type;
    if (e != nullptr) out << "(" << e->name << ")";
    out << " len=" << v.length << " payload=" << hex(v.payload, v.length);
    if (e != nullptr && e->decode) {
      if (const std::string d = e->decode(v.payload, v.length); !d.empty()) out << " | " << d;
    }
    out << "\n";
    ++printed;
    return true;
  });
  switch (r.report.status) {
    case ps::JournalStatus::Empty:
      err << "pmmctl journal dump: " << dir << " holds no journal segments\n";
      return kOk;
    case ps::JournalStatus::Failed:
      err << "pmmctl journal dump: Journal replay failed: " << r.report.damage.detail << "\n";
      return kFailed;
    case ps::JournalStatus::TornTail:
      if (!r.stopped) {
        err << "pmmctl journal dump: the journal ends in a torn tail: " << r.report.damage.detail << "\n";
        return kTornTail;
      }
      return kOk;
    case ps::JournalStatus::Clean: return kOk;
  }
  return kOk;
}

int journal_repair(const std::string& data_dir, bool dry_run, std::ostream& out, std::ostream& err) {
  const std::string dir = root_of(data_dir) + "/journal";
  const ps::JournalRepairResult r = ps::repair_journal(dir, dry_run);
  if (!r.ok) {
    err << "pmmctl journal repair: " << r.summary() << "\n";
    return kFailed;
  }
  out << r.summary() << "\n";
  if (!r.segment.empty()) {
    out << "records kept through sequence " << r.last_sequence_kept << ", durable watermark "
        << r.before.durable_watermark << "\n";
  }
  return dry_run && !r.segment.empty() ? kTornTail : kOk;
}

int journal_resume_from_snapshot(const std::string& data_dir, std::ostream& out, std::ostream& err) {
  ps::PosixFileOps ops;
  const ps::RecoveryPlan p = ps::plan_recovery(ops, data_dir);
  if (p.journal.status != ps::JournalStatus::Empty) {
    err << "pmmctl journal resume-from-snapshot: refused: " << p.journal.directory
        << " still holds journal segments (" << p.journal.summary() << "); this command is only for a journal "
        << "that is gone\n";
    return kFailed;
  }
  const ps::SnapshotCheck* newest = nullptr;
  for (const ps::SnapshotCheck& s : p.snapshots) newest = s.valid ? &s : newest;
  if (newest == nullptr) {
    err << "pmmctl journal resume-from-snapshot: refused: no valid snapshot in " << p.root << "/snapshots\n";
    return kFailed;
  }
  ps::JournalWriterOptions wo;
  wo.directory = p.journal.directory;
  wo.first_sequence = newest->sequence + 1;
  wo.segment_bytes = ps::journal::kMinSegmentBytes;  // the appliance's own size applies from its next segment
  std::string error;
  std::unique_ptr<ps::JournalWriter> w = ps::JournalWriter::open(wo, error);
  if (!w || !w->close()) {
    err << "pmmctl journal resume-from-snapshot: " << (w ? w->error() : error) << "\n";
    return kFailed;
  }
  out << "journal restarted at sequence " << newest->sequence + 1 << " after snapshot " << newest->path
      << ": recovery will resume from it; anything journaled after sequence " << newest->sequence
      << " is given up\n";
  return kOk;
}

}  // namespace pmm::mgmt
