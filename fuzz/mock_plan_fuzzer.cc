// Fuzz target: mock-sd's annotation parser (src/sidecars/mock/mock_plan.h) and the
// timeline it drives. The pod JSON comes from the cluster, so its annotations are
// untrusted input.
//
// Properties: no crash; for an accepted plan, the statuses and log lines at a few
// moments (before start, mid-run, long after) can be computed without failing, and the
// number of log lines never decreases as time goes on.
#include <boost/json.hpp>
#include <chrono>

#include "api/types.h"
#include "fuzz/fuzz_check.h"
#include "sidecars/mock/mock_plan.h"
#include "sidecars/mock/mock_timeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pod = il::api::ParseJson(il::fuzz::AsText(data, size));
  if (!pod.ok()) return 0;
  auto plan = il::mock::ParseMockPlan(*pod);
  if (!plan.ok()) return 0;
  using namespace std::chrono;
  const il::mock::TimePoint created(hours(24 * 365 * 50));
  const seconds moments[] = {seconds(0), seconds(1), seconds(30), hours(24 * 200)};
  for (const auto* list : {&plan->init_containers, &plan->containers}) {
    for (const auto& c : *list) {
      size_t previous_lines = 0;
      for (auto dt : moments) {
        (void)il::mock::PhaseAt(*plan, c, created, created + dt);
        (void)il::mock::ContainerStatusAt(*plan, c, created, created + dt);
        size_t n = il::mock::LogLinesAt(c, created, created + dt).size();
        FUZZ_CHECK(n >= previous_lines);
        previous_lines = n;
      }
    }
  }
  return 0;
}
