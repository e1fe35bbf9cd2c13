// Fuzz target: il::api::ParseRfc3339 (src/api/pod.h), used on SinceTime in log requests
// and on times in backend output.
//
// Property: a time it accepts, formatted again with Rfc3339Nano, parses back to the same
// instant (for years 1970..2261: system_clock holds int64 nanoseconds up to 2262-04-11).
#include <chrono>
#include <string>

#include "api/pod.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = il::api::ParseRfc3339(il::fuzz::AsText(data, size));
  if (!t) return 0;
  using namespace std::chrono;
  const auto lo = system_clock::time_point();          // 1970-01-01
  const auto hi = sys_days(year(2262) / January / 1);  // exclusive
  if (*t < lo || *t >= time_point_cast<system_clock::duration>(hi)) return 0;
  std::string canonical = il::api::Rfc3339Nano(*t);
  auto again = il::api::ParseRfc3339(canonical);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *t);
  (void)il::api::Rfc3339(*t);
  return 0;
}
