// Prometheus metrics of `hearth serve` (docs/operations.md, "Metrics and
// logs"): histograms and the text exposition format 0.0.4, the plain-HTTP
// listener that serves them (loopback by default), and the metrics read from
// the rights requests.
//
//   Histogram latency(Histogram::LatencyBounds());
//   latency.Observe(0.004);
//   Exposition out;
//   out.WriteHistogram("hearth_append_duration_seconds", "...", latency.Read());
//   // out.text() is what GET /metrics answers
//
// Labels carry fixed codes only (projection names, request states), never
// anything a client sent and nothing about a person.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "hearth/domain.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::server {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A histogram with fixed upper bounds; Observe is safe from any thread.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  // Seconds: 100 us to 10 s.
  static std::vector<double> LatencyBounds();
  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;       // the finite upper bounds, ascending
    std::vector<uint64_t> cumulative; // observations <= bounds[i]; then one more: +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket (not cumulative), +Inf last
  mutable std::mutex sum_mu_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Text exposition format 0.0.4: each family once, HELP and TYPE first.
class Exposition {
 public:
  // Writes the family's HELP and TYPE lines (type: counter, gauge, histogram).
  void Family(const std::string& name, const std::string& help, const std::string& type);
  void Sample(const std::string& name, const Labels& labels, double value);
  // Family + one sample.
  void Counter(const std::string& name, const std::string& help, double value);
  void Gauge(const std::string& name, const std::string& help, double value);
  // Family + its _bucket (cumulative, le="+Inf" last), _sum and _count.
  void WriteHistogram(const std::string& name, const std::string& help, const Histogram::Snapshot& h);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// A number as the format writes it (+Inf, -Inf, NaN, integers without a point).
std::string FormatMetricValue(double value);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackAddress(const std::string& address);

// More families for the scrape (each writes whole families).
using MetricsSource = std::function<void(Exposition* out)>;

// Rights requests (docs/rights.md) at each scrape: the open and paused ones
// read from their streams a page at a time (O(open), never every request ever
// made), fulfilled and refused counted by the `rights_requests` projection,
// which the store must be opened with (readmodels::MakeProjections; without
// it hearth_rights_metrics_up is 0): hearth_rights_requests{state}, and
// for the requests not closed, hearth_rights_request_days_to_due (histogram)
// and hearth_rights_request_min_days_to_due (gauge; absent when none is
// open). `today` gives the date due dates are counted from (empty: today in
// the UK). REQUIRES: store, codec and calendar outlive the source.
MetricsSource RightsMetrics(Store* store, const domain::Codec* codec,
                            const domain::Calendar* calendar,
                            std::function<domain::Date()> today = nullptr);

// The plain-HTTP listener: GET /metrics answers `render()` as
// "text/plain; version=0.0.4"; anything else is 404 (405 for another
// method). One thread; one request per connection.
class MetricsListener {
 public:
  // IOError when it cannot bind; InvalidArgument for a malformed address.
  static Result<std::unique_ptr<MetricsListener>> Start(const std::string& address, uint16_t port,
                                                        std::function<std::string()> render);
  virtual ~MetricsListener() = default;
  virtual uint16_t port() const = 0;
  // Idempotent; the destructor calls it.
  virtual void Stop() = 0;

 protected:
  MetricsListener() = default;
};

}  // namespace hearth::server
