// pmmctl: the operator's command-line tool (docs/recovery.md).
//
//   pmmctl journal verify --data-dir D
//   pmmctl journal dump   --data-dir D [--type T] [--from SEQ] [--to SEQ] [--limit N] [--all]
//   pmmctl journal repair --data-dir D [--dry-run]
//   pmmctl journal resume-from-snapshot --data-dir D
//   pmmctl exchange positions --from IP:PORT [--account FIRM] [--json]
//   pmmctl exchange accounts  --from IP:PORT
//
// Exit codes: see mgmt/pmmctl/journal_commands.hpp; 64 for a usage error.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <iostream>
#include <string>

#include "mgmt/pmmctl/exchange_commands.hpp"
#include "mgmt/pmmctl/journal_commands.hpp"
#include "mgmt/pmmctl/record_type_names.hpp"

namespace {
constexpr int kUsage = 64;  // EX_USAGE
}

int main(int argc, char** argv) {
  CLI::App app{"PinnacleMM operator tool."};
  app.require_subcommand(1);
  CLI::App* journal = app.add_subcommand("journal", "Write-ahead journal and snapshots of a data directory");
  journal->require_subcommand(1);

  std::string data_dir;
  auto add_data_dir = [&data_dir](CLI::App* c) {
    c->add_option("--data-dir", data_dir, "persistence.dataDirectory (journal/ and snapshots/ under it)")
        ->required();
  };

  CLI::App* verify = journal->add_subcommand(
      "verify", "Check every journal record and every snapshot; print the watermark, the last sequence and any "
                "damage (exit 0 clean, 1 torn tail, 2 recovery would fail)");
  add_data_dir(verify);

  CLI::App* dump = journal->add_subcommand("dump", "Print journal records, one line each");
  add_data_dir(dump);
  std::string type_text;
  pmm::mgmt::JournalDumpOptions dump_options;
  dump->add_option("--type", type_text, "Only records of this type (number or registered name)");
  dump->add_option("--from", dump_options.from, "First sequence");
  dump->add_option("--to", dump_options.to, "Last sequence");
  dump->add_option("--limit", dump_options.limit, "At most this many records");
  dump->add_flag("--all", dump_options.include_internal, "Also padding, sync markers and segment ends");

  CLI::App* repair = journal->add_subcommand(
      "repair", "Cut a torn tail after the durable watermark (damaged bytes kept in *.corrupt)");
  add_data_dir(repair);
  bool dry_run = false;
  repair->add_flag("--dry-run", dry_run, "Only say what would be cut");

  CLI::App* resume = journal->add_subcommand(
      "resume-from-snapshot",
      "With the journal gone, restart it after the newest valid snapshot (gives up what followed it)");
  add_data_dir(resume);

  CLI::App* exchange =
      app.add_subcommand("exchange", "The exchange's own view of our account, over its position query (UDP)");
  exchange->require_subcommand(1);
  std::string exchange_from = "127.0.0.1:26421";
  std::string exchange_account = "PMM1";
  bool exchange_json = false;
  CLI::App* exchange_positions =
      exchange->add_subcommand("positions", "Positions and open orders of one account (exit 0 answered, 1 not)");
  exchange_positions->add_option("--from", exchange_from, "The exchange's position query IP:PORT")
      ->capture_default_str();
  exchange_positions->add_option("--account", exchange_account, "OUCH Firm, 1..4 characters (orders.firm)")
      ->capture_default_str();
  exchange_positions->add_flag("--json", exchange_json, "One JSON object");
  CLI::App* exchange_accounts = exchange->add_subcommand("accounts", "The accounts the exchange knows, one a line");
  exchange_accounts->add_option("--from", exchange_from, "The exchange's position query IP:PORT")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsage;
  }

  if (exchange_positions->parsed())
    return pmm::mgmt::exchange_positions(exchange_from, exchange_account, exchange_json, std::cout, std::cerr);
  if (exchange_accounts->parsed()) return pmm::mgmt::exchange_accounts(exchange_from, std::cout, std::cerr);
  const pmm::mgmt::RecordTypeNames names = pmm::mgmt::pmmctl_record_type_names();
  if (verify->parsed()) return pmm::mgmt::journal_verify(data_dir, std::cout, std::cerr);
  if (dump->parsed()) {
    if (!type_text.empty()) {
      const auto t = names.parse(type_text);
      if (!t) {
        std::cerr << "pmmctl journal dump: --type: expected a number 0..65535 or a registered type name, got '"
                  << type_text << "'\n";
        return kUsage;
      }
      dump_options.type = *t;
    }
    if (dump_options.from > dump_options.to) {
      std::cerr << "pmmctl journal dump: --from " << dump_options.from << " is after --to " << dump_options.to << "\n";
      return kUsage;
    }
    return pmm::mgmt::journal_dump(data_dir, dump_options, names, std::cout, std::cerr);
  }
  if (repair->parsed()) return pmm::mgmt::journal_repair(data_dir, dry_run, std::cout, std::cerr);
  if (resume->parsed()) return pmm::mgmt::journal_resume_from_snapshot(data_dir, std::cout, std::cerr);
  return kUsage;
}
