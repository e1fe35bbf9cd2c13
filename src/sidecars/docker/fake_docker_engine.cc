#include "sidecars/docker/fake_docker_engine.h"

#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <thread>

namespace il::docker {
namespace json = boost::json;

namespace {
// When every container exits: 2024-05-01T10:00:01Z (inspect's FinishedAt), in Unix nanoseconds.
constexpr int64_t kFinishedNanos = 1714557601000000000;
}  // namespace

FakeDockerEngine::FakeDockerEngine() {
  images_ = {"interlink/docker-sd-pause:1"};
  char tmpl[] = "/tmp/il-fake-dockerd.XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  http::ServerOptions o;
  o.listen = url();
  o.worker_threads = 4;
  server_ = std::make_unique<http::HttpServer>(o);
  server_->HandlePrefix(
      "/", [this](const http::Request& r, http::ResponseWriter& w) { Serve(r, w); },
      http::RouteOptions{.stream = true});
  if (!server_->Start().ok()) std::abort();  // a broken test environment
}

FakeDockerEngine::~FakeDockerEngine() {
  server_->Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void FakeDockerEngine::Record(std::vector<std::string> argv) {
  std::lock_guard l(mu_);
  calls_.push_back(std::move(argv));
}

void FakeDockerEngine::SetDown(bool down) {
  std::lock_guard l(mu_);
  down_ = down;
}
void FakeDockerEngine::AddImage(const std::string& image) {
  std::lock_guard l(mu_);
  images_.insert(image);
}
void FakeDockerEngine::Exit(const std::string& name, int code) {
  std::lock_guard l(mu_);
  Container& c = containers_.at(name);
  c.status = "exited";
  c.exit_code = code;
  PushEventLocked("die", name, c, {{"exitCode", std::to_string(code)}}, kFinishedNanos);
}
void FakeDockerEngine::Oom(const std::string& name, int64_t after_exit_ms) {
  std::lock_guard l(mu_);
  PushEventLocked("oom", name, containers_.at(name), {},
                  kFinishedNanos + after_exit_ms * int64_t{1000000});
}
void FakeDockerEngine::PushEventLocked(const std::string& action, const std::string& name,
                                       const Container& c, json::object attrs, int64_t nanos) {
  attrs["name"] = name;
  for (const auto& [k, v] : c.labels) attrs[k] = v;
  events_.push_back(
      json::serialize(json::object{{"Type", "container"},
                                   {"Action", action},
                                   {"status", action},
                                   {"id", c.id},
                                   {"Actor", {{"ID", c.id}, {"Attributes", std::move(attrs)}}},
                                   {"time", nanos / 1000000000},
                                   {"timeNano", nanos}}));
}
void FakeDockerEngine::Remove(const std::string& name) {
  std::lock_guard l(mu_);
  containers_.erase(name);
}
void FakeDockerEngine::AddForeign(const std::string& name,
                                  std::map<std::string, std::string> labels) {
  std::lock_guard l(mu_);
  containers_[name] = Container{
      "f" + std::to_string(next_id_++), "running", "img", "no", "", 0, 1, std::move(labels)};
}
void FakeDockerEngine::SetExecResponder(
    std::function<ExecResult(const std::vector<std::string>& argv)> f) {
  std::lock_guard l(mu_);
  exec_responder_ = std::move(f);
}

json::value FakeDockerEngine::create_body(const std::string& name) const {
  std::lock_guard l(mu_);
  auto it = bodies_.find(name);
  return it == bodies_.end() ? json::value() : it->second;
}
std::map<std::string, FakeDockerEngine::Container> FakeDockerEngine::containers() const {
  std::lock_guard l(mu_);
  return containers_;
}
std::vector<std::string> FakeDockerEngine::verbs() const {
  std::lock_guard l(mu_);
  std::vector<std::string> v;
  for (const auto& c : calls_) v.push_back(c.size() > 1 ? c[1] : "");
  return v;
}
std::vector<std::vector<std::string>> FakeDockerEngine::calls_with(const std::string& verb) const {
  std::lock_guard l(mu_);
  std::vector<std::vector<std::string>> out;
  for (const auto& c : calls_) {
    if (c.size() > 1 && c[1] == verb) out.push_back(c);
  }
  return out;
}

void FakeDockerEngine::StartLocked(Container& c) {
  ++c.starts;
  if (c.image.rfind("exit", 0) == 0) {
    c.status = "exited";
    c.exit_code = std::stoi(c.image.substr(4));
  } else {
    c.status = "running";
  }
}

json::object FakeDockerEngine::InspectJson(const std::string& name, const Container& c) const {
  bool started = c.status != "created";
  return json::object{
      {"Id", c.id},
      {"Name", "/" + name},
      {"Image", "sha256:" + c.image},
      {"State",
       {{"Status", c.status},
        {"ExitCode", c.exit_code},
        {"OOMKilled", false},
        {"Error", c.error},
        {"StartedAt", started ? "2024-05-01T10:00:" + std::string(c.starts < 10 ? "0" : "") +
                                    std::to_string(c.starts % 60) + "Z"
                              : "0001-01-01T00:00:00Z"},
        {"FinishedAt", c.status == "exited" ? "2024-05-01T10:00:01Z" : "0001-01-01T00:00:00Z"}}},
      {"RestartCount", 0},
      {"Config", {{"Tty", false}}},
      {"HostConfig", {{"RestartPolicy", {{"Name", c.restart}}}}}};
}

void FakeDockerEngine::AfterNextInspectOf(const std::string& name, std::function<void()> hook) {
  std::lock_guard l(mu_);
  hook_name_ = name;
  after_inspect_ = std::move(hook);
}

void FakeDockerEngine::Serve(const http::Request& r, http::ResponseWriter& w) {
  std::string path = r.path;
  if (path.rfind("/v1.", 0) == 0) path = path.substr(path.find('/', 1));
  if (path == "/events") {
    {
      std::lock_guard l(mu_);
      if (down_) return w.Reply(503, R"({"message":"Cannot connect to the Docker daemon"})");
    }
    size_t sent;
    {
      std::lock_guard l(mu_);
      calls_.push_back({"docker", "events"});
      sent = events_.size();
    }
    // Events after the stream began; open until the client goes away.
    w.BeginStream(200, "application/json");
    while (!w.ClientGone()) {
      std::vector<std::string> due;
      {
        std::lock_guard l(mu_);
        due.assign(events_.begin() + static_cast<std::ptrdiff_t>(sent), events_.end());
        sent = events_.size();
      }
      for (const auto& e : due) {
        if (!w.Write(e + "\n")) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return;
  }
  if (r.method == "POST" && path.rfind("/exec/", 0) == 0 && path.size() > 12 &&
      path.compare(path.size() - 6, 6, "/start") == 0) {
    std::string id = path.substr(6, path.size() - 12);
    std::vector<std::string> argv;
    std::function<ExecResult(const std::vector<std::string>&)> responder;
    {
      std::lock_guard l(mu_);
      auto it = execs_.find(id);
      if (it == execs_.end()) return w.Reply(404, R"({"message":"No such exec instance"})");
      argv = it->second;
      responder = exec_responder_;
    }
    ExecResult res = responder ? responder(argv) : ExecResult{};
    auto s = w.Upgrade(101);
    if (!s) return;
    std::string frames;
    for (auto [stream, data] : {std::pair<int, const std::string*>{1, &res.out}, {2, &res.err}}) {
      if (data->empty()) continue;
      std::string h(8, '\0');
      h[0] = static_cast<char>(stream);
      auto n = static_cast<uint32_t>(data->size());
      for (int i = 0; i < 4; ++i) h[4 + i] = static_cast<char>(n >> (24 - 8 * i));
      frames += h + *data;
    }
    {
      std::lock_guard l(mu_);
      exec_exit_[id] = res.exit_code;
    }
    s->Write(frames);
    s->Close();
    return;
  }
  const bool slow = r.method == "POST" && slow_ms_ > 0 &&
                    (path == "/containers/create" ||
                     (path.rfind("/containers/", 0) == 0 && path.ends_with("/start")));
  if (slow) {
    int now = ++in_flight_;
    int most = most_in_flight_.load();
    while (now > most && !most_in_flight_.compare_exchange_weak(most, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms_.load()));
  }
  std::function<void()> hook;
  http::Response res;
  {
    std::lock_guard l(mu_);
    if (slow) --in_flight_;
    res = ServeLocked(r, path);
    if (r.method == "GET" && !hook_name_.empty() && path == "/containers/" + hook_name_ + "/json") {
      hook.swap(after_inspect_);
      hook_name_.clear();
    }
  }
  if (hook) hook();
  w.Reply(res.status, res.body, res.headers.Get("content-type"));
}

namespace {

http::Response Reply(int status, std::string body = "", std::string type = "application/json") {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.Set("content-type", std::move(type));
  return r;
}

http::Response Error(int status, const std::string& message) {
  return Reply(status, json::serialize(json::object{{"message", message}}));
}

std::string Frame(int stream, std::string_view payload) {
  std::string h(8, '\0');
  h[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) h[4 + i] = static_cast<char>(n >> (24 - 8 * i));
  return h + std::string(payload);
}

std::string Query(const http::Request& r, const std::string& key) {
  auto it = r.query.find(key);
  return it == r.query.end() ? "" : it->second;
}

}  // namespace

http::Response FakeDockerEngine::ServeLocked(const http::Request& r, const std::string& path) {
  if (path == "/version") return Reply(200, R"({"Version":"20.10.24","ApiVersion":"1.41"})");
  if (down_) {
    return Error(503,
                 "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is "
                 "the docker daemon running?");
  }
  if (path == "/info") {
    calls_.push_back({"docker", "info"});
    return Reply(200, R"({"NCPU":4,"MemTotal":8589934592,"ServerVersion":"20.10"})");
  }
  if (path == "/containers/json") {
    std::vector<std::string> argv{"docker", "ps", "--all"};
    std::vector<std::pair<std::string, std::string>> filters;
    if (auto f = json::parse(Query(r, "filters").empty() ? "{}" : Query(r, "filters"));
        f.is_object() && f.as_object().contains("label")) {
      for (const auto& l : f.at("label").as_array()) {
        std::string v(l.as_string());
        argv.push_back("--filter=label=" + v);
        filters.emplace_back(v.substr(0, v.find('=')), v.substr(v.find('=') + 1));
      }
    }
    calls_.push_back(argv);
    json::array out;
    for (const auto& [name, c] : containers_) {
      bool match = true;
      for (const auto& [k, v] : filters) {
        auto it = c.labels.find(k);
        match = match && it != c.labels.end() && it->second == v;
      }
      if (!match) continue;
      json::object labels;
      for (const auto& [k, v] : c.labels) labels[k] = v;
      out.push_back(json::object{{"Id", c.id},
                                 {"Names", json::array{json::string("/" + name)}},
                                 {"State", c.status},
                                 {"Labels", std::move(labels)}});
    }
    return Reply(200, json::serialize(out));
  }
  if (path.rfind("/images/", 0) == 0 && r.method == "GET") {
    std::string name = path.substr(8, path.size() - 8 - 5);  // /images/<n>/json
    calls_.push_back({"docker", "image", "inspect", name});
    if (!images_.count(name)) return Error(404, "no such image: " + name);
    return Reply(200, R"({"Id":"sha256:x"})");
  }
  if (path == "/images/create" && r.method == "POST" && !Query(r, "fromImage").empty()) {
    std::string image = Query(r, "fromImage") + ":" + Query(r, "tag");
    calls_.push_back({"docker", "pull", image});
    // The registry has what the engine already had (a re-pull), and "pullable*" images.
    if (image.rfind("pullable", 0) != 0 && image.rfind("exit", 0) != 0 && !images_.count(image) &&
        !images_.count(Query(r, "fromImage"))) {
      return Error(404, "pull access denied for " + Query(r, "fromImage") +
                            ", repository does not exist or may require 'docker login'");
    }
    images_.insert(image);
    return Reply(200, R"({"status":"Pulling from library/x","id":"latest"})"
                      "\n"
                      R"({"status":"Status: Downloaded newer image for )" +
                          image + "\"}\n");
  }
  if (path == "/containers/create" && r.method == "POST") {
    std::string name = Query(r, "name");
    auto body = json::parse(r.body.empty() ? "{}" : r.body);
    Container c;
    c.image = std::string(body.at("Image").as_string());
    calls_.push_back({"docker", "create", name, c.image});
    bodies_[name] = body;
    if (containers_.count(name)) {
      return Error(409, "Conflict. The container name \"/" + name +
                            "\" is already in use by container \"x\"");
    }
    bool known = images_.count(c.image) || images_.count(c.image + ":latest") ||
                 c.image.rfind("exit", 0) == 0;
    if (!known) return Error(404, "No such image: " + c.image);
    if (const auto* rp = body.as_object().if_contains("HostConfig")) {
      if (const auto* n = rp->as_object().if_contains("RestartPolicy")) {
        c.restart = std::string(n->at("Name").as_string());
      }
    }
    if (const auto* labels = body.as_object().if_contains("Labels")) {
      for (const auto& [k, v] : labels->as_object()) c.labels[k] = std::string(v.as_string());
    }
    c.id = "id" + std::to_string(next_id_++);
    c.status = "created";
    containers_[name] = c;
    return Reply(201, json::serialize(json::object{{"Id", c.id}, {"Warnings", json::array{}}}));
  }
  if (path == "/images/create" && r.method == "POST") {
    std::string image = Query(r, "repo") + ":" + Query(r, "tag");
    calls_.push_back({"docker", "import", image});
    images_.insert(image);
    return Reply(200, R"({"status":"sha256:new"})"
                      "\n");
  }
  if (path.rfind("/exec/", 0) == 0 && r.method == "GET") {  // /exec/{id}/json
    std::string id = path.substr(6, path.find('/', 6) - 6);
    auto it = exec_exit_.find(id);
    if (it == exec_exit_.end()) return Reply(200, R"({"Running":true,"ExitCode":null,"Pid":1})");
    return Reply(200, json::serialize(
                          json::object{{"Running", false}, {"ExitCode", it->second}, {"Pid", 1}}));
  }
  const std::string prefix = "/containers/";
  if (path.rfind(prefix, 0) != 0) return Error(404, "page not found");
  std::string rest = path.substr(prefix.size());
  std::string name = rest.substr(0, rest.find('/'));
  std::string op = rest.size() > name.size() ? rest.substr(name.size() + 1) : "";
  auto it = containers_.find(name);
  if (it == containers_.end()) {
    for (auto i = containers_.begin(); i != containers_.end(); ++i) {
      if (i->second.id == name) it = i;
    }
  }
  std::vector<std::string> argv{"docker"};
  if (op == "json") {
    argv.insert(argv.end(), {"inspect", "--type=container"});
  } else if (op == "start") {
    argv.push_back("start");
  } else if (op == "stop") {
    argv.insert(argv.end(), {"stop", "--time=" + Query(r, "t")});
  } else if (op.empty() && r.method == "DELETE") {
    argv.insert(argv.end(), {"rm", "--force", "--volumes"});
  } else if (op == "exec" && r.method == "POST") {
    argv.push_back("exec");
  } else if (op == "logs") {
    argv.push_back("logs");
    if (Query(r, "follow") == "1") argv.push_back("--follow");
    if (Query(r, "timestamps") == "1") argv.push_back("--timestamps");
    if (Query(r, "tail") != "all") argv.push_back("--tail=" + Query(r, "tail"));
    if (!Query(r, "since").empty()) argv.push_back("--since=" + Query(r, "since"));
  } else {
    return Error(404, "page not found");
  }
  argv.push_back(name);
  json::value exec_body;
  if (op == "exec") {
    exec_body = json::parse(r.body.empty() ? "{}" : r.body);
    if (const auto* cmd = exec_body.as_object().if_contains("Cmd"); cmd && cmd->is_array()) {
      for (const auto& a : cmd->as_array()) argv.emplace_back(a.as_string());
    }
  }
  calls_.push_back(argv);
  if (it == containers_.end()) return Error(404, "No such container: " + name);
  Container& c = it->second;
  if (op == "exec") {
    if (c.status != "running") {
      return Error(409, "Container " + c.id + " is not running");
    }
    std::string id = "exec" + std::to_string(next_id_++);
    execs_[id] = argv;
    return Reply(201, json::serialize(json::object{{"Id", id}}));
  }
  if (op == "json") return Reply(200, json::serialize(InspectJson(it->first, c)));
  if (op == "start") {
    if (c.status == "running") return Reply(304);
    StartLocked(c);
    return Reply(204);
  }
  if (op == "stop") {
    if (c.status != "running") return Reply(304);
    c.status = "exited";
    c.exit_code = 143;
    return Reply(204);
  }
  if (op == "logs") {
    if (Query(r, "timestamps") == "1") {
      return Reply(200,
                   Frame(1, "2024-05-01T10:00:00.1Z hello\n2024-05-01T10:00:00.3Z world\n") +
                       Frame(2, "2024-05-01T10:00:00.2Z oops\n"),
                   "");
    }
    return Reply(200, Frame(1, "hello\nworld\n") + Frame(2, "oops\n"), "");
  }
  containers_.erase(it);
  return Reply(204);
}

}  // namespace il::docker
