#include "sidecars/docker/fake_docker_engine.h"

#include <boost/json.hpp>

namespace il::docker {
namespace json = boost::json;

namespace {

CommandResult Out(int code, std::string out, std::string err = "") {
  CommandResult r;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

std::string After(const std::string& arg, const std::string& prefix) {
  return arg.rfind(prefix, 0) == 0 ? arg.substr(prefix.size()) : "";
}

}  // namespace

FakeDockerEngine::FakeDockerEngine(FakeCommandRunner& runner) : runner_(runner) {
  images_ = {"interlink/docker-sd-pause:1"};
  runner_.SetResponder(
      [this](const std::vector<std::string>& a, const CommandOptions&) { return Handle(a); });
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
  containers_.at(name).status = "exited";
  containers_.at(name).exit_code = code;
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
std::map<std::string, FakeDockerEngine::Container> FakeDockerEngine::containers() const {
  std::lock_guard l(mu_);
  return containers_;
}
std::vector<std::string> FakeDockerEngine::verbs() const {
  std::vector<std::string> v;
  for (const auto& c : runner_.calls()) v.push_back(c.size() > 1 ? c[1] : "");
  return v;
}
std::vector<std::vector<std::string>> FakeDockerEngine::calls_with(const std::string& verb) const {
  std::vector<std::vector<std::string>> out;
  for (const auto& c : runner_.calls()) {
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

CommandResult FakeDockerEngine::Run(const std::vector<std::string>& a) {
  Container c;
  std::string name, pull;
  size_t i = 2;
  for (; i < a.size() && a[i] != "--"; ++i) {
    if (auto v = After(a[i], "--name="); !v.empty()) name = v;
    if (auto v = After(a[i], "--pull="); !v.empty()) pull = v;
    if (auto v = After(a[i], "--restart="); !v.empty()) c.restart = v;
    if (auto v = After(a[i], "--label="); !v.empty()) {
      c.labels[v.substr(0, v.find('='))] = v.substr(v.find('=') + 1);
    }
  }
  c.image = i + 1 < a.size() ? a[i + 1] : "";
  if (containers_.count(name)) {
    return Out(125, "",
               "docker: Error response from daemon: Conflict. The container name \"/" + name +
                   "\" is already in use by container \"x\".\n");
  }
  bool known = images_.count(c.image) || c.image.rfind("exit", 0) == 0;
  if (!known) {
    return Out(125, "",
               pull == "never"
                   ? "docker: Error response from daemon: No such image: " + c.image + ".\n"
                   : "Unable to find image '" + c.image +
                         "' locally\ndocker: Error response from daemon: pull access denied for " +
                         c.image + ".\n");
  }
  c.id = "id" + std::to_string(next_id_++);
  StartLocked(c);
  containers_[name] = c;
  return Out(0, c.id + "\n");
}

CommandResult FakeDockerEngine::Inspect(const std::vector<std::string>& a) {
  json::array arr;
  std::string err;
  for (size_t i = 3; i < a.size(); ++i) {
    auto it = containers_.find(a[i]);
    if (it == containers_.end()) {
      err += "Error: No such container: " + a[i] + "\n";
      continue;
    }
    const Container& c = it->second;
    bool started = c.status != "created";
    arr.push_back(json::object{
        {"Id", c.id},
        {"Name", "/" + a[i]},
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
        {"HostConfig", {{"RestartPolicy", {{"Name", c.restart}}}}}});
  }
  return Out(err.empty() ? 0 : 1, json::serialize(arr), err);
}

CommandResult FakeDockerEngine::Ps(const std::vector<std::string>& a) {
  std::vector<std::pair<std::string, std::string>> filters;
  bool quiet = false;
  std::string uid_label;
  for (const auto& arg : a) {
    quiet = quiet || arg == "--quiet";
    if (auto v = After(arg, "--filter=label="); !v.empty()) {
      filters.emplace_back(v.substr(0, v.find('=')), v.substr(v.find('=') + 1));
    }
  }
  std::string out;
  for (const auto& [name, c] : containers_) {
    bool match = true;
    for (const auto& [k, v] : filters) {
      auto it = c.labels.find(k);
      match = match && it != c.labels.end() && it->second == v;
    }
    if (!match) continue;
    auto uid = c.labels.find("io.kubernetes.pod.uid");
    out += quiet ? name + "\n" : name + "\t" + (uid == c.labels.end() ? "" : uid->second) + "\n";
  }
  return Out(0, out);
}

void FakeDockerEngine::AfterNextInspect(std::function<void()> hook) {
  std::lock_guard l(mu_);
  after_inspect_ = std::move(hook);
}

Result<CommandResult> FakeDockerEngine::Handle(const std::vector<std::string>& a) {
  if (a.size() > 1 && a[1] == "inspect") {
    std::function<void()> hook;
    Result<CommandResult> r = HandleLocked(a);
    {
      std::lock_guard l(mu_);
      hook.swap(after_inspect_);
    }
    if (hook) hook();
    return r;
  }
  return HandleLocked(a);
}

Result<CommandResult> FakeDockerEngine::HandleLocked(const std::vector<std::string>& a) {
  std::lock_guard l(mu_);
  if (down_) {
    return Out(
        1,
        a.size() > 1 && a[1] == "info"
            ? R"({"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"]})"
            : "",
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon "
        "running?\n");
  }
  const std::string verb = a.size() > 1 ? a[1] : "";
  if (verb == "run") return Run(a);
  if (verb == "inspect") return Inspect(a);
  if (verb == "ps") return Ps(a);
  if (verb == "info") return Out(0, R"({"NCPU":4,"MemTotal":8589934592,"ServerVersion":"20.10"})");
  if (verb == "image")
    return images_.count(a.back()) ? Out(0, "sha256:x\n") : Out(1, "", "Error: No such image\n");
  if (verb == "import") {
    images_.insert(a.back());
    return Out(0, "sha256:new\n");
  }
  if (verb == "logs") {
    return Out(0, "2024-05-01T10:00:00.1Z hello\n2024-05-01T10:00:00.3Z world\n",
               "2024-05-01T10:00:00.2Z oops\n");
  }
  std::string err;
  size_t first = 2;
  while (first < a.size() && a[first].rfind("--", 0) == 0) ++first;
  for (size_t i = first; i < a.size(); ++i) {
    auto it = containers_.find(a[i]);
    if (it == containers_.end()) {
      err += "Error: No such container: " + a[i] + "\n";
      continue;
    }
    if (verb == "start") StartLocked(it->second);
    if (verb == "stop" && it->second.status == "running") {
      it->second.status = "exited";
      it->second.exit_code = 143;
    }
    if (verb == "rm") containers_.erase(it);
  }
  return Out(err.empty() ? 0 : 1, "", err);
}

}  // namespace il::docker
