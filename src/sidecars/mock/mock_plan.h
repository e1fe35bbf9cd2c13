// MockPlan: what the mock sidecar will pretend to do with a pod, read once from the
// pod's annotations (prefix "mock.interlink.io/", see docs/mock-sidecar.md) when it is
// created. Times are offsets from the moment the pod was created in the mock, so a plan
// plus that moment gives the whole timeline (mock_timeline.h), also after a restart.
//
// Thread-safety: plain values.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace il::mock {

inline constexpr std::string_view kAnnotationPrefix = "mock.interlink.io/";

using Offset = std::chrono::nanoseconds;

struct ContainerPlan {
  std::string name;
  std::string image;
  bool init = false;
  // When it starts, relative to creation; nullopt: never (an earlier init container failed).
  std::optional<Offset> start;
  // How long it runs; nullopt: until the pod is deleted (run-forever).
  std::optional<Offset> run;
  // Span over which explicit log lines are spread (= run, or run-seconds when forever).
  Offset log_span{};
  int exit_code = 0;
  // Explicit lines (logs.<name>), or the echo output; else the default started/exited lines.
  std::optional<std::vector<std::string>> lines;
  Offset tick_interval{};  // 0: no "tick N" lines
};

struct MockPlan {
  Offset pending{};
  std::vector<ContainerPlan> init_containers;  // in order
  std::vector<ContainerPlan> containers;
  std::string pod_ip;        // empty: none reported
  std::string create_error;  // non-empty: Create must fail with this message
};

// Reads the annotations of `pod`. A value that does not parse, an unknown annotation
// under the prefix, or a per-container key naming no container -> kInvalidArgument
// naming the annotation.
Result<MockPlan> ParseMockPlan(const boost::json::value& pod);

// Parses "1.5" as seconds into an Offset; nullopt when not a finite number in [0, 1e7].
std::optional<Offset> ParseSeconds(std::string_view s);

}  // namespace il::mock
