#include "core/metrics.h"

#include <prometheus/text_serializer.h>

namespace il {

Metrics::Metrics(std::string component)
    : registry_(std::make_shared<prometheus::Registry>()), component_(std::move(component)) {
  requests_ = &prometheus::BuildCounter()
                   .Name("interlink_http_requests_total")
                   .Help("HTTP requests served, by path, method and status code")
                   .Register(*registry_);
  latency_ = &prometheus::BuildHistogram()
                  .Name("interlink_http_request_duration_seconds")
                  .Help("HTTP request latency, by path")
                  .Register(*registry_);
  upstream_errors_ = &prometheus::BuildCounter()
                          .Name("interlink_upstream_errors_total")
                          .Help("Failed calls to the next hop (sidecar or backend), by kind")
                          .Register(*registry_);
}

void Metrics::ObserveRequest(const std::string& path, const std::string& method, int status,
                             std::chrono::microseconds latency) {
  requests_
      ->Add({{"component", component_},
             {"path", path},
             {"method", method},
             {"code", std::to_string(status)}})
      .Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  latency_->Add({{"component", component_}, {"path", path}}, kBuckets)
      .Observe(static_cast<double>(latency.count()) / 1e6);
}

void Metrics::CountUpstreamError(const std::string& kind) {
  upstream_errors_->Add({{"component", component_}, {"kind", kind}}).Increment();
}

std::string Metrics::Render() const {
  prometheus::TextSerializer s;
  return s.Serialize(registry_->Collect());
}

}  // namespace il
