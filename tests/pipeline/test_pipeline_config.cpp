// The appliance's configuration (core/pipeline/pipeline_config.*): the embedded dev profile parses and
// validates; every key it names can be set with an override and lands in its own field (and only
// there); every kind of bad input gives an error naming the full dotted key and the form expected;
// apply_override's key paths; and every JSON profile in hw-profiles/ parses and validates.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/pipeline/pipeline_config.hpp"

namespace {

using pmm::pipe::apply_override;
using pmm::pipe::kEmbeddedDevConfig;
using pmm::pipe::parse_config;
using pmm::pipe::PipelineConfig;
using pmm::pipe::validate;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out;
}

// Every field of the struct, under the dotted key that sets it (the mapping docs/configuration.md
// documents), as text: lets a test see exactly which fields an override changed.
std::map<std::string, std::string> fields(const PipelineConfig& c) {
  std::string cores;
  for (const pmm::pipe::CoreAssignment& a : c.cores) cores += std::to_string(a.cpu) + ":" + join(a.stages) + ";";
  return {
      {"backend", c.backend},
      {"symbols", join(c.symbols)},
      {"feed.port", std::to_string(c.feed_port)},
      {"feed.group", c.feed_group},
      {"feed.listen", c.listen_address},
      {"feed.session", c.feed_session},
      {"retransmission.server", c.retrans_server},
      {"retransmission.port", std::to_string(c.retrans_port)},
      {"retransmission.retry_ms", std::to_string(c.retry_ms)},
      {"retransmission.max_retries", std::to_string(c.max_retries)},
      {"retransmission.window_messages", std::to_string(c.window_messages)},
      {"retransmission.max_request_messages", std::to_string(c.max_request_messages)},
      {"orders.port", std::to_string(c.order_port)},
      {"orders.gateway", c.order_gateway},
      {"orders.firm", c.order_firm},
      {"orders.session", c.order_session},
      {"orders.max_open_orders", std::to_string(c.max_open_orders)},
      {"orders.history_messages", std::to_string(c.order_history)},
      {"orders.retry_ms", std::to_string(c.order_retry_ms)},
      {"orders.heartbeat_ms", std::to_string(c.order_heartbeat_ms)},
      {"orders.login_retry_ms", std::to_string(c.order_login_retry_ms)},
      {"orders.login_max_echo", std::to_string(c.order_login_max_echo)},
      {"orders.fee_maker_e4", std::to_string(c.fee_maker_e4)},
      {"orders.fee_taker_e4", std::to_string(c.fee_taker_e4)},
      {"orders.response_latency_us", std::to_string(c.response_latency_us)},
      {"pipeline.burst", std::to_string(c.burst)},
      {"pipeline.ring_size", std::to_string(c.ring_size)},
      {"pipeline.pool_packets", std::to_string(c.pool_packets)},
      {"pipeline.cores", cores},
      {"books.max_orders", std::to_string(c.books.max_orders)},
      {"books.max_levels", std::to_string(c.books.max_levels)},
      {"books.max_locates", std::to_string(c.books.max_locates)},
      {"books.level_index_entries", std::to_string(c.books.level_index_entries)},
      {"network.local_ip", c.local_ip},
      {"network.local_mac", c.local_mac},
      {"network.gateway_mac", c.gateway_mac},
      {"dpdk.eal", join(c.dpdk_eal)},
      {"dpdk.port", std::to_string(c.dpdk_port)},
      {"afpacket.interface", c.afpacket_interface},
      {"afpacket.frames", std::to_string(c.afpacket_frames)},
      {"afpacket.frame_size", std::to_string(c.afpacket_frame_size)},
      {"status.interval_ms", std::to_string(c.status_interval_ms)},
      {"exit_at_end_of_session", c.exit_at_end_of_session ? "true" : "false"},
  };
}

// Dotted paths of the leaves (scalars and arrays) of a JSON object. The sections other layers read
// (strategy, risk, persistence) have their own tests.
void collect_leaves(const rapidjson::Value& v, const std::string& prefix, std::set<std::string>& out) {
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    const std::string key = prefix.empty() ? it->name.GetString() : prefix + "." + it->name.GetString();
    if (key == "strategy" || key == "risk" || key == "persistence") continue;
    if (it->value.IsObject()) collect_leaves(it->value, key, out);
    else out.insert(key);
  }
}

PipelineConfig embedded() {
  PipelineConfig c;
  const std::string e = parse_config(kEmbeddedDevConfig, c);
  EXPECT_EQ(e, "");
  return c;
}

// Applies overrides to the embedded profile and parses the result; returns parse's (or apply's) error.
std::string parse_with(const std::vector<std::string>& overrides, PipelineConfig* out = nullptr) {
  std::string text = kEmbeddedDevConfig;
  for (const std::string& o : overrides)
    if (std::string e = apply_override(o, text); !e.empty()) return "apply_override: " + e;
  PipelineConfig c;
  std::string e = parse_config(text, c);
  if (out) *out = c;
  return e;
}

// The error for one override must start with "config: <key>: expected" and contain each fragment.
void expect_error(const std::vector<std::string>& overrides, const std::string& key,
                  const std::vector<std::string>& fragments) {
  const std::string e = parse_with(overrides);
  std::string what;
  for (const std::string& o : overrides) what += " --set " + o;
  EXPECT_EQ(e.rfind("config: " + key + ": ", 0), 0u) << what << "\n  error: " << e;
  for (const std::string& f : fragments)
    EXPECT_NE(e.find(f), std::string::npos) << what << "\n  error: " << e << "\n  missing: " << f;
}

TEST(PipelineConfig, EmbeddedDefaultParsesAndValidates) {
  PipelineConfig c;
  ASSERT_EQ(parse_config(kEmbeddedDevConfig, c), "");
  EXPECT_EQ(validate(c), "");
  // The dev profile: every stage on one unpinned core.
  ASSERT_EQ(c.cores.size(), 1u);
  EXPECT_EQ(c.cores[0].cpu, -1);
  EXPECT_EQ(c.cores[0].stages, pmm::pipe::stage_names());
  // The struct's own defaults are valid too (parse over an empty object keeps them).
  PipelineConfig d;
  EXPECT_EQ(validate(d), "");
  PipelineConfig from_empty;
  EXPECT_EQ(parse_config("{}", from_empty), "");
  EXPECT_EQ(fields(from_empty), fields(d));
}

TEST(PipelineConfig, CommentsAndTrailingCommasAreAccepted) {
  PipelineConfig c;
  EXPECT_EQ(parse_config("// a profile\n{ /* inline */ \"pipeline\": { \"burst\": 16, }, }", c), "");
  EXPECT_EQ(c.burst, 16u);
}

// One override per key of the embedded profile, each to a valid non-default value: the parsed config
// must differ from the embedded one in exactly that key's field.
struct KeyCase {
  const char* key;
  const char* value;     // as given to --set
  const char* expected;  // fields()[key] afterwards
};
const KeyCase kEveryKey[] = {
    {"backend", "portable", "portable"},
    {"symbols", R"(["IBM","GE"])", "IBM,GE"},
    {"feed.port", "27000", "27000"},
    {"feed.group", "239.1.2.3", "239.1.2.3"},
    {"feed.listen", "0.0.0.0", "0.0.0.0"},
    {"feed.session", "SESSION001", "SESSION001"},
    {"retransmission.server", "10.1.2.3:999", "10.1.2.3:999"},
    {"retransmission.port", "27001", "27001"},
    {"retransmission.retry_ms", "7", "7"},
    {"retransmission.max_retries", "0", "0"},
    {"retransmission.window_messages", "1024", "1024"},
    {"retransmission.max_request_messages", "500", "500"},
    {"orders.port", "27002", "27002"},
    {"orders.gateway", "10.1.2.4:27020", "10.1.2.4:27020"},
    {"orders.firm", "ABCD", "ABCD"},
    {"orders.session", "S1", "S1"},
    {"orders.max_open_orders", "9", "9"},
    {"orders.history_messages", "128", "128"},
    {"orders.retry_ms", "7", "7"},
    {"orders.heartbeat_ms", "250", "250"},
    {"orders.login_retry_ms", "75", "75"},
    {"orders.login_max_echo", "512", "512"},
    {"orders.fee_maker_e4", "-7", "-7"},
    {"orders.fee_taker_e4", "11", "11"},
    {"orders.response_latency_us", "500", "500"},
    {"pipeline.burst", "16", "16"},
    {"pipeline.ring_size", "65536", "65536"},
    {"pipeline.pool_packets", "100", "100"},
    {"pipeline.cores", R"([{"cpu":2,"stages":["rx","parse"]},{"cpu":3,"stages":["tx","book","quote"]}])",
     "2:rx,parse;3:tx,book,quote;"},
    {"books.max_orders", "1000", "1000"},
    {"books.max_levels", "2000", "2000"},
    {"books.max_locates", "100", "100"},
    {"books.level_index_entries", "4096", "4096"},
    {"network.local_ip", "10.9.8.7", "10.9.8.7"},
    {"network.local_mac", "02:00:00:00:00:01", "02:00:00:00:00:01"},
    {"network.gateway_mac", "02:00:00:00:00:fe", "02:00:00:00:00:fe"},
    {"dpdk.eal", R"(["-l","0-3","-a","0000:3b:00.0"])", "-l,0-3,-a,0000:3b:00.0"},
    {"dpdk.port", "3", "3"},
    {"afpacket.interface", "eth9", "eth9"},
    {"afpacket.frames", "64", "64"},
    {"afpacket.frame_size", "4096", "4096"},
    {"status.interval_ms", "0", "0"},
    {"exit_at_end_of_session", "true", "true"},
};

TEST(PipelineConfig, EveryEmbeddedKeyIsCoveredByTheRoundTripTable) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(kEmbeddedDevConfig);
  ASSERT_FALSE(doc.HasParseError());
  std::set<std::string> leaves;
  collect_leaves(doc, "", leaves);
  std::set<std::string> table, struct_keys;
  for (const KeyCase& k : kEveryKey) table.insert(k.key);
  for (const auto& [key, value] : fields(PipelineConfig{})) struct_keys.insert(key);
  EXPECT_EQ(leaves, table) << "a key of kEmbeddedDevConfig has no round-trip case (or the table names a key it lacks)";
  EXPECT_EQ(leaves, struct_keys) << "the embedded profile and PipelineConfig's fields disagree";
}

TEST(PipelineConfig, EveryKeyRoundTripsThroughAnOverride) {
  const auto before = fields(embedded());
  for (const KeyCase& k : kEveryKey) {
    SCOPED_TRACE(std::string("--set ") + k.key + "=" + k.value);
    ASSERT_NE(before.at(k.key), k.expected) << "the case must choose a non-default value";
    PipelineConfig c;
    ASSERT_EQ(parse_with({std::string(k.key) + "=" + k.value}, &c), "");
    auto after = fields(c);
    EXPECT_EQ(after.at(k.key), k.expected);
    after[k.key] = before.at(k.key);
    EXPECT_EQ(after, before) << "the override changed a field other than its own";
  }
}

TEST(PipelineConfig, AllOverridesAtOnce) {
  std::vector<std::string> all;
  for (const KeyCase& k : kEveryKey) all.push_back(std::string(k.key) + "=" + k.value);
  PipelineConfig c;
  ASSERT_EQ(parse_with(all, &c), "");
  const auto got = fields(c);
  for (const KeyCase& k : kEveryKey) EXPECT_EQ(got.at(k.key), k.expected) << k.key;
}

TEST(PipelineConfigErrors, WrongType) {
  expect_error({"pipeline.burst=\"32\""}, "pipeline.burst", {"expected an integer from 1 to 512"});
  expect_error({"pipeline.burst=32.5"}, "pipeline.burst", {"expected an integer from 1 to 512"});
  expect_error({"retransmission.retry_ms=-1"}, "retransmission.retry_ms", {"expected an integer from 1 to 60000"});
  expect_error({"feed.port=true"}, "feed.port", {"expected an integer from 1 to 65535"});
  expect_error({"feed.group=5"}, "feed.group", {"expected a string"});
  expect_error({"backend=[\"dpdk\"]"}, "backend", {"expected a string"});
  expect_error({"network.local_ip=null"}, "network.local_ip", {"expected a string"});
  expect_error({"exit_at_end_of_session=1"}, "exit_at_end_of_session", {"expected true or false"});
  expect_error({"exit_at_end_of_session=yes"}, "exit_at_end_of_session", {"expected true or false"});
  expect_error({"symbols=AAPL"}, "symbols", {"expected an array of strings"});
  expect_error({"symbols=[\"AAPL\",1]"}, "symbols", {"expected an array of strings"});
  expect_error({"dpdk.eal=\"--no-pci\""}, "dpdk.eal", {"expected an array of strings"});
  expect_error({"pipeline.cores=[{\"cpu\":\"0\",\"stages\":[\"rx\",\"parse\",\"book\",\"quote\",\"tx\"]}]"},
               "pipeline.cores[0].cpu", {"expected an integer from -1 to 4095"});
  expect_error({"pipeline.cores=[{\"cpu\":0,\"stages\":\"rx\"}]"}, "pipeline.cores[0].stages",
               {"expected an array of strings"});
  // A section that is not an object, a core that is not an object, an empty or non-array core list.
  expect_error({"feed=5"}, "feed", {"expected an object"});
  expect_error({"pipeline.cores=[5]"}, "pipeline.cores[0]", {"expected an object"});
  expect_error({"pipeline.cores=[]"}, "pipeline.cores", {"expected a non-empty array"});
  expect_error({"pipeline.cores={}"}, "pipeline.cores", {"expected a non-empty array"});
  PipelineConfig c;
  const std::string e = parse_config("[1, 2]", c);
  EXPECT_EQ(e.rfind("config: the document: expected an object", 0), 0u) << e;
}

TEST(PipelineConfigErrors, OutOfRange) {
  expect_error({"pipeline.burst=0"}, "pipeline.burst", {"expected an integer from 1 to 512"});
  expect_error({"pipeline.burst=513"}, "pipeline.burst", {"expected an integer from 1 to 512"});
  expect_error({"pipeline.ring_size=32"}, "pipeline.ring_size", {"from 64 to 16777216"});
  expect_error({"pipeline.ring_size=33554432"}, "pipeline.ring_size", {"from 64 to 16777216"});
  expect_error({"pipeline.pool_packets=63"}, "pipeline.pool_packets", {"from 64 to 16777216"});
  expect_error({"feed.port=0"}, "feed.port", {"expected an integer from 1 to 65535"});
  expect_error({"feed.port=65536"}, "feed.port", {"expected an integer from 1 to 65535"});
  expect_error({"orders.port=0"}, "orders.port", {"from 1 to 65535"});
  expect_error({"orders.gateway=10.1.2.4"}, "orders.gateway", {"expected IP:PORT"});
  expect_error({"orders.firm=TOOLONG"}, "orders.firm", {"expected 1 to 4 characters"});
  expect_error({"orders.session=ELEVENCHARS"}, "orders.session", {"expected 1 to 10 characters"});
  expect_error({"orders.login_retry_ms=0"}, "orders.login_retry_ms", {"from 1 to 60000"});
  expect_error({"orders.login_max_echo=0"}, "orders.login_max_echo", {"from 1 to 65534"});
  expect_error({"orders.login_max_echo=65535"}, "orders.login_max_echo", {"from 1 to 65534"});
  expect_error({"orders.history_messages=100"}, "orders.history_messages", {"power of two"});
  expect_error({"orders.fee_taker_e4=1000001"}, "orders.fee_taker_e4", {"from -1000000 to 1000000"});
  expect_error({"risk=3"}, "risk", {"an object"});
  expect_error({"orders.gateway=10.1.2.4:0"}, "orders.gateway", {"expected IP:PORT"});
  expect_error({"retransmission.port=70000"}, "retransmission.port", {"from 1 to 65535"});
  expect_error({"retransmission.retry_ms=0"}, "retransmission.retry_ms", {"from 1 to 60000"});
  expect_error({"retransmission.retry_ms=60001"}, "retransmission.retry_ms", {"from 1 to 60000"});
  expect_error({"retransmission.max_retries=1001"}, "retransmission.max_retries", {"from 0 to 1000"});
  expect_error({"retransmission.window_messages=1"}, "retransmission.window_messages", {"from 2 to 16777216"});
  expect_error({"retransmission.max_request_messages=65535"}, "retransmission.max_request_messages",
               {"from 1 to 65534"});
  expect_error({"books.max_orders=0"}, "books.max_orders", {"expected an integer from 1"});
  expect_error({"books.max_orders=4294967296"}, "books.max_orders", {"expected an integer from 1"});
  expect_error({"books.max_locates=65537"}, "books.max_locates", {"from 1 to 65536"});
  expect_error({"dpdk.port=65536"}, "dpdk.port", {"from 0 to 65535"});
  expect_error({"afpacket.frames=4"}, "afpacket.frames", {"from 8 to 1048576"});
  expect_error({"afpacket.frame_size=255"}, "afpacket.frame_size", {"from 256 to 65536"});
  expect_error({"afpacket.frame_size=65537"}, "afpacket.frame_size", {"from 256 to 65536"});
  expect_error({"status.interval_ms=3600001"}, "status.interval_ms", {"from 0 to 3600000"});
  expect_error({"pipeline.cores=[{\"cpu\":4096,\"stages\":[\"rx\",\"parse\",\"book\",\"quote\",\"tx\"]}]"},
               "pipeline.cores[0].cpu", {"from -1 to 4095"});
  expect_error({"pipeline.cores=[{\"cpu\":-2,\"stages\":[\"rx\",\"parse\",\"book\",\"quote\",\"tx\"]}]"},
               "pipeline.cores[0].cpu", {"from -1 to 4095"});
  // Cross-field: the pool must hold two bursts.
  expect_error({"pipeline.burst=512", "pipeline.pool_packets=1023"}, "pipeline.pool_packets",
               {"expected at least 2 * pipeline.burst"});
  EXPECT_EQ(parse_with({"pipeline.burst=512", "pipeline.pool_packets=1024"}), "");
  // Symbols: at most 16, each 1 to 8 characters.
  expect_error({R"(symbols=["A","B","C","D","E","F","G","H","I","J","K","L","M","N","O","P","Q"])"},
               "symbols", {"expected at most 16"});
  expect_error({"symbols=[\"ABCDEFGHI\"]"}, "symbols", {"expected 1 to 8 characters", "\"ABCDEFGHI\""});
  expect_error({"symbols=[\"\"]"}, "symbols", {"expected 1 to 8 characters"});
  expect_error({"feed.session=SESSION0001"}, "feed.session", {"expected at most 10 characters", "\"SESSION0001\""});
  expect_error({"backend=fpga"}, "backend", {"expected one of auto, dpdk, afpacket, portable", "\"fpga\""});
}

// book::validate names its fields "book.<field>"; the error must name the key the user wrote.
TEST(PipelineConfigErrors, BookCapacityErrorsNameTheConfigKey) {
  expect_error({"books.max_orders=2147483648"}, "books.max_orders", {"1073741824"});
  expect_error({"books.max_levels=2147483648"}, "books.max_levels", {"1073741824"});
  expect_error({"books.level_index_entries=4"}, "books.level_index_entries", {"8"});
}

TEST(PipelineConfigErrors, NotAPowerOfTwo) {
  expect_error({"pipeline.ring_size=100"}, "pipeline.ring_size", {"expected a power of two", "100"});
  expect_error({"pipeline.ring_size=4097"}, "pipeline.ring_size", {"expected a power of two", "4097"});
  expect_error({"retransmission.window_messages=1000"}, "retransmission.window_messages",
               {"expected a power of two", "1000"});
  expect_error({"afpacket.frames=100"}, "afpacket.frames", {"expected a power of two", "100"});
}

TEST(PipelineConfigErrors, UnknownKeys) {
  expect_error({"colour=blue"}, "colour", {"unknown key"});
  expect_error({"pipeline.bursts=32"}, "pipeline.bursts", {"unknown key"});
  expect_error({"books.max_order=1"}, "books.max_order", {"unknown key"});
  expect_error({"pipeline.cores=[{\"cpu\":0,\"stages\":[\"rx\",\"parse\",\"book\",\"quote\",\"tx\"],\"stage\":[]}]"},
               "pipeline.cores[0].stage", {"unknown key"});
  EXPECT_EQ(parse_with({"pipeline.bursts=32"}), "config: pipeline.bursts: unknown key");
}

TEST(PipelineConfigErrors, StageToCoreMap) {
  // A stage on two cores.
  expect_error({R"(pipeline.cores=[{"cpu":0,"stages":["rx","parse","book"]},{"cpu":1,"stages":["book","quote","tx"]}])"},
               "pipeline.cores[1].stages", {"\"book\"", "more than one core"});
  // A stage twice on the same core counts too.
  expect_error({R"(pipeline.cores=[{"cpu":0,"stages":["rx","parse","book","quote","tx","rx"]}])"},
               "pipeline.cores[0].stages", {"\"rx\"", "more than one core"});
  // A stage on no core.
  expect_error({R"(pipeline.cores=[{"cpu":0,"stages":["rx","parse","book","tx"]}])"}, "pipeline.cores",
               {"\"quote\"", "on no core"});
  // A core with no stage leaves the others to carry all five; only the missing ones are named.
  expect_error({R"(pipeline.cores=[{"cpu":0,"stages":[]}])"}, "pipeline.cores", {"\"rx\"", "on no core"});
  // An unknown stage.
  expect_error({R"(pipeline.cores=[{"cpu":0,"stages":["rx","parse","book","quote","tx"]},{"cpu":1,"stages":["risk"]}])"},
               "pipeline.cores[1].stages", {"unknown stage \"risk\"", "expected rx, parse, book, quote, tx"});
  // One stage per core (production) is valid, in any order of cores.
  EXPECT_EQ(parse_with({R"(pipeline.cores=[{"cpu":6,"stages":["tx"]},{"cpu":2,"stages":["rx"]},)"
                        R"({"cpu":3,"stages":["parse"]},{"cpu":4,"stages":["book"]},{"cpu":5,"stages":["quote"]}])"}),
            "");
}

TEST(PipelineConfigErrors, PortsMustBeDistinct) {
  const std::string names = "feed.port, retransmission.port, orders.port";
  expect_error({"feed.port=26401"}, names, {"expected three different ports"});
  expect_error({"orders.port=26400"}, names, {"expected three different ports"});
  expect_error({"retransmission.port=26402"}, names, {"expected three different ports"});
  expect_error({"feed.port=5", "retransmission.port=5", "orders.port=5"}, names, {"expected three different ports"});
}

TEST(PipelineConfigErrors, BadJsonReportsTheByteOffset) {
  struct Case {
    std::string text;
    size_t offset;  // where the JSON stops making sense, counted by hand from the text
  };
  const std::string prefix = "{\n  \"pipeline\": { \"burst\": ";
  const Case cases[] = {
      {prefix + "@ }\n}", prefix.size()},                   // not a value
      {"{ \"backend\": \"auto\" \"symbols\": [] }", 20},     // missing comma before "symbols"
      {"{ \"backend\": \"auto\"", 19},                      // ends inside the object
      {"", 0},                                               // empty
  };
  for (const Case& c : cases) {
    PipelineConfig cfg;
    const std::string e = parse_config(c.text, cfg);
    EXPECT_EQ(e.rfind("config: JSON error at byte " + std::to_string(c.offset) + ": ", 0), 0u)
        << "text: " << c.text << "\n  error: " << e;
  }
}

TEST(ApplyOverride, CreatesNestedObjects) {
  std::string json = "{}";
  ASSERT_EQ(apply_override("a.b.c=1", json), "");
  ASSERT_EQ(apply_override("a.b.d=x", json), "");
  ASSERT_EQ(apply_override("a.e=[1,2]", json), "");
  rapidjson::Document d;
  d.Parse(json.c_str());
  ASSERT_FALSE(d.HasParseError()) << json;
  ASSERT_TRUE(d["a"]["b"].IsObject()) << json;
  EXPECT_EQ(d["a"]["b"]["c"].GetInt(), 1);
  EXPECT_STREQ(d["a"]["b"]["d"].GetString(), "x");
  ASSERT_TRUE(d["a"]["e"].IsArray());
  EXPECT_EQ(d["a"]["e"].Size(), 2u);
  // A section the profile lacks is created and then parsed like any other.
  std::string text = "{}";
  ASSERT_EQ(apply_override("afpacket.interface=eth3", text), "");
  PipelineConfig c;
  ASSERT_EQ(parse_config(text, c), "");
  EXPECT_EQ(c.afpacket_interface, "eth3");
}

TEST(ApplyOverride, ReplacesAndKeepsTheRest) {
  std::string json = kEmbeddedDevConfig;
  ASSERT_EQ(apply_override("pipeline.burst=64", json), "");
  ASSERT_EQ(apply_override("pipeline.burst=48", json), "");  // twice: the second wins
  PipelineConfig c;
  ASSERT_EQ(parse_config(json, c), "");
  EXPECT_EQ(c.burst, 48u);
  auto got = fields(c), want = fields(embedded());
  got.erase("pipeline.burst");
  want.erase("pipeline.burst");
  EXPECT_EQ(got, want);
  // A value of another type replaces the old one wholesale.
  std::string j = R"({"a": {"b": 1}})";
  ASSERT_EQ(apply_override("a={\"c\":2}", j), "");
  rapidjson::Document d;
  d.Parse(j.c_str());
  EXPECT_FALSE(d["a"].HasMember("b")) << j;
  EXPECT_EQ(d["a"]["c"].GetInt(), 2) << j;
}

TEST(ApplyOverride, ValueIsJsonOrABareString) {
  std::string json = "{}";
  ASSERT_EQ(apply_override("bare=portable", json), "");
  ASSERT_EQ(apply_override("quoted=\"portable\"", json), "");
  ASSERT_EQ(apply_override("ip=10.77.0.2", json), "");
  ASSERT_EQ(apply_override("endpoint=10.77.0.1:26410", json), "");
  ASSERT_EQ(apply_override("eq=a=b", json), "");  // only the first '=' separates
  ASSERT_EQ(apply_override("empty=", json), "");
  ASSERT_EQ(apply_override("number=42", json), "");
  ASSERT_EQ(apply_override("negative=-1", json), "");
  ASSERT_EQ(apply_override("flag=true", json), "");
  ASSERT_EQ(apply_override("list=[\"x\"]", json), "");
  rapidjson::Document d;
  d.Parse(json.c_str());
  ASSERT_FALSE(d.HasParseError()) << json;
  EXPECT_STREQ(d["bare"].GetString(), "portable");
  EXPECT_STREQ(d["quoted"].GetString(), "portable");
  EXPECT_STREQ(d["ip"].GetString(), "10.77.0.2");
  EXPECT_STREQ(d["endpoint"].GetString(), "10.77.0.1:26410");
  EXPECT_STREQ(d["eq"].GetString(), "a=b");
  EXPECT_STREQ(d["empty"].GetString(), "");
  ASSERT_TRUE(d["number"].IsInt());
  EXPECT_EQ(d["number"].GetInt(), 42);
  EXPECT_EQ(d["negative"].GetInt(), -1);
  EXPECT_TRUE(d["flag"].IsBool() && d["flag"].GetBool());
  EXPECT_TRUE(d["list"].IsArray());
}

TEST(ApplyOverride, RejectsMalformedAssignments) {
  for (const char* bad : {"novalue", "=x", "", "=", ".a=1", "a.=1", "a..b=1"}) {
    std::string json = kEmbeddedDevConfig;
    const std::string before = json;
    const std::string e = apply_override(bad, json);
    EXPECT_EQ(e.rfind(std::string("--set ") + bad + ": ", 0), 0u) << "'" << bad << "' gave: " << e;
    EXPECT_EQ(json, before) << "a refused override must leave the text alone";
  }
  std::string json = kEmbeddedDevConfig;
  EXPECT_NE(apply_override("novalue", json).find("expected key.path=value"), std::string::npos);
  EXPECT_NE(apply_override("a..b=1", json).find("empty key"), std::string::npos);
  // Descending into something that is not an object.
  const std::string e = apply_override("pipeline.burst.x=1", json);
  EXPECT_NE(e.find("\"burst\" is not an object"), std::string::npos) << e;
  // The text being overridden must itself be a JSON object.
  std::string not_object = "[1]";
  EXPECT_NE(apply_override("a=1", not_object), "");
  std::string broken = "{";
  EXPECT_NE(apply_override("a=1", broken), "");
}

// Broken text gets rapidjson's byte offset and reason, as parse_config gives for the same text.
TEST(ApplyOverride, BrokenTextReportsTheByteOffset) {
  const std::string text = "{ \"pipeline\": { \"burst\": } }";
  const std::string at = "JSON error at byte " + std::to_string(text.find("} }"));  // the value is missing
  PipelineConfig c;
  ASSERT_NE(parse_config(text, c).find(at), std::string::npos);
  std::string json = text;
  const std::string e = apply_override("pipeline.burst=1", json);
  EXPECT_NE(e.find(at), std::string::npos) << e;
}

// Every profile shipped in hw-profiles/ (meson passes the directory in PMM_HW_PROFILES_DIR) must parse
// and validate; dev.json, if there, must be the embedded profile.
TEST(HwProfiles, EveryProfileParsesAndValidates) {
  const char* dir = std::getenv("PMM_HW_PROFILES_DIR");
  if (!dir || !std::filesystem::is_directory(dir)) GTEST_SKIP() << "no hw-profiles directory (PMM_HW_PROFILES_DIR)";
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++n;
    std::ifstream in(entry.path());
    std::ostringstream text;
    text << in.rdbuf();
    PipelineConfig c;
    EXPECT_EQ(parse_config(text.str(), c), "") << entry.path();
    EXPECT_EQ(validate(c), "") << entry.path();
    if (entry.path().filename() == "dev.json") {
      EXPECT_EQ(fields(c), fields(embedded())) << "dev.json vs kEmbeddedDevConfig";
    }
  }
  if (n == 0) GTEST_SKIP() << "no *.json in " << dir;
}

}  // namespace
