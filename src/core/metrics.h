// Prometheus metrics for every daemon: a process-wide registry, HTTP request counters
// and latency histograms, and the text exposition served on /metrics.
//
// Thread-safety: prometheus-cpp metrics are thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>

namespace il {

class Metrics {
 public:
  explicit Metrics(std::string component);
  prometheus::Registry& registry() { return *registry_; }
  // Records one served HTTP request.
  void ObserveRequest(const std::string& path, const std::string& method, int status,
                      std::chrono::microseconds latency);
  // Counts a failed call to the next hop (sidecar, backend CLI, ...).
  void CountUpstreamError(const std::string& kind);
  // Text exposition format 0.0.4.
  std::string Render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Family<prometheus::Counter>* upstream_errors_;
  std::string component_;
};

}  // namespace il
