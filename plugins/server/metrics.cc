// Prometheus metrics (metrics.h): histograms, the exposition text, the
// plain-HTTP listener (Boost.Beast, as the console), the rights figures.
#include "metrics.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <thread>

#include "hearth/rights.h"

namespace hearth::server {

// ------------------------------------------------------------- Histogram ----

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

std::vector<double> Histogram::LatencyBounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
}

void Histogram::Observe(double value) {
  size_t i = size_t(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  std::lock_guard<std::mutex> lock(sum_mu_);
  ++buckets_[i];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  // Read under the lock, so that _count equals the +Inf bucket.
  std::lock_guard<std::mutex> lock(sum_mu_);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load();
    s.cumulative.push_back(running);
  }
  s.count = count_;
  s.sum = sum_;
  return s;
}

// ------------------------------------------------------------ Exposition ----

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

namespace {

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void Exposition::Family(const std::string& name, const std::string& help, const std::string& type) {
  text_ += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  text_ += "# TYPE " + name + " " + type + "\n";
}

void Exposition::Sample(const std::string& name, const Labels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += "{";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) text_ += ",";
      text_ += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
    }
    text_ += "}";
  }
  text_ += " " + FormatMetricValue(value) + "\n";
}

void Exposition::Counter(const std::string& name, const std::string& help, double value) {
  Family(name, help, "counter");
  Sample(name, {}, value);
}

void Exposition::Gauge(const std::string& name, const std::string& help, double value) {
  Family(name, help, "gauge");
  Sample(name, {}, value);
}

void Exposition::WriteHistogram(const std::string& name, const std::string& help,
                                const Histogram::Snapshot& h) {
  Family(name, help, "histogram");
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    Sample(name + "_bucket", {{"le", FormatMetricValue(h.bounds[i])}}, double(h.cumulative[i]));
  }
  Sample(name + "_bucket", {{"le", "+Inf"}}, double(h.cumulative.back()));
  Sample(name + "_sum", {}, h.sum);
  Sample(name + "_count", {}, double(h.count));
}

// ---------------------------------------------------------------- rights ----

MetricsSource RightsMetrics(Store* store, const domain::Codec* codec, const domain::Calendar* calendar,
                            std::function<domain::Date()> today) {
  return [store, codec, calendar, today](Exposition* out) {
    rights::RightsOptions options;
    options.calendar = *calendar;
    if (today) options.today = today;
    rights::Rights rights(store, codec, options);
    // The open requests page by page (O(open) reads, bounded by the law's
    // month each) and the closed ones from the index's counters: a scrape
    // never reads every request ever made (docs/rights.md).
    std::map<std::string, uint64_t> states = {{"open", 0}, {"paused", 0}, {"fulfilled", 0}, {"refused", 0}};
    Histogram days({-30, -7, -1, 0, 1, 3, 7, 14, 21, 28, 60, 90});
    std::optional<double> min_days;
    Status read = Status::OK();
    const domain::Date now = rights.Today();
    rights::RequestPageOptions page_options;
    page_options.open_only = true;
    page_options.limit = rights::kMaxRequestsPage;
    for (;;) {
      auto page = rights.RequestsPage(page_options);
      if (!page.ok()) {
        read = page.status();
        break;
      }
      for (const auto& r : page->requests) {
        ++states[r.paused() ? "paused" : "open"];
        auto due = rights::ComputeDueDate(r, *calendar, now);
        if (!due.ok()) continue;  // no receipt date: counted, not dated
        double d = double((due->due - now).count());
        days.Observe(d);
        if (!min_days || d < *min_days) min_days = d;
      }
      if (page->next.empty()) break;
      page_options.after = page->next;
    }
    if (read.ok()) {
      auto counts = rights.CountRequests();
      if (counts.ok()) {
        states["fulfilled"] = counts->fulfilled;
        states["refused"] = counts->refused;
      } else {
        read = counts.status();
      }
    }
    out->Family("hearth_rights_requests",
                "Rights requests (docs/rights.md) by state: the open and paused ones read at the scrape, "
                "the closed ones counted by the rights_requests projection.",
                "gauge");
    for (const auto& [state, n] : states) out->Sample("hearth_rights_requests", {{"state", state}}, double(n));
    out->WriteHistogram("hearth_rights_request_days_to_due",
                        "Days from today to the due date of each request not closed (negative: overdue).",
                        days.Read());
    if (min_days) {
      out->Gauge("hearth_rights_request_min_days_to_due",
                 "Days to the nearest due date of a request not closed (negative: overdue).", *min_days);
    }
    out->Gauge("hearth_rights_metrics_up",
               "1 when the rights requests could be read for this scrape, 0 when not.",
               read.ok() ? 1 : 0);
  };
}

// -------------------------------------------------------------- listener ----

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(tcp::socket socket, const std::function<std::string()>* render)
      : stream_(std::move(socket)), render_(render) {}

  void Start() {
    parser_.header_limit(8 * 1024);
    parser_.body_limit(1024);
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(const error_code& ec) {
    if (ec) {
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    const auto& req = parser_.get();
    res_.version(11);
    res_.set(http::field::server, "hearth");
    res_.keep_alive(false);
    std::string target(req.target());
    if (target != "/metrics" && target.rfind("/metrics?", 0) != 0) {
      res_.result(http::status::not_found);
      res_.set(http::field::content_type, "text/plain; charset=utf-8");
      res_.body() = "not found: the metrics are at /metrics\n";
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res_.result(http::status::method_not_allowed);
      res_.set(http::field::allow, "GET, HEAD");
      res_.set(http::field::content_type, "text/plain; charset=utf-8");
      res_.body() = "only GET\n";
    } else {
      res_.result(http::status::ok);
      res_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res_.body() = (*render_)();
      if (req.method() == http::verb::head) {
        res_.content_length(res_.body().size());
        res_.body().clear();
      }
    }
    if (req.method() != http::verb::head) res_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, res_, [self = shared_from_this()](const error_code&, size_t) {
      error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> res_;
  const std::function<std::string()>* render_;
};

class ListenerImpl final : public MetricsListener {
 public:
  explicit ListenerImpl(std::function<std::string()> render)
      : render_(std::move(render)), acceptor_(io_) {}
  ~ListenerImpl() override { Stop(); }

  Status Init(const std::string& address, uint16_t port) {
    error_code ec;
    auto a = asio::ip::make_address(address == "localhost" ? "127.0.0.1" : address, ec);
    if (ec) return Status::InvalidArgument("metrics.listen address '" + address + "': " + ec.message());
    tcp::endpoint endpoint(a, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen for metrics on " + address + ":" + std::to_string(port) +
                             ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    asio::post(io_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<HttpConnection>(std::move(socket), &render_)->Start();
      Accept();
    });
  }

  std::function<std::string()> render_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<MetricsListener>> MetricsListener::Start(const std::string& address, uint16_t port,
                                                                std::function<std::string()> render) {
  auto l = std::make_unique<ListenerImpl>(std::move(render));
  if (Status s = l->Init(address, port); !s.ok()) return s;
  return std::unique_ptr<MetricsListener>(std::move(l));
}

}  // namespace hearth::server
