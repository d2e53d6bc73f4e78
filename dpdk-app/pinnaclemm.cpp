// pinnaclemm: the appliance. Reads the configuration (a file, or the embedded dev profile), picks a
// backend (DPDK, AF_PACKET or portable sockets), builds the shared pipeline (with the trading stage when
// order entry is configured), starts its cores, and prints a status line every interval until
// SIGINT/SIGTERM (or the end of the feed's session with --exit-at-end-of-session). The first signal
// stops quoting, cancels every open order and waits for the acknowledgements (up to --unwind-ms), then
// drains the rings and exits 0; a second signal exits at once. With order entry and persistence.enabled,
// the trading state is recovered before the pipeline is built, journaled while it runs and closed with a
// clean shutdown after the drain (docs/recovery.md, "In the appliance").
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "core/pipeline/pipeline.hpp"
#include "core/pipeline/pipeline_config.hpp"
#include "core/pipeline/tsc_clock.hpp"
#include "dpdk-app/backend.hpp"
#include "dpdk-app/journal_cpu.hpp"
#include "dpdk-app/trading_persistence.hpp"
#include "dpdk-app/trading_setup.hpp"
#include "persistence/persistence_config.hpp"

namespace {

volatile std::sig_atomic_t g_signals = 0;

void on_signal(int) {
  g_signals = g_signals + 1;
  if (g_signals >= 2) _exit(130);  // second signal: out now, no draining
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

bool has_device_arg(const std::vector<std::string>& eal) {
  for (const std::string& a : eal)
    if (a.rfind("--vdev", 0) == 0 || a == "-a" || a.rfind("--allow", 0) == 0 || a.rfind("-a", 0) == 0) return true;
  return false;
}

// "auto": DPDK when built in, running as root and given a device; else AF_PACKET when an interface is
// configured and we are root; else portable sockets. The reason is printed so nobody has to guess.
std::string choose_backend(const pmm::pipe::PipelineConfig& c, std::string& why) {
  if (c.backend != "auto") {
    why = "configured";
    return c.backend;
  }
  const bool root = ::geteuid() == 0;
  if (pmm::app::dpdk_available() && root && has_device_arg(c.dpdk_eal)) {
    why = "auto: DPDK is built in, running as root, and dpdk.eal names a device";
    return "dpdk";
  }
  if (pmm::app::afpacket_available() && root && !c.afpacket_interface.empty()) {
    why = "auto: no DPDK device configured; root and afpacket.interface is set";
    return "afpacket";
  }
  why = !root ? "auto: not root" : (!pmm::app::dpdk_available() ? "auto: built without DPDK and no afpacket.interface"
                                                                   : "auto: no DPDK device in dpdk.eal and no afpacket.interface");
  return "portable";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"PinnacleMM appliance: feed -> books (-> quotes -> orders) on pinned cores"};
  std::string config_path, backend_name;
  std::vector<std::string> overrides;
  bool exit_at_end = false, json = false, print_config = false, list_backends = false;
  double max_seconds = 0;
  uint64_t unwind_ms = 3000;
  cli.add_option("--config", config_path, "JSON configuration (default: the embedded dev profile, hw-profiles/dev.json)");
  cli.add_option("--set", overrides, "Override one key: --set pipeline.burst=64 (repeatable)");
  cli.add_option("--backend", backend_name, "auto, dpdk, afpacket or portable (overrides the config's backend)");
  cli.add_flag("--exit-at-end-of-session", exit_at_end, "Stop once the feed's session ended and nothing is missing");
  cli.add_option("--max-seconds", max_seconds, "Stop after this long (0: run until a signal)");
  cli.add_option("--unwind-ms", unwind_ms, "At stop: wait this long for our cancels to be acknowledged")
      ->capture_default_str();
  cli.add_flag("--json", json, "Print the final summary as JSON on stdout");
  cli.add_flag("--print-config", print_config, "Print the effective configuration (JSON) and exit");
  cli.add_flag("--backends", list_backends, "List the backends this build has, one per line, and exit");
  CLI11_PARSE(cli, argc, argv);
  if (list_backends) {
    if (pmm::app::dpdk_available()) std::printf("dpdk\n");
    if (pmm::app::afpacket_available()) std::printf("afpacket\n");
    std::printf("portable\n");
    return 0;
  }

  std::string text = pmm::pipe::kEmbeddedDevConfig;
  if (!config_path.empty() && !read_file(config_path, text)) {
    std::fprintf(stderr, "[pmm] error: --config %s: cannot read the file\n", config_path.c_str());
    return 2;
  }
  // The flags are overrides like any other, so --print-config shows what will really run.
  if (!backend_name.empty()) overrides.push_back("backend=" + backend_name);
  if (exit_at_end) overrides.push_back("exit_at_end_of_session=true");
  for (const std::string& o : overrides) {
    if (std::string e = pmm::pipe::apply_override(o, text); !e.empty()) {
      std::fprintf(stderr, "[pmm] error: %s\n", e.c_str());
      return 2;
    }
  }
  pmm::pipe::PipelineConfig config;
  if (std::string e = pmm::pipe::parse_config(text, config); !e.empty()) {
    std::fprintf(stderr, "[pmm] error: %s%s\n", e.c_str(), config_path.empty() ? "" : (" (in " + config_path + ")").c_str());
    return 2;
  }
  if (print_config) {
    std::printf("%s\n", text.c_str());
    return 0;
  }

  std::string why;
  const std::string chosen = choose_backend(config, why);
  std::string error;
  std::unique_ptr<pmm::app::Backend> backend;
  if (chosen == "dpdk") backend = pmm::app::make_dpdk_backend(config, error);
  else if (chosen == "afpacket") backend = pmm::app::make_afpacket_backend(config, error);
  else backend = pmm::app::make_portable_backend(config, error);
  if (!backend) {
    std::fprintf(stderr, "[pmm] error: %s backend: %s\n", chosen.c_str(), error.c_str());
    return 1;
  }
  std::fprintf(stderr, "[pmm] backend %s (%s): %s\n", backend->name().c_str(), why.c_str(), backend->describe().c_str());

  // Order entry: on when the configuration has limits, a gateway and symbols.
  std::string no_trading;
  const bool trading = pmm::app::trading_enabled(config, no_trading);
  pmm::risk::TradingConfig trading_config;
  pmm::orders::NullEventSink order_events;  // the journal keeps the tracker's inputs instead
  pmm::risk::TradingStage* trading_stage = nullptr;
  pmm::pipe::QuoteStageFactory quote_factory;
  std::unique_ptr<pmm::app::TradingPersistence> persistence;
  pmm::app::JournalCpuPlacement journal_cpu;  // persistence.journalCpu
  if (trading) {
    pmm::persistence::PersistenceConfig persistence_config;
    if (std::string e = pmm::app::make_trading_config(config, trading_config, &persistence_config); !e.empty()) {
      std::fprintf(stderr, "[pmm] error: %s\n", e.c_str());
      return 2;
    }
    if (persistence_config.enabled) {
      if (std::string e = pmm::app::place_journal_thread(persistence_config.journal_cpu, config.cores,
                                                         pmm::app::CpuTopology::of_this_machine(), journal_cpu);
          !e.empty()) {
        std::fprintf(stderr, "[pmm] error: config: %s%s\n", e.c_str(),
                     config_path.empty() ? "" : (" (in " + config_path + ")").c_str());
        return 2;
      }
      // Recovery first: a Failed start leaves every file as it was for the operator (docs/recovery.md).
      std::string e;
      persistence = pmm::app::TradingPersistence::start(
          persistence_config, trading_config,
          [](pmm::persistence::LogLevel, const std::string& line) { std::fprintf(stderr, "[pmm] %s\n", line.c_str()); },
          e);
      if (!persistence) {
        std::fprintf(stderr, "[pmm] error: persistence (%s): %s\n", persistence_config.data_directory.c_str(), e.c_str());
        return 1;
      }
    } else {
      std::fprintf(stderr, "[pmm] persistence off: the trading state is not journaled (persistence.enabled=false)\n");
    }
    quote_factory = [&](const pmm::pipe::QuoteWiring& w) {
      auto stage = std::make_unique<pmm::risk::TradingStage>(trading_config, w, order_events);
      if (persistence) {
        if (std::string e = persistence->attach(*stage); !e.empty()) throw std::runtime_error(e);
        std::fprintf(stderr, "[pmm] %s\n", persistence->restored_line().c_str());
      }
      trading_stage = stage.get();
      return stage;
    };
    std::fprintf(stderr, "[pmm] order entry: quoting %zu symbol(s) as firm %s, session %s, token epoch %u, gateway %s%s\n",
                 trading_config.symbols.size(), trading_config.firm.c_str(), trading_config.session.c_str(),
                 trading_config.epoch, config.order_gateway.c_str(),
                 trading_config.response_latency_ns ? " (deterministic: responses applied at exchange time + latency)" : "");
  } else {
    std::fprintf(stderr, "[pmm] order entry off: %s\n", no_trading.c_str());
  }

  const pmm::pipe::TscClock clock = pmm::pipe::TscClock::calibrate();
  std::unique_ptr<pmm::pipe::Pipeline> pipeline;
  try {
    pipeline = std::make_unique<pmm::pipe::Pipeline>(config, backend->source(), backend->sink(), backend->rings(), clock,
                                                     [&](int cpu) { backend->before_core(cpu); }, quote_factory);
    if (persistence) pipeline->set_book_journal(persistence->market_data_journal());  // null: journalMarketData off
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[pmm] error: building the pipeline: %s\n", e.what());
    return 1;
  }
  std::string cores;
  for (size_t i = 0; i < config.cores.size(); ++i) {
    cores += (i ? "; core " : "core ") + std::to_string(i) + " (cpu " +
             (config.cores[i].cpu < 0 ? std::string("any") : std::to_string(config.cores[i].cpu)) + "):";
    for (const std::string& s : config.cores[i].stages) cores += " " + s;
  }
  std::fprintf(stderr, "[pmm] stages: %s; rings of %u, burst %u; TSC %.3f GHz\n", cores.c_str(), config.ring_size,
               config.burst, clock.ticks_per_ns());

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  if (persistence) {  // before the cores: the ring is drained from the first record
    std::fprintf(stderr, "[pmm] %s\n", journal_cpu.note.c_str());
    persistence->launch(journal_cpu.cpu);
  }
  try {
    backend->launch(*pipeline);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[pmm] error: starting the cores: %s\n", e.what());
    return 1;
  }

  // Control loop (this thread is not a pipeline core): status line, stop conditions.
  using clock_t_ = std::chrono::steady_clock;
  const auto start = clock_t_::now();
  auto last_status = start;
  pmm::pipe::PipelineSnapshot previous = pipeline->snapshot();
  const char* reason = "signal";
  bool journal_failure_logged = false;
  const auto log_journal_failure = [&] {
    if (persistence && !journal_failure_logged && persistence->failed()) {
      journal_failure_logged = true;
      std::fprintf(stderr, "[pmm] error: JOURNAL FAILED: %s; quoting stopped, open orders are being cancelled\n",
                   persistence->writer_error().c_str());
    }
  };
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    log_journal_failure();
    if (g_signals != 0) break;
    if (config.exit_at_end_of_session && pipeline->end_of_session()) {
      reason = "end of session";
      break;
    }
    const auto now = clock_t_::now();
    if (max_seconds > 0 && now - start >= std::chrono::duration<double>(max_seconds)) {
      reason = "--max-seconds";
      break;
    }
    if (config.status_interval_ms != 0 && now - last_status >= std::chrono::milliseconds(config.status_interval_ms)) {
      const pmm::pipe::PipelineSnapshot snap = pipeline->snapshot();
      const double secs = std::chrono::duration<double>(now - last_status).count();
      std::string journal;
      if (persistence)
        journal = " | journal durable " + std::to_string(persistence->durable_sequence()) + " records " +
                  std::to_string(persistence->records()) + " full " +
                  std::to_string(trading_stage != nullptr ? trading_stage->figures().journal_full.get() : 0) +
                  (persistence->failed() ? " JOURNAL-FAILED" : "");
      std::fprintf(stderr, "[pmm] %s | device drops %llu%s\n", pipeline->status_line(snap, previous, secs).c_str(),
                   static_cast<unsigned long long>(backend->device_drops()), journal.c_str());
      if (snap.gaps_unrecovered != previous.gaps_unrecovered)
        std::fprintf(stderr, "[pmm] warning: %llu gap(s) given up after %u re-requests; %llu messages lost so far; the books stay stale\n",
                     static_cast<unsigned long long>(snap.gaps_unrecovered - previous.gaps_unrecovered), config.max_retries,
                     static_cast<unsigned long long>(snap.messages_lost));
      previous = snap;
      last_status = now;
    }
  }
  if (trading_stage != nullptr) {
    // Nothing of ours may stay on the exchange's book: cancel everything while RX still runs for the acks.
    std::fprintf(stderr, "[pmm] stopping (%s): quoting stopped, cancelling %llu open order(s)\n", reason,
                 static_cast<unsigned long long>(trading_stage->figures().open_orders.get()));
    const bool unwound = pipeline->unwind(unwind_ms);
    std::fprintf(stderr, "[pmm] %s\n",
                 unwound ? "every order acknowledged closed"
                         : ("warning: " + std::to_string(trading_stage->figures().open_orders.get()) +
                            " order(s) not acknowledged closed within --unwind-ms " + std::to_string(unwind_ms) +
                            ": check the exchange side").c_str());
  }
  std::fprintf(stderr, "[pmm] stopping (%s): draining rings\n", reason);
  const bool clean = pipeline->drain_and_stop(2000);
  try {
    backend->join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[pmm] error: stopping the cores: %s\n", e.what());
  }
  if (const std::string d = backend->device_status(); !d.empty()) std::fprintf(stderr, "[pmm] device: %s\n", d.c_str());
  if (persistence) {
    // The producers have stopped: the journal thread drains what is left, syncs, and the state is closed.
    log_journal_failure();
    std::string e;
    if (persistence->stop(e))
      std::fprintf(stderr, "[pmm] journal closed at sequence %llu (%llu records this run)\n",
                   static_cast<unsigned long long>(persistence->durable_sequence()),
                   static_cast<unsigned long long>(persistence->records()));
    else
      std::fprintf(stderr, "[pmm] error: %s\n", e.c_str());
  }
  const pmm::pipe::PipelineSnapshot final_snap = pipeline->snapshot();
  std::fprintf(stderr, "[pmm] %s; final: %s\n", clean ? "drained" : "drain deadline passed (rings not empty)",
               pipeline->status_line(final_snap, previous, 1.0).c_str());
  if (final_snap.gaps_unrecovered != 0)
    std::fprintf(stderr, "[pmm] warning: %llu gap(s) could not be filled: %llu messages lost, books stay stale\n",
                 static_cast<unsigned long long>(final_snap.gaps_unrecovered),
                 static_cast<unsigned long long>(final_snap.messages_lost));
  if (json) {
    std::string summary = pipeline->summary_json(backend->name());
    if (persistence)  // where the risk state came from at start (docs/recovery.md, "Risk state file")
      summary.insert(2, "  \"risk_state\": \"" + persistence->risk_state_status() + "\",\n  \"risk_state_writes\": " +
                            std::to_string(persistence->risk_state_writes()) + ",\n  \"market_data_journaled\": " +
                            std::to_string(pipeline->book().counters().journaled.get()) +
                            ",\n  \"market_data_journal_lost\": " +
                            std::to_string(pipeline->book().counters().journal_lost.get()) + ",\n");
    std::printf("%s", summary.c_str());
  } else {
    std::fprintf(stderr,
                 "[pmm] summary: %llu messages, %llu packets (%llu retransmitted), books digest 0x%016llx, "
                 "%llu live orders; gaps %llu filled %llu unrecovered %llu; malformed: %llu frames, %llu packets, "
                 "%llu wrong port, %llu wrong session (--json for everything)\n",
                 static_cast<unsigned long long>(final_snap.messages), static_cast<unsigned long long>(final_snap.rx_packets),
                 static_cast<unsigned long long>(final_snap.retrans_packets),
                 static_cast<unsigned long long>(pipeline->books_digest()),
                 static_cast<unsigned long long>(final_snap.live_orders), static_cast<unsigned long long>(final_snap.gaps),
                 static_cast<unsigned long long>(final_snap.gaps_filled),
                 static_cast<unsigned long long>(final_snap.gaps_unrecovered),
                 static_cast<unsigned long long>(final_snap.bad_frames),
                 static_cast<unsigned long long>(final_snap.malformed_mold),
                 static_cast<unsigned long long>(final_snap.wrong_port),
                 static_cast<unsigned long long>(final_snap.wrong_session));
  }
  pipeline.reset();
  backend.reset();
  return 0;
}
