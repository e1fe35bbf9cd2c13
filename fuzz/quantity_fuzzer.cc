// Fuzz target: Kubernetes resource quantities (src/api/quantity.h), read from pod specs
// by every sidecar and the VK.
//
// Properties: accepted milli and whole values are never negative, and when both are
// accepted, rounding up to thousandths never exceeds rounding up to whole units.
#include "api/quantity.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s = il::fuzz::AsText(data, size);
  (void)il::api::ParseQuantity(s);
  auto milli = il::api::QuantityMilli(s);
  auto whole = il::api::QuantityWhole(s);
  if (milli.ok()) FUZZ_CHECK(*milli >= 0);
  if (whole.ok()) FUZZ_CHECK(*whole >= 0);
  if (milli.ok() && whole.ok() && *whole <= INT64_MAX / 1000) {
    FUZZ_CHECK(*milli <= *whole * 1000);
  }
  return 0;
}
