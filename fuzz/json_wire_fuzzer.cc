// Fuzz target: the JSON wire types every daemon reads from the network
// (src/api/types.h): ParseJson, then each Parse* function, ValidatePod, ParsePodList,
// ValidateLogRequest and the pod accessors of src/api/pod.h, on the same value.
//
// Properties beyond "no crash": whatever a Parse* accepts, its ToJson output parses
// again to the same JSON (so interlink can forward what it accepted), and the serialised
// text of an accepted value parses back.
#include <boost/json.hpp>
#include <chrono>

#include "api/log_filter.h"
#include "api/pod.h"
#include "api/types.h"
#include "fuzz/fuzz_check.h"

namespace {

namespace api = il::api;
namespace json = boost::json;

// ToJson(Parse(ToJson(x))) == ToJson(x): the wire form is a fixed point.
template <typename T, typename ParseFn>
void CheckRoundTrip(const T& parsed, ParseFn parse) {
  json::value once = api::ToJson(parsed);
  auto again = parse(once);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(api::ToJson(*again) == once);
  auto reparsed = api::ParseJson(json::serialize(once));
  FUZZ_CHECK(reparsed.ok());
}

void PodAccessors(const json::value& v) {
  (void)api::PodName(v);
  (void)api::PodNamespace(v);
  (void)api::PodUid(v);
  (void)api::Annotation(v, "slurm-job.knoc.io/flags");
  (void)api::Containers(v).size();
  (void)api::InitContainers(v).size();
  (void)api::GracePeriodSeconds(v);
  (void)api::GetInt(v, {"spec", "activeDeadlineSeconds"});
  (void)api::GetString(v, {"status", "podIP"});
}

void LogRequest(const json::value& v) {
  auto r = api::ParseLogRequest(v);
  if (!r.ok()) return;
  CheckRoundTrip(*r, [](const json::value& j) { return api::ParseLogRequest(j); });
  if (!api::ValidateLogRequest(*r).ok()) return;
  // A validated request must be safe to apply to stored lines.
  auto now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 50));
  std::vector<api::LogLine> lines = {{now - std::chrono::seconds(90), "first"},
                                     {now - std::chrono::seconds(30), "second"},
                                     {now, ""}};
  (void)api::RenderLogs(lines, r->opts, now);
  (void)api::SinceCutoff(r->opts, now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = api::ParseJson(il::fuzz::AsText(data, size));
  if (!parsed.ok()) return 0;
  const json::value& v = *parsed;

  if (auto r = api::ParsePodCreateRequests(v); r.ok()) {
    CheckRoundTrip(*r, [](const json::value& j) { return api::ParsePodCreateRequests(j); });
  }
  if (auto r = api::ParseRetrievedPodData(v); r.ok()) {
    CheckRoundTrip(*r, [](const json::value& j) { return api::ParseRetrievedPodData(j); });
  }
  if (auto r = api::ParseCreateResult(v); r.ok()) {
    CheckRoundTrip(*r, [](const json::value& j) { return api::ParseCreateResult(j); });
  }
  if (auto r = api::ParsePodStatusList(v); r.ok()) {
    CheckRoundTrip(*r, [](const json::value& j) { return api::ParsePodStatusList(j); });
  }
  if (auto r = api::ParsePingResponse(v); r.ok()) {
    CheckRoundTrip(*r, [](const json::value& j) { return api::ParsePingResponse(j); });
  }
  LogRequest(v);
  if (auto pods = api::ParsePodList(v); pods.ok()) {
    for (const auto& p : *pods) {
      FUZZ_CHECK(api::ValidatePod(p).ok());  // ParsePodList promises validated pods
      PodAccessors(p);
    }
  }
  (void)api::ValidatePod(v);
  PodAccessors(v);
  return 0;
}
