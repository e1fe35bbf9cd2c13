// FakeDockerEngine: a tiny in-memory imitation of dockerd for unit tests: the Engine API on a
// unix socket of its own (url(); served by il::http::HttpServer, so the real DockerApi client
// is exercised: version, info, containers/create, containers/{n}/json, start, stop, DELETE,
// containers/json, exec, events, images/{n}/json, images/create, logs).
// Calls are recorded as the CLI verb they stand for (GET .../json -> {"docker", "inspect",
// "--type=container", name}, DELETE -> {"docker", "rm", "--force", "--volumes", name}, ...)
// so tests read one call list. When down, the API answers 503 (kUnavailable, as a refused
// connection is).
// POST /containers/create (recorded as {"docker", "create", name, image}) knows images added
// with AddImage and "exit<N>"; /images/create?fromImage= (recorded as {"docker", "pull",
// image}) succeeds for images it has and "pullable*" ones, else answers 404 "pull access
// denied".
// /events streams the "die" events Exit() causes and the "oom" events of Oom() (filters are
// ignored). Every exit happens at 2024-05-01T10:00:01Z (FinishedAt, the die event's time).
// Images decide behaviour: "exit<N>" exits with N as soon as it starts, anything else runs.
//
// Thread-safety: the API may be called concurrently; the accessors are thread-safe.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/http_server.h"
#include "core/status.h"

namespace il::docker {

class FakeDockerEngine {
 public:
  struct Container {
    std::string id, status, image, restart, error;
    int exit_code = 0;
    int starts = 0;  // StartedAt is 10:00:<starts>: each start is a new instance
    std::map<std::string, std::string> labels;
  };

  FakeDockerEngine();
  ~FakeDockerEngine();
  // unix:///... of the Engine API (DockerSettings::docker_host).
  std::string url() const { return "unix://" + dir_ + "/docker.sock"; }

  void SetDown(bool down);
  void AddImage(const std::string& image);
  // A running container exits; a "die" event goes to the events streams open then.
  void Exit(const std::string& name, int code);
  // An "oom" event for `name`, `after_exit_ms` after its exit (dockerd may report the kernel's
  // OOM notice after the die event, and then inspect says OOMKilled=false).
  void Oom(const std::string& name, int64_t after_exit_ms);
  void Remove(const std::string& name);  // removed behind docker-sd's back
  void AddForeign(const std::string& name, std::map<std::string, std::string> labels);
  std::map<std::string, Container> containers() const;
  // argv[1] of every call, e.g. {"run", "inspect", ...}
  std::vector<std::string> verbs() const;
  std::vector<std::vector<std::string>> calls_with(const std::string& verb) const;
  // Exec (POST /containers/{n}/exec, /exec/{id}/start hijacked, /exec/{id}/json), recorded
  // as {"docker", "exec", name, cmd...}: `responder` decides the exit code and output of a
  // command (default: exit 0, no output). Running containers only (409 otherwise).
  struct ExecResult {
    int exit_code = 0;
    std::string out, err;
  };
  void SetExecResponder(std::function<ExecResult(const std::vector<std::string>& argv)> f);
  // The last POST /containers/create body for `name` (null when none).
  boost::json::value create_body(const std::string& name) const;
  // Runs once, after the next inspect of `name` has computed its answer and before it is sent,
  // outside the engine's lock: lets a test change the world between a caller's snapshot and
  // its use of it.
  void AfterNextInspectOf(const std::string& name, std::function<void()> hook);
  // Every POST /containers/create and /containers/{n}/start takes `d` longer, outside the
  // engine's lock; most_in_flight() is the most of them that were in progress at once.
  void SetSlowCreateAndStart(std::chrono::milliseconds d) { slow_ms_ = d.count(); }
  int most_in_flight() const { return most_in_flight_; }

 private:
  void StartLocked(Container& c);
  boost::json::object InspectJson(const std::string& name, const Container& c) const;
  void Serve(const http::Request& r, http::ResponseWriter& w);
  http::Response ServeLocked(const http::Request& r, const std::string& path);
  void Record(std::vector<std::string> argv);
  void PushEventLocked(const std::string& action, const std::string& name, const Container& c,
                       boost::json::object attrs, int64_t nanos);

  std::string dir_;
  std::unique_ptr<http::HttpServer> server_;
  mutable std::mutex mu_;
  std::vector<std::vector<std::string>> calls_;
  std::vector<std::string> events_;  // serialized, in order; streams send those after they began
  std::string hook_name_;
  bool down_ = false;
  int next_id_ = 1;
  std::set<std::string> images_;
  std::map<std::string, Container> containers_;
  std::map<std::string, boost::json::value> bodies_;
  std::function<ExecResult(const std::vector<std::string>&)> exec_responder_;
  std::map<std::string, std::vector<std::string>> execs_;  // id -> argv as recorded
  std::map<std::string, int> exec_exit_;                   // id -> exit code once done
  std::function<void()> after_inspect_;
  std::atomic<int64_t> slow_ms_{0};
  std::atomic<int> in_flight_{0}, most_in_flight_{0};
};

}  // namespace il::docker
