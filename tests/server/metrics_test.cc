// The Prometheus /metrics endpoint (docs/operations.md, "Metrics and logs"):
// scraped over loopback, its text follows the exposition format 0.0.4 (a
// small parser below checks the grammar), its counters and histograms move by
// the operations done, and a listener on a non-loopback address is refused
// when the configuration is loaded.
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "hearth/rights.h"
#include "metrics.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

// ------------------------------------------------ the exposition grammar ----

struct Scrape {
  // Every sample by its series: name{label="value",...} exactly as written.
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // family -> type
  std::string error;                         // the first grammar violation
  double Get(const std::string& series) const {
    auto it = samples.find(series);
    return it == samples.end() ? -1 : it->second;
  }
  bool Has(const std::string& series) const { return samples.count(series) != 0; }
};

// (std::regex is avoided: GCC 12 warns inside it at -O2.)
bool IsMetricName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
              (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(const std::string& s) {
  return IsMetricName(s) && s.find(':') == std::string::npos;
}

bool IsInteger(const std::string& s) {
  size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  return s.size() > start && s.find_first_not_of("0123456789", start) == std::string::npos;
}

bool ParseValue(const std::string& text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// The text format, line by line: "# HELP name text", "# TYPE name type",
// other comments, blank lines, and samples `name{l="v",...} value [ts]`.
// Checks: names and label names by their grammar, label values' escapes,
// one TYPE per family before its samples, a family's samples together,
// histograms' buckets cumulative with le ascending and +Inf equal to _count.
Scrape ParseExposition(const std::string& text) {
  Scrape out;
  static const std::set<std::string> kinds = {"counter", "gauge", "histogram", "summary", "untyped"};
  std::set<std::string> seen_families;
  std::string current;  // the family whose samples are being read
  // Histogram checks: family -> (le, cumulative) in order, and _count.
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;
  auto fail = [&](const std::string& why, const std::string& line) {
    if (out.error.empty()) out.error = why + ": '" + line + "'";
  };
  if (!text.empty() && text.back() != '\n') fail("the text does not end with a line feed", "");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string kw, name;
      words >> kw >> name;
      if (kw != "HELP" && kw != "TYPE") continue;  // a plain comment
      if (!IsMetricName(name)) fail("bad metric name", line);
      if (kw == "TYPE") {
        std::string type, rest;
        words >> type;
        if (kinds.count(type) == 0 || (words >> rest)) fail("bad TYPE", line);
        if (out.types.count(name) != 0) fail("a second TYPE for one family", line);
        if (seen_families.count(name) != 0) fail("TYPE after the family's samples", line);
        out.types[name] = type;
      }
      continue;
    }
    // A sample.
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    std::string name = line.substr(0, i);
    if (!IsMetricName(name)) fail("bad metric name", line);
    std::string series = name;
    if (i < line.size() && line[i] == '{') {
      series += '{';
      ++i;
      bool first = true;
      while (i < line.size() && line[i] != '}') {
        if (!first) {
          if (line[i] != ',') { fail("labels not separated by ,", line); break; }
          ++i;
          series += ',';
        }
        first = false;
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) { fail("a label without =", line); break; }
        std::string label = line.substr(i, eq - i);
        if (!IsLabelName(label)) fail("bad label name", line);
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') { fail("a label value not quoted", line); break; }
        ++i;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            if (i + 1 >= line.size() || (line[i + 1] != '\\' && line[i + 1] != '"' && line[i + 1] != 'n')) {
              fail("a bad escape in a label value", line);
            }
            value += line[i + 1];
            i += 2;
            continue;
          }
          value += line[i++];
        }
        if (i >= line.size()) { fail("an unterminated label value", line); break; }
        ++i;  // closing quote
        series += label + "=\"" + value + "\"";
      }
      if (i >= line.size()) { fail("unterminated labels", line); continue; }
      ++i;  // }
      series += '}';
    }
    if (i >= line.size() || line[i] != ' ') { fail("no space before the value", line); continue; }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    double value = 0;
    if (!ParseValue(value_text, &value)) fail("bad value", line);
    if (!timestamp.empty() && !IsInteger(timestamp)) fail("bad timestamp", line);
    if (!extra.empty()) fail("text after the timestamp", line);
    // Which family: a histogram's samples carry suffixes.
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0 &&
          out.types.count(name.substr(0, name.size() - s.size())) != 0 &&
          out.types[name.substr(0, name.size() - s.size())] == "histogram") {
        family = name.substr(0, name.size() - s.size());
      }
    }
    if (family != current) {
      if (seen_families.count(family) != 0) fail("a family's samples are not together", line);
      seen_families.insert(family);
      current = family;
    }
    if (out.types.count(family) == 0) fail("a sample without its TYPE", line);
    if (out.samples.count(series) != 0) fail("a series given twice", line);
    out.samples[series] = value;
    if (out.types[family] == "histogram" && name == family + "_bucket") {
      size_t le = series.find("le=\"");
      size_t close = le == std::string::npos ? le : series.find('"', le + 4);
      if (close == std::string::npos) {
        fail("a bucket without le", line);
      } else {
        double bound = 0;
        if (!ParseValue(series.substr(le + 4, close - le - 4), &bound)) fail("bad le", line);
        buckets[family].emplace_back(bound, value);
      }
    }
  }
  for (const auto& [family, list] : buckets) {
    for (size_t k = 1; k < list.size(); ++k) {
      if (!(list[k].first > list[k - 1].first)) fail("le not ascending", family);
      if (list[k].second < list[k - 1].second) fail("buckets not cumulative", family);
    }
    if (list.empty() || !std::isinf(list.back().first)) fail("no +Inf bucket", family);
    if (!list.empty() && out.Get(family + "_count") != list.back().second) {
      fail("_count differs from the +Inf bucket", family);
    }
  }
  for (const auto& [family, type] : out.types) {
    if (type == "histogram" && (!out.Has(family + "_sum") || !out.Has(family + "_count"))) {
      fail("a histogram without _sum or _count", family);
    }
  }
  return out;
}

// GET `target` on 127.0.0.1:`port`: {status line, headers, body}.
struct HttpAnswer {
  std::string status_line, headers, body;
};
HttpAnswer HttpGet(uint16_t port, const std::string& target, const std::string& method = "GET") {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {"connect failed: " + ec.message(), "", ""};
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(request), ec);
  std::string all;
  std::array<char, 4096> buf;
  for (;;) {
    size_t n = socket.read_some(asio::buffer(buf), ec);
    all.append(buf.data(), n);
    if (ec) break;
  }
  HttpAnswer a;
  size_t head_end = all.find("\r\n\r\n");
  if (head_end == std::string::npos) return {"no answer: " + all, "", ""};
  a.status_line = all.substr(0, all.find("\r\n"));
  a.headers = all.substr(0, head_end);
  a.body = all.substr(head_end + 4);
  return a;
}

std::string WithMetrics(const std::string& metrics_json) {
  std::string json = kConfigJson;
  json.insert(json.find('{') + 1, "\n  \"metrics\": " + metrics_json + ",");
  return json;
}

class MetricsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    Start(Config(WithMetrics(R"({"listen": "127.0.0.1:0"})")));
    ASSERT_NE(server_->metrics_port(), 0);
  }
  Scrape ScrapeNow() {
    HttpAnswer a = HttpGet(server_->metrics_port(), "/metrics");
    EXPECT_EQ(a.status_line, "HTTP/1.1 200 OK") << a.status_line;
    EXPECT_NE(a.headers.find("text/plain; version=0.0.4"), std::string::npos) << a.headers;
    Scrape s = ParseExposition(a.body);
    EXPECT_EQ(s.error, "") << a.body;
    return s;
  }
};

TEST_F(MetricsTest, CountersAndHistogramsMoveByTheAppendsAndReadsDone) {
  Scrape before = ScrapeNow();
  ASSERT_EQ(before.types["hearth_appends_total"], "counter");
  ASSERT_EQ(before.types["hearth_append_duration_seconds"], "histogram");
  ASSERT_EQ(before.types["hearth_commit_group_size"], "histogram");
  ASSERT_EQ(before.types["hearth_writer_queue_depth"], "gauge");

  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  constexpr int kAppends = 5, kReads = 3;
  for (int i = 0; i < kAppends; ++i) {
    auto r = client->Append("case/north/C-00080" + std::to_string(i), ExpectedVersion::NoStream(),
                            {Enquiry("P-80" + std::to_string(i))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // A refused append (the stream exists): a failure, not an append.
  auto refused = client->Append("case/north/C-000800", ExpectedVersion::NoStream(), {Enquiry("P-800")});
  ASSERT_FALSE(refused.ok());
  for (int i = 0; i < kReads; ++i) {
    auto page = client->ReadStream("case/north/C-00080" + std::to_string(i), 1, Direction::kForward, 0,
                                   "triage");
    ASSERT_TRUE(page.ok()) << page.status().ToString();
  }
  Scrape after = ScrapeNow();
  auto delta = [&](const std::string& series) { return after.Get(series) - before.Get(series); };
  EXPECT_EQ(delta("hearth_appends_total"), kAppends);
  EXPECT_EQ(delta("hearth_append_failures_total"), 1);
  EXPECT_EQ(delta("hearth_append_duration_seconds_count"), kAppends + 1);
  EXPECT_EQ(delta("hearth_append_duration_seconds_bucket{le=\"+Inf\"}"), kAppends + 1);
  EXPECT_GT(delta("hearth_append_duration_seconds_sum"), 0);
  EXPECT_EQ(delta("hearth_reads_total"), kReads);
  EXPECT_EQ(delta("hearth_read_duration_seconds_count"), kReads);
  // Each acknowledged append went through one commit group (the refused one
  // was refused before the queue), one at a time.
  EXPECT_EQ(delta("hearth_commit_group_size_sum"), kAppends);
  EXPECT_EQ(delta("hearth_commit_group_size_count"), kAppends);
  EXPECT_EQ(delta("hearth_commit_group_size_bucket{le=\"1\"}"), kAppends);
  EXPECT_EQ(after.Get("hearth_writer_queue_depth"), 0);
  EXPECT_EQ(after.Get("hearth_log_position"), kAppends);
  EXPECT_EQ(after.Get("hearth_sessions_open"), 1);
  EXPECT_EQ(after.Get("hearth_connections_open"), 1);
}

// Small reads are tried on the network thread, from memory only
// (ServerConfig::reads_on_network_threads). With the store's blocks cached,
// a read of one event is answered there; over a store whose block cache
// holds nothing, the same read needs the disk, so it goes to a reader (a
// cache miss) and is answered in full just the same; when most recent tries
// missed, tries pause. A read of a default page is never tried there, and
// with the option off no read is.
TEST_F(MetricsTest, SmallReadsAreAnsweredOnTheNetworkThreadOnlyFromMemory) {
  {
    auto client = Connect("portal", "u-0042", "caseworker");
    ASSERT_TRUE(client);
    for (int i = 0; i < 3; ++i) {
      auto r = client->Append("case/north/C-00090" + std::to_string(i), ExpectedVersion::NoStream(),
                              {Enquiry("P-90" + std::to_string(i), "north", "Synth" + std::to_string(i))});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  std::unique_ptr<sdk::Client> client;
  // Reopens the store (its events now in SST files) and the server.
  auto restart = [&](uint64_t cache_bytes, const std::string& extra) {
    client.reset();
    server_->Stop();
    server_.reset();
    store_.reset();
    Options o = TestOptions(dir_.sub("root.key"));
    o.create_if_missing = false;
    o.block_cache_bytes = cache_bytes;
    o.projections = {readmodels::MakeRightsRequestsProjection()};
    auto store = Store::Open(o, dir_.sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    std::string json = WithMetrics(R"({"listen": "127.0.0.1:0"})");
    json.insert(json.find('{') + 1, extra);
    Start(Config(json));
    client = Connect("portal", "u-0042", "caseworker");
    ASSERT_TRUE(client);
  };
  auto read = [&](uint32_t max_count) {
    auto page = client->ReadStream("case/north/C-000901", 1, Direction::kForward, max_count, "triage");
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok() || page->events.size() != 1 || page->events[0].personal.size() != 1) {
      ADD_FAILURE() << "not the one event with its personal section";
      return std::string();
    }
    return page->events[0].personal[0].data;
  };
  const std::string kOnThread = "hearth_reads_on_network_threads_total";
  const std::string kMissed = "hearth_reads_cache_missed_total";

  restart(64 << 20, "");
  ASSERT_FALSE(HasFatalFailure());
  std::string first = read(1);  // loads what it reads into the cache, wherever it ran
  Scrape s1 = ScrapeNow();
  std::string warm = read(1);
  Scrape s2 = ScrapeNow();
  EXPECT_EQ(s2.Get(kOnThread) - s1.Get(kOnThread), 1);
  EXPECT_EQ(s2.Get(kMissed) - s1.Get(kMissed), 0);
  EXPECT_NE(warm.find("Synth1"), std::string::npos) << warm;
  EXPECT_EQ(first, warm);
  read(0);  // a default page: a reader's
  Scrape s3 = ScrapeNow();
  EXPECT_EQ(s3.Get(kOnThread), s2.Get(kOnThread));
  EXPECT_EQ(s3.Get(kMissed), s2.Get(kMissed));
  EXPECT_EQ(s3.Get("hearth_reads_total"), 3);

  // A block cache that keeps nothing: every try misses. Once 256 tries in a
  // row have missed, the next small reads are not tried at all.
  restart(0, "");
  ASSERT_FALSE(HasFatalFailure());
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(read(1), warm) << "read " << i;
  }
  Scrape cold = ScrapeNow();
  EXPECT_EQ(cold.Get(kMissed), 256);
  EXPECT_EQ(cold.Get(kOnThread), 0);
  EXPECT_EQ(cold.Get("hearth_reads_total"), 300);
  EXPECT_EQ(cold.Get("hearth_read_failures_total"), 0);

  restart(64 << 20, "\n  \"reads_on_network_threads\": false,");
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(read(1), warm);
  EXPECT_EQ(read(1), warm);
  Scrape off = ScrapeNow();
  EXPECT_EQ(off.Get(kOnThread), 0);
  EXPECT_EQ(off.Get(kMissed), 0);
  EXPECT_EQ(off.Get("hearth_reads_total"), 2);

  // Every read, wherever it ran, left its access record.
  client.reset();
  auto disclosed = store_->AccessLog("P-901");
  ASSERT_TRUE(disclosed.ok()) << disclosed.status().ToString();
  EXPECT_EQ(disclosed->size(), 3u + 300u + 2u);
}

TEST_F(MetricsTest, SessionsAndConnectionsAreCountedOpenAndClosed) {
  auto a = Connect("portal", "u-0042", "caseworker");
  auto b = Connect("intake", "u-0043", "caseworker");
  ASSERT_TRUE(a && b);
  Scrape two = ScrapeNow();
  EXPECT_EQ(two.Get("hearth_sessions_open"), 2);
  EXPECT_EQ(two.Get("hearth_connections_open"), 2);
  b.reset();
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections == 1; }));
  Scrape one = ScrapeNow();
  EXPECT_EQ(one.Get("hearth_sessions_open"), 1);
  EXPECT_EQ(one.Get("hearth_connections_open"), 1);
}

TEST_F(MetricsTest, ProjectionLagAndCheckpointAgeAreShown) {
  ASSERT_TRUE(store_->Append("case/north/C-000901", ExpectedVersion::NoStream(), {Enquiry("P-901")}).ok());
  auto cp = store_->WriteCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  Scrape s = ScrapeNow();
  ASSERT_TRUE(s.Has("hearth_checkpoint_age_seconds"));
  EXPECT_GE(s.Get("hearth_checkpoint_age_seconds"), 0);
  EXPECT_LT(s.Get("hearth_checkpoint_age_seconds"), 600);
  EXPECT_EQ(s.Get("hearth_checkpoint_size"), 1);
  EXPECT_EQ(s.types["hearth_projection_lag_events"], "gauge");
  auto projections = store_->Projections();
  ASSERT_TRUE(projections.ok());
  for (const auto& p : *projections) {
    EXPECT_TRUE(s.Has("hearth_projection_lag_events{projection=\"" + p.name + "\"}")) << p.name;
  }
}

TEST_F(MetricsTest, RightsRequestsAreCountedByStateWithDaysToTheirDueDate) {
  static domain::Calendar calendar = domain::Calendar::EnglandAndWales();
  domain::Date today;
  ASSERT_TRUE(domain::ParseDate("2020-01-10", &today));
  server_->AddMetricsSource(server::RightsMetrics(store_.get(), &TestCodec(), &calendar, [today] { return today; }));
  ASSERT_TRUE(store_->Append("case/north/C-000902", ExpectedVersion::NoStream(), {Enquiry("P-902")}).ok());
  rights::RightsOptions ro;
  ro.today = [today] { return today; };
  rights::Rights rights(store_.get(), &TestCodec(), ro);
  auto r = rights.Record("R-1", {DomainEvent(
                                    R"({"type":"RightsRequestReceived","facts":{"receivedOn":"2019-12-30","kind":"access"},)"
                                    R"("actor":{"user":"S-9","role":"controller","plugin":"test"},)"
                                    R"("subjects":[{"id":"P-902","role":"client"}]})")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Scrape s = ScrapeNow();
  EXPECT_EQ(s.Get("hearth_rights_requests{state=\"open\"}"), 1);
  EXPECT_EQ(s.Get("hearth_rights_requests{state=\"fulfilled\"}"), 0);
  // Received 30 December: due a calendar month later, 30 January, 20 days on.
  EXPECT_EQ(s.Get("hearth_rights_request_min_days_to_due"), 20);
  EXPECT_EQ(s.Get("hearth_rights_request_days_to_due_count"), 1);
  EXPECT_EQ(s.Get("hearth_rights_request_days_to_due_bucket{le=\"14\"}"), 0);
  EXPECT_EQ(s.Get("hearth_rights_request_days_to_due_bucket{le=\"21\"}"), 1);

  // A second request, received and answered: counted as fulfilled from the
  // requests' index, not read; the open one is still the only one dated.
  const std::string actor = R"("actor":{"user":"S-9","role":"controller","plugin":"test"})";
  ASSERT_TRUE(rights.Record("R-2", {DomainEvent(R"({"type":"RightsRequestReceived","facts":{"receivedOn":"2020-01-02",)"
                                                R"("kind":"access"},)" + actor +
                                                R"(,"subjects":[{"id":"P-902","role":"client"}]})")}).ok());
  ASSERT_TRUE(rights.Record("R-2", {DomainEvent(R"({"type":"RightsRequestFulfilled","facts":{"fulfilledOn":"2020-01-09",)"
                                                R"("actionCode":"packSent"},)" + actor + "}")}).ok());
  Scrape after = ScrapeNow();
  EXPECT_EQ(after.Get("hearth_rights_metrics_up"), 1);
  EXPECT_EQ(after.Get("hearth_rights_requests{state=\"open\"}"), 1);
  EXPECT_EQ(after.Get("hearth_rights_requests{state=\"fulfilled\"}"), 1);
  EXPECT_EQ(after.Get("hearth_rights_request_days_to_due_count"), 1);
}

TEST_F(MetricsTest, OnlyGetMetricsIsAnswered) {
  EXPECT_EQ(HttpGet(server_->metrics_port(), "/").status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(HttpGet(server_->metrics_port(), "/metrics", "DELETE").status_line,
            "HTTP/1.1 405 Method Not Allowed");
}

TEST(MetricsConfigTest, NonLoopbackListenAddressIsRefusedAtConfigLoad) {
  for (const char* address : {"0.0.0.0:9464", "10.1.2.3:9464", "[::]:9464"}) {
    std::string json = WithMetrics(std::string(R"({"listen": ")") + address + "\"}");
    auto config = server::ServerConfig::FromJson(json, "");
    ASSERT_FALSE(config.ok()) << address;
    EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(config.status().message().find("not a loopback address"), std::string::npos)
        << config.status().ToString();
    EXPECT_NE(config.status().message().find("metrics.allow_non_loopback"), std::string::npos);
  }
  auto allowed = server::ServerConfig::FromJson(
      WithMetrics(R"({"listen": "0.0.0.0:9464", "allow_non_loopback": true})"), "");
  EXPECT_TRUE(allowed.ok()) << allowed.status().ToString();
  for (const char* good : {"127.0.0.1:9464", "[::1]:0", "localhost:9464"}) {
    auto config = server::ServerConfig::FromJson(WithMetrics(std::string(R"({"listen": ")") + good + "\"}"), "");
    EXPECT_TRUE(config.ok()) << good << ": " << config.status().ToString();
  }
  auto malformed = server::ServerConfig::FromJson(WithMetrics(R"({"listen": "127.0.0.1"})"), "");
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("ADDRESS:PORT"), std::string::npos);
}

TEST(ExpositionGrammarTest, TheParserRejectsWhatTheFormatForbids) {
  // The checker itself: each of these must be caught.
  EXPECT_NE(ParseExposition("hearth_x 1\n").error, "");  // no TYPE
  EXPECT_NE(ParseExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n").error, "");
  EXPECT_NE(ParseExposition("# TYPE g gauge\ng{a=\"x} 1\n").error, "");
  EXPECT_NE(ParseExposition("# TYPE g gauge\ng 1\n# TYPE f gauge\nf 1\ng{a=\"b\"} 2\n").error, "");
  EXPECT_EQ(ParseExposition("# HELP g a gauge\n# TYPE g gauge\ng{a=\"q\\\"\"} 1.5\n").error, "");
}

}  // namespace
}  // namespace hearth::testing
