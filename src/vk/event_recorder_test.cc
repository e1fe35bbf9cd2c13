#include "vk/event_recorder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "api/k8s_validation.h"
#include "api/pod.h"
#include "kube/paths.h"
#include "testing/fake_kube_api.h"

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

// Under overload the queue drops events, counts them and says so in the log, while every
// queued event is still posted.
TEST(EventRecorder, DropsWhatDoesNotFitCountsItAndWarns) {
  kube::FakeKubeApi api;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> posted{0};
  api.ReactToCreate(kube::EventsPath("ns"), [&](const boost::json::value& body) {
    released.wait();  // the API server is stuck until the test lets it go
    ++posted;
    return Result<boost::json::value>(body);
  });
  EventRecorder rec(api, "node", /*max_queue=*/2);
  rec.Start();
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 6; ++i)
    rec.Record({"ns", "p" + std::to_string(i), "u" + std::to_string(i), ""}, "Normal", "Started",
               "Started container main");
  // One event is in flight (blocked), two wait in the queue; the rest do not fit. The
  // first may still be in the queue when the later ones arrive, so 3 or 4 are dropped.
  for (int i = 0; i < 100 && rec.dropped() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  uint64_t dropped = rec.dropped();
  EXPECT_GE(dropped, 3u);
  EXPECT_LE(dropped, 4u);
  release.set_value();
  for (int i = 0; i < 200 && posted + static_cast<int>(dropped) < 6; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  rec.Stop();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(posted + static_cast<int>(dropped), 6);
  EXPECT_NE(err.find("dropped " + std::to_string(dropped) + " events"), std::string::npos) << err;
}

}  // namespace
}  // namespace il::vk
