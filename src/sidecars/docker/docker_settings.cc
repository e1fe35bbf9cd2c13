#include "sidecars/docker/docker_settings.h"

#include <unistd.h>

#include <filesystem>
#include <optional>

namespace il::docker {
namespace fs = std::filesystem;

namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n\"'";
  s.erase(0, s.find_first_not_of(ws));
  auto end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

std::string Absolute(const std::string& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? fs::path(p) : abs).lexically_normal().string();
}

// A value as the settings keep it: trimmed, without surrounding quotes.
std::string Text(const YAML::Node& n) { return Trim(config::TextOf(n)); }

// The directory of the running executable ("" when unknown).
std::string ExecutableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "" : exe.parent_path().string();
}

bool ValidPrefix(const std::string& p) {
  if (p.empty() || p.size() > 64) return false;
  for (char c : p) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(p[0]));
}

std::optional<int64_t> Whole(const std::string& v, int64_t max) {
  if (v.empty() || v.size() > 12) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n > max) return std::nullopt;
  return n;
}

using config::Where;
using S = DockerSettings;

// Setters of the keys that are not plain text.
Status SetNetwork(const YAML::Node& n, const Where& w, S* s) {
  std::string v = Text(n);
  if (v.find_first_of(" \t\n,=") != std::string::npos || (!v.empty() && v[0] == '-') ||
      v.rfind("container:", 0) == 0) {
    return w.Error("'" + v + "' is not a usable network name");
  }
  s->network = std::move(v);
  return Status::Ok();
}

Status SetPrefix(const YAML::Node& n, const Where& w, S* s) {
  std::string v = Text(n);
  if (v.empty()) return Status::Ok();
  if (!ValidPrefix(v)) {
    return w.Error("'" + v + "' must be 1-64 characters of [A-Za-z0-9_.-] starting alphanumeric");
  }
  s->container_prefix = std::move(v);
  return Status::Ok();
}

Status SetPidsLimit(const YAML::Node& n, const Where& w, S* s) {
  std::string v = Text(n);
  if (v.empty()) return Status::Ok();
  auto x = Whole(v, 1 << 22);
  if (!x) return w.Error("'" + v + "' is not a number of processes");
  s->pids_limit = *x;
  return Status::Ok();
}

// "" or "0": the daemon's own log driver and options.
Status SetLogMaxSize(const YAML::Node& n, const Where& w, S* s) {
  std::string v = Text(n);
  if (v.empty() || v == "0") {
    s->log_max_size.clear();
    return Status::Ok();
  }
  size_t digits = v.find_first_not_of("0123456789");
  std::string unit = digits == std::string::npos ? "" : v.substr(digits);
  if (digits == 0 || digits > 9 || (unit != "" && unit != "k" && unit != "m" && unit != "g")) {
    return w.Error("'" + v + "' is not a size such as 10m");
  }
  s->log_max_size = std::move(v);
  return Status::Ok();
}

Status SetLogMaxFiles(const YAML::Node& n, const Where& w, S* s) {
  std::string v = Text(n);
  if (v.empty()) return Status::Ok();
  auto x = Whole(v, 1000);
  if (!x || *x < 1) return w.Error("'" + v + "' is not 1..1000");
  s->log_max_files = static_cast<int>(*x);
  return Status::Ok();
}

Status SetStartConcurrency(const YAML::Node& n, const Where& w, S* s) {
  std::string v = Text(n);
  if (v.empty()) return Status::Ok();
  auto x = Whole(v, 1024);
  if (!x) return w.Error("'" + v + "' is not 0..1024");
  s->start_concurrency = static_cast<int>(*x);
  return Status::Ok();
}

std::vector<config::Key<S>> MakeKeys() {
  const auto& k = config::MakeKey<S>;
  return {
      k("DockerPath", {}, {}, "string", "docker",
        "accepted for compatibility and ignored: docker-sd speaks the Engine API (DOCKER_HOST)",
        [](const YAML::Node& n, const Where&, S* s) {
          if (std::string v = Text(n); !v.empty()) s->docker_path = v;
          return Status::Ok();
        }),
      k("HostPathAllowList", {}, {}, "list", "[]", "host directories hostPath volumes may use",
        [](const YAML::Node& n, const Where&, S* s) -> Status {
          IL_ASSIGN_OR_RETURN(s->host_path_allow_list, ParseAllowList(Text(n)));
          return Status::Ok();
        }),
      k("DockerNetwork", {}, {}, "string", "none", "network of the pod's sandbox container",
        SetNetwork),
      k("ContainerPrefix", {}, {}, "string", "il-", "prefix of every container name", SetPrefix),
      k("StateFile", {}, {}, "string", "<DataRootFolder>/docker-sd/state.db", "SQLite state",
        [](const YAML::Node& n, const Where&, S* s) {
          s->state_file = Text(n);  // made absolute by DockerSettingsFromConfig
          return Status::Ok();
        }),
      k("DockerAllowHostNamespaces", {}, {}, "bool", "false",
        "honour hostNetwork / hostPID / hostIPC",
        [](const YAML::Node& n, const Where& w, S* s) -> Status {
          IL_ASSIGN_OR_RETURN(s->allow_host_namespaces, config::BoolOf(YAML::Node(Text(n)), w));
          return Status::Ok();
        }),
      k("DockerPidsLimit", {}, {}, "int", "4096", "--pids-limit of every container", SetPidsLimit),
      k("DockerLogMaxSize", {}, {}, "string", "10m", "json-file log rotation size per container",
        SetLogMaxSize),
      k("DockerLogMaxFiles", {}, {}, "int", "5", "rotated log files kept per container",
        SetLogMaxFiles),
      k("DockerStartConcurrency", {}, {}, "int", "0",
        "containers created and started at once (0: one per CPU of the Docker engine's host)",
        SetStartConcurrency),
  };
}

}  // namespace

Result<std::vector<std::string>> ParseAllowList(const std::string& value) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&]() -> Status {
    std::string item = Trim(cur);
    cur.clear();
    if (!item.empty() && item[0] == '-') item = Trim(item.substr(1));  // YAML block list item
    if (!item.empty() && item[0] == '[') item = Trim(item.substr(1));  // YAML flow list
    if (!item.empty() && item.back() == ']') item = Trim(item.substr(0, item.size() - 1));
    if (item.empty() || item == "[]") return Status::Ok();
    if (item[0] != '/') {
      return InvalidArgument("HostPathAllowList: '" + item + "' is not an absolute path");
    }
    std::string norm = fs::path(item).lexically_normal().string();
    if (norm.size() > 1 && norm.back() == '/') norm.pop_back();
    out.push_back(norm);
    return Status::Ok();
  };
  for (char c : value) {
    if (c == ',' || c == '\n') {
      IL_RETURN_IF_ERROR(flush());
    } else {
      cur += c;
    }
  }
  IL_RETURN_IF_ERROR(flush());
  return out;
}

bool PathAllowed(const std::string& path, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (p == "/") return true;
    if (path == p) return true;
    if (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/') {
      return true;
    }
  }
  return false;
}

const std::vector<config::Key<DockerSettings>>& DockerKeys() {
  static const std::vector<config::Key<DockerSettings>> k = MakeKeys();
  return k;
}

Result<DockerSettings> DockerSettingsFromConfig(const InterLinkConfig& cfg) {
  DockerSettings s;
  IL_RETURN_IF_ERROR(config::ApplyText(DockerKeys(), cfg.sidecar_settings, "docker-sd", &s));
  std::string root = cfg.data_root_folder.empty() ? "/var/lib/interlink" : cfg.data_root_folder;
  s.data_dir = Absolute(root + "/docker-sd");
  s.state_file = s.state_file.empty() ? s.data_dir + "/state.db" : Absolute(s.state_file);
  std::string dir = ExecutableDir();
  s.pause_binary = dir.empty() ? "il-pause" : dir + "/il-pause";
  return s;
}

}  // namespace il::docker
