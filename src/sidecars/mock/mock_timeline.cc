#include "sidecars/mock/mock_timeline.h"

#include <algorithm>

#include "api/pod.h"

namespace il::mock {

namespace {
using Clock = std::chrono::system_clock;

TimePoint At(TimePoint created, Offset o) {
  return created + std::chrono::duration_cast<Clock::duration>(o);
}
}  // namespace

Phase PhaseAt(const MockPlan& plan, const ContainerPlan& c, TimePoint created, TimePoint now) {
  if (!c.start) return Phase::kNever;
  if (now < At(created, plan.pending)) return Phase::kCreating;
  if (now < At(created, *c.start)) return Phase::kWaiting;
  if (!c.run || now < At(created, *c.start + *c.run)) return Phase::kRunning;
  return Phase::kTerminated;
}

boost::json::object ContainerStatusAt(const MockPlan& plan, const ContainerPlan& c,
                                      TimePoint created, TimePoint now) {
  switch (PhaseAt(plan, c, created, now)) {
    case Phase::kCreating:
      return api::WaitingStatus(c.name, c.image, "ContainerCreating", "");
    case Phase::kWaiting:
    case Phase::kNever:
      return api::WaitingStatus(c.name, c.image, "PodInitializing", "");
    case Phase::kRunning:
      return api::RunningStatus(c.name, c.image, At(created, *c.start));
    case Phase::kTerminated:
      break;
  }
  return api::TerminatedStatus(c.name, c.image, c.exit_code, "", "", At(created, *c.start),
                               At(created, *c.start + *c.run));
}

std::vector<api::LogLine> LogLinesAt(const ContainerPlan& c, TimePoint created, TimePoint now) {
  std::vector<api::LogLine> out;
  if (!c.start) return out;
  const TimePoint start = At(created, *c.start);
  if (now < start) return out;
  const bool ends = c.run.has_value();
  const TimePoint end = ends ? At(created, *c.start + *c.run) : TimePoint::max();
  if (c.lines) {
    // Spread evenly over the run: the first line at the start.
    const size_t n = c.lines->size();
    const auto span = std::chrono::duration_cast<Clock::duration>(c.log_span);
    for (size_t i = 0; i < n; ++i) {
      TimePoint t = start + span * static_cast<int64_t>(i) / static_cast<int64_t>(n);
      if (t <= now) out.push_back({t, (*c.lines)[i]});
    }
  } else {
    out.push_back({start, c.name + " started"});
    if (ends && end <= now) {
      out.push_back({end, c.name + " exited with code " + std::to_string(c.exit_code)});
    }
  }
  if (c.tick_interval.count() > 0) {
    const auto step = std::chrono::duration_cast<Clock::duration>(c.tick_interval);
    std::vector<api::LogLine> ticks;
    for (int64_t k = 1; k <= kMaxTicks; ++k) {
      TimePoint t = start + step * k;
      if (t > now || t >= end) break;
      ticks.push_back({t, "tick " + std::to_string(k)});
    }
    std::vector<api::LogLine> merged;
    merged.reserve(out.size() + ticks.size());
    std::merge(out.begin(), out.end(), ticks.begin(), ticks.end(), std::back_inserter(merged),
               [](const api::LogLine& a, const api::LogLine& b) { return a.time < b.time; });
    out = std::move(merged);
  }
  return out;
}

}  // namespace il::mock
