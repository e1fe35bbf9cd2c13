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

std::string Setting(const InterLinkConfig& cfg, const std::string& key) {
  auto it = cfg.sidecar_settings.find(key);
  return it == cfg.sidecar_settings.end() ? "" : Trim(it->second);
}

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

Status ApplyLimits(const InterLinkConfig& cfg, DockerSettings* s) {
  if (auto v = Setting(cfg, "DockerAllowHostNamespaces"); !v.empty()) {
    if (v == "true" || v == "True" || v == "yes") {
      s->allow_host_namespaces = true;
    } else if (v == "false" || v == "False" || v == "no") {
      s->allow_host_namespaces = false;
    } else {
      return InvalidArgument("DockerAllowHostNamespaces: '" + v + "' is not true or false");
    }
  }
  if (auto v = Setting(cfg, "DockerPidsLimit"); !v.empty()) {
    auto n = Whole(v, 1 << 22);
    if (!n) return InvalidArgument("DockerPidsLimit: '" + v + "' is not a number of processes");
    s->pids_limit = *n;
  }
  if (auto it = cfg.sidecar_settings.find("DockerLogMaxSize"); it != cfg.sidecar_settings.end()) {
    std::string v = Trim(it->second);
    if (v.empty() || v == "0") {
      s->log_max_size.clear();
    } else {
      size_t digits = v.find_first_not_of("0123456789");
      std::string unit = digits == std::string::npos ? "" : v.substr(digits);
      if (digits == 0 || digits > 9 || (unit != "" && unit != "k" && unit != "m" && unit != "g")) {
        return InvalidArgument("DockerLogMaxSize: '" + v + "' is not a size such as 10m");
      }
      s->log_max_size = v;
    }
  }
  if (auto v = Setting(cfg, "DockerLogMaxFiles"); !v.empty()) {
    auto n = Whole(v, 1000);
    if (!n || *n < 1) return InvalidArgument("DockerLogMaxFiles: '" + v + "' is not 1..1000");
    s->log_max_files = static_cast<int>(*n);
  }
  return Status::Ok();
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

std::vector<config::KeyInfo> DockerKeys() {
  auto text = [](std::string name, std::string def, std::string doc) {
    return config::KeyInfo{std::move(name), {}, {}, "string", std::move(def), std::move(doc), {}};
  };
  return {
      text("DockerPath", "docker",
           "accepted for compatibility and ignored: docker-sd speaks the Engine API (DOCKER_HOST)"),
      text("HostPathAllowList", "[]", "host directories hostPath volumes may use"),
      text("DockerNetwork", "none", "network of the pod's sandbox container"),
      text("ContainerPrefix", "il-", "prefix of every container name"),
      text("StateFile", "<DataRootFolder>/docker-sd/state.db", "SQLite state"),
      text("DockerAllowHostNamespaces", "false", "honour hostNetwork / hostPID / hostIPC"),
      text("DockerPidsLimit", "4096", "--pids-limit of every container"),
      text("DockerLogMaxSize", "10m", "json-file log rotation size per container"),
      text("DockerLogMaxFiles", "5", "rotated log files kept per container")};
}

Result<DockerSettings> DockerSettingsFromConfig(const InterLinkConfig& cfg) {
  DockerSettings s;
  if (auto v = Setting(cfg, "DockerPath"); !v.empty()) s.docker_path = v;
  IL_ASSIGN_OR_RETURN(s.host_path_allow_list, ParseAllowList(Setting(cfg, "HostPathAllowList")));
  s.network = Setting(cfg, "DockerNetwork");
  if (s.network.find_first_of(" \t\n,=") != std::string::npos ||
      (!s.network.empty() && s.network[0] == '-') || s.network.rfind("container:", 0) == 0) {
    return InvalidArgument("DockerNetwork: '" + s.network + "' is not a usable network name");
  }
  if (auto v = Setting(cfg, "ContainerPrefix"); !v.empty()) s.container_prefix = v;
  if (!ValidPrefix(s.container_prefix)) {
    return InvalidArgument("ContainerPrefix: '" + s.container_prefix +
                           "' must be 1-64 characters of [A-Za-z0-9_.-] starting alphanumeric");
  }
  IL_RETURN_IF_ERROR(ApplyLimits(cfg, &s));
  std::string root = cfg.data_root_folder.empty() ? "/var/lib/interlink" : cfg.data_root_folder;
  s.data_dir = Absolute(root + "/docker-sd");
  std::string state = Setting(cfg, "StateFile");
  s.state_file = state.empty() ? s.data_dir + "/state.db" : Absolute(state);
  std::string dir = ExecutableDir();
  s.pause_binary = dir.empty() ? "il-pause" : dir + "/il-pause";
  return s;
}

}  // namespace il::docker
