// kube_client_itest: exercises KubeClient against a live API server.
//
// Runs when $KUBECONFIG names a kubeconfig (or the local control plane of scripts/k8s/up
// left /tmp/interlink-k8s/env) and the server answers; otherwise exits 77 (skipped).
// Creates, reads, patches, lists, watches and deletes a ConfigMap and a Lease in namespace
// "default", with names unique to this run, and removes them whatever happens.
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "kube/api_error.h"
#include "kube/kube_client.h"
#include "kube/paths.h"
#include "kube/watch_loop.h"

namespace json = boost::json;
using namespace il::kube;  // NOLINT: a test program

namespace {

constexpr int kSkip = 77;

#define CHECK(cond, what)                                       \
  do {                                                          \
    if (!(cond)) {                                              \
      std::cerr << "FAIL " << __LINE__ << ": " << what << "\n"; \
      return false;                                             \
    }                                                           \
    std::cerr << "ok   " << what << "\n";                       \
  } while (0)

std::string KubeconfigPath() {
  if (const char* k = getenv("KUBECONFIG"); k && *k) return k;
  std::ifstream env("/tmp/interlink-k8s/env");
  std::string line;
  const std::string key = "export KUBECONFIG=";
  while (std::getline(env, line)) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

std::string Str(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* cur = &v;
  for (const char* k : path) {
    const auto* o = cur->if_object();
    cur = o ? o->if_contains(k) : nullptr;
    if (!cur) return "";
  }
  return cur->is_string() ? std::string(cur->as_string()) : "";
}

// Collects watch events on another thread for the test to wait on.
class EventLog {
 public:
  void Add(const std::string& s) {
    std::lock_guard lock(mu_);
    events_.push_back(s);
    cv_.notify_all();
  }
  bool WaitFor(const std::string& s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] {
      return std::find(events_.begin(), events_.end(), s) != events_.end();
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

bool ConfigMapLifecycle(KubeClient& c, const std::string& name) {
  const std::string label = "kube-itest=" + name;
  json::value cm = {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", {{"name", name}, {"labels", {{"kube-itest", name}}}}},
                    {"data", {{"a", "1"}}}};
  EventLog log;
  std::stop_source stop;
  WatchLoopOptions wo;
  wo.label_selector = label;
  WatchHandlers h;
  h.on_sync = [&](const std::vector<json::value>& items, const std::string&) {
    log.Add("sync " + std::to_string(items.size()));
  };
  h.on_event = [&](WatchEventType t, const json::value& o) {
    log.Add(std::string(WatchEventTypeName(t)) + " " + Str(o, {"data", "a"}));
  };
  std::jthread watcher(
      [&] { (void)WatchLoop(c, ConfigMapsPath("default"), wo, h, stop.get_token()); });
  CHECK(log.WaitFor("sync 0"), "watch loop synced an empty list");

  auto created = c.Create(ConfigMapsPath("default"), cm);
  CHECK(created.ok(), "create configmap: " << created.status().ToString());
  std::string uid = Str(*created, {"metadata", "uid"});
  CHECK(IsAlreadyExists(c.Create(ConfigMapsPath("default"), cm).status()),
        "second create is AlreadyExists");
  CHECK(log.WaitFor("ADDED 1"), "watch saw ADDED");

  auto got = c.Get(ConfigMapPath("default", name));
  CHECK(got.ok() && Str(*got, {"data", "a"}) == "1", "get configmap");
  auto merged = c.Patch(ConfigMapPath("default", name), PatchType::kMerge,
                        json::parse(R"({"data":{"a":"2","b":"x"}})"));
  CHECK(merged.ok() && Str(*merged, {"data", "b"}) == "x", "merge patch");
  auto strategic = c.Patch(ConfigMapPath("default", name), PatchType::kStrategicMerge,
                           json::parse(R"({"metadata":{"annotations":{"k":"v"}}})"));
  CHECK(strategic.ok(), "strategic merge patch: " << strategic.status().ToString());
  auto jp = c.Patch(ConfigMapPath("default", name), PatchType::kJsonPatch,
                    json::parse(R"([{"op":"replace","path":"/data/a","value":"3"}])"));
  CHECK(jp.ok() && Str(*jp, {"data", "a"}) == "3", "json patch");
  CHECK(log.WaitFor("MODIFIED 3"), "watch saw MODIFIED");

  json::value stale = *got;  // resourceVersion from before the patches
  stale.as_object()["data"].as_object()["a"] = "stale";
  CHECK(IsConflict(c.Update(ConfigMapPath("default", name), stale).status()),
        "update with stale resourceVersion is Conflict");

  ListOptions lo;
  lo.label_selector = label;
  auto list = c.List(ConfigMapsPath("default"), lo);
  CHECK(list.ok() && list->at("items").as_array().size() == 1, "list by label");

  DeleteOptions wrong;
  wrong.precondition_uid = "00000000-0000-0000-0000-000000000000";
  CHECK(IsConflict(c.Delete(ConfigMapPath("default", name), wrong).status()),
        "delete with wrong UID precondition is Conflict");
  DeleteOptions right;
  right.precondition_uid = uid;
  right.grace_period_seconds = 0;
  auto del = c.Delete(ConfigMapPath("default", name), right);
  CHECK(del.ok(), "delete with UID precondition: " << del.status().ToString());
  CHECK(log.WaitFor("DELETED 3"), "watch saw DELETED");
  CHECK(IsNotFound(c.Get(ConfigMapPath("default", name)).status()), "get after delete is NotFound");
  stop.request_stop();
  return true;
}

bool LeaseLifecycle(KubeClient& c, const std::string& name) {
  json::value lease = {{"apiVersion", "coordination.k8s.io/v1"},
                       {"kind", "Lease"},
                       {"metadata", {{"name", name}}},
                       {"spec", {{"holderIdentity", name}, {"leaseDurationSeconds", 40}}}};
  auto created = c.Create(LeasesPath("default"), lease);
  CHECK(created.ok(), "create lease: " << created.status().ToString());
  auto renewed = c.Patch(LeasePath("default", name), PatchType::kMerge,
                         json::parse(R"({"spec":{"renewTime":"2024-01-01T00:00:00.000000Z"}})"));
  CHECK(renewed.ok() && Str(*renewed, {"spec", "renewTime"}).rfind("2024-01-01", 0) == 0,
        "renew lease: " << renewed.status().ToString());
  json::value upd = *renewed;
  upd.as_object()["spec"].as_object()["leaseDurationSeconds"] = 60;
  auto updated = c.Update(LeasePath("default", name), upd);
  CHECK(updated.ok(), "update lease with its resourceVersion");
  CHECK(c.Delete(LeasePath("default", name)).ok(), "delete lease");
  return true;
}

bool Paging(KubeClient& c) {
  auto all = c.List("/api/v1/namespaces");
  CHECK(all.ok(), "list namespaces");
  ListOptions lo;
  lo.limit = 1;
  auto paged = ListAll(c, "/api/v1/namespaces", lo);
  CHECK(paged.ok() && paged->at("items").as_array().size() == all->at("items").as_array().size(),
        "ListAll with limit=1 pages through every namespace");
  return true;
}

}  // namespace

int main() {
  std::string path = KubeconfigPath();
  if (path.empty()) {
    std::cerr << "SKIP: KUBECONFIG unset and no /tmp/interlink-k8s/env (run scripts/k8s/up)\n";
    return kSkip;
  }
  auto cfg = LoadKubeconfig(path);
  if (!cfg.ok()) {
    std::cerr << (cfg.status().code() == il::StatusCode::kNotFound ? "SKIP: " : "FAIL: ")
              << cfg.status().ToString() << "\n";
    return cfg.status().code() == il::StatusCode::kNotFound ? kSkip : 1;
  }
  auto client = KubeClient::New(*cfg);
  if (!client.ok()) {
    std::cerr << "FAIL: " << client.status().ToString() << "\n";
    return 1;
  }
  KubeClient& c = **client;
  auto version = c.Request("GET", "/version");
  if (!version.ok() && (version.status().code() == il::StatusCode::kUnavailable ||
                        version.status().code() == il::StatusCode::kDeadlineExceeded)) {
    std::cerr << "SKIP: API server " << cfg->server
              << " unreachable: " << version.status().ToString() << "\n";
    return kSkip;
  }
  if (!version.ok()) {
    std::cerr << "FAIL: GET /version: " << version.status().ToString() << "\n";
    return 1;
  }
  std::cerr << "API server " << cfg->server << " version " << Str(*version, {"gitVersion"}) << "\n";
  std::string name =
      "kube-itest-" + std::to_string(getpid()) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000);
  bool ok = ConfigMapLifecycle(c, name) && LeaseLifecycle(c, name) && Paging(c);
  // Whatever failed, leave nothing behind.
  (void)c.Delete(ConfigMapPath("default", name));
  (void)c.Delete(LeasePath("default", name));
  auto s = c.stats();
  std::cerr << (ok ? "PASS" : "FAILED") << " (" << s.requests << " requests, " << s.retries
            << " retries, " << s.watch_events << " watch events)\n";
  return ok ? 0 : 1;
}
