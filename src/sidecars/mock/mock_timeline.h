// The simulated timeline: given a container's plan (mock_plan.h), the moment its pod was
// created and "now", what the container looks like (a V1ContainerStatus) and which log
// lines it has written so far. Pure functions: the same inputs give the same answer, so
// statuses and logs agree with each other and survive a restart of the mock.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <vector>

#include "api/log_filter.h"
#include "sidecars/mock/mock_plan.h"

namespace il::mock {

using TimePoint = std::chrono::system_clock::time_point;

// Most "tick N" lines one container produces; later ticks are not written.
inline constexpr int64_t kMaxTicks = 100'000;

enum class Phase { kCreating, kWaiting, kRunning, kTerminated, kNever };

// Where the container is at `now`: kCreating while the pod is pending, kWaiting while
// earlier (init) containers run, kNever when an init container before it failed.
Phase PhaseAt(const MockPlan& plan, const ContainerPlan& c, TimePoint created, TimePoint now);

// The container's V1ContainerStatus at `now` (built with api/pod.h).
boost::json::object ContainerStatusAt(const MockPlan& plan, const ContainerPlan& c,
                                      TimePoint created, TimePoint now);

// The lines the container has written by `now`, oldest first, each with its time.
std::vector<api::LogLine> LogLinesAt(const ContainerPlan& c, TimePoint created, TimePoint now);

}  // namespace il::mock
