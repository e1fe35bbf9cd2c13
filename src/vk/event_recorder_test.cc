#include "vk/event_recorder.h"

#include <gtest/gtest.h>

#include "api/k8s_validation.h"
#include "api/pod.h"

namespace il::vk {
namespace {

std::string EventNameFor(const std::string& pod, std::chrono::system_clock::time_point t) {
  auto ev = EventObject({"default", pod, "u1", ""}, "Normal", "Started", "m", "node", t);
  return api::GetString(boost::json::value(ev), {"metadata", "name"});
}

TEST(EventObject, NameIsPodDotHexTimeAndAValidSubdomainForEveryPodName) {
  auto t = std::chrono::system_clock::time_point(std::chrono::nanoseconds(0x1234));
  EXPECT_EQ(EventNameFor("p", t), "p.1234");
  auto now = std::chrono::system_clock::now();
  for (size_t n : {63, 64, 200, 236, 237, 253}) {
    std::string pod(n, 'p');
    std::string name = EventNameFor(pod, now);
    EXPECT_TRUE(api::IsDnsSubdomain(name)) << n << " " << name;
    std::string other = pod;
    other.back() = 'q';
    EXPECT_NE(EventNameFor(other, now), name) << n;
  }
  auto ev = EventObject({"default", std::string(253, 'p'), "u1", ""}, "Normal", "Started", "m",
                        "node", now);
  EXPECT_EQ(api::GetString(boost::json::value(ev), {"involvedObject", "name"}),
            std::string(253, 'p'));
}

TEST(EventObject, ContainerEventsNameTheirFieldPath) {
  auto now = std::chrono::system_clock::now();
  boost::json::value pod_ev =
      EventObject({"ns", "p", "u1", ""}, "Normal", "Killing", "m", "n", now);
  EXPECT_EQ(api::Find(pod_ev, {"involvedObject", "fieldPath"}), nullptr);
  boost::json::value c_ev = EventObject({"ns", "p", "u1", "spec.containers{web}"}, "Warning",
                                        "Unhealthy", "Liveness probe failed: x", "n", now);
  EXPECT_EQ(api::GetString(c_ev, {"involvedObject", "fieldPath"}), "spec.containers{web}");
}

}  // namespace
}  // namespace il::vk
