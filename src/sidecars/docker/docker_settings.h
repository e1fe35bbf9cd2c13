// DockerSettings: the docker sidecar's typed view of InterLinkConfig.
//
// Keys (InterLinkConfig.yaml, declared by DockerKeys(); see docs/docker-sidecar.md):
//   DockerPath         docker CLI to run (default "docker", looked up in PATH)
//   HostPathAllowList  host directories hostPath volumes may use: a YAML list or a comma-separated
//                      string of absolute paths; empty (default) refuses every hostPath volume
//   DockerNetwork      network of the pod's sandbox container (default: "none", loopback only)
//   ContainerPrefix    prefix of every container name (default "il-")
//   StateFile          SQLite state (default <DataRootFolder>/docker-sd/state.db)
//   DockerAllowHostNamespaces  honour hostNetwork / hostPID / hostIPC (default false: refused)
//   DockerPidsLimit    --pids-limit of every container (default 4096; 0 = Docker's default)
//   DockerLogMaxSize   json-file log rotation size per container (default "10m"; "" or "0" =
//                      the daemon's own log driver and options)
//   DockerLogMaxFiles  rotated files kept per container (default 5)
//   DockerStartConcurrency  containers docker-sd creates and starts at once (default 0: one
//                      per CPU of the engine's host, from its /info once it answers;
//                      this machine's until then); the rest wait their turn, so a burst's
//                      first pods start first
// DataRootFolder (shared key) holds the per-pod directories: <DataRootFolder>/docker-sd/pods/<uid>.
// It must be visible to dockerd at the same path (it is bind-mounted into containers).
//
// Thread-safety: a plain value.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/config_schema.h"
#include "core/status.h"

namespace il::docker {

struct DockerSettings {
  // DockerPath: still accepted for old configs, used by nothing (no docker CLI runs).
  std::string docker_path = "docker";
  // Engine API endpoint (docker_api.h). Not a config key: empty means DOCKER_HOST of
  // docker-sd's environment (with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), else the local socket.
  std::string docker_host;
  std::vector<std::string> host_path_allow_list;  // normalised absolute prefixes
  std::string network;                            // empty: "none"
  std::string container_prefix = "il-";
  std::string state_file;    // absolute
  std::string data_dir;      // absolute; per-pod dirs live in data_dir/pods
  std::string pause_binary;  // static il-pause, put into the sandbox image (beside docker-sd)
  std::string pause_image = "interlink/docker-sd-pause:1";
  bool allow_host_namespaces = false;  // hostNetwork, hostPID, hostIPC
  int64_t pids_limit = 4096;           // 0: none set
  std::string log_max_size = "10m";    // empty: daemon defaults
  int log_max_files = 5;
  int start_concurrency = 0;  // 0: one per CPU of the engine's host

  std::string PodDir(const std::string& uid) const { return data_dir + "/pods/" + uid; }
};

// docker-sd's own keys (the "docker-sd" component of daemon/config_catalog.h): the loader
// keeps their values as text in InterLinkConfig::sidecar_settings, DockerSettingsFromConfig
// reads them through these setters, and the other components ignore them.
const std::vector<config::Key<DockerSettings>>& DockerKeys();

// Reads and validates the settings; relative paths are made absolute against the current
// directory. An invalid value is kInvalidArgument naming the key.
Result<DockerSettings> DockerSettingsFromConfig(const InterLinkConfig& cfg);

// Parses a HostPathAllowList value ("- /a\n- /b" or "/a,/b"): absolute, lexically normal.
Result<std::vector<std::string>> ParseAllowList(const std::string& value);

// True when `path` (absolute, lexically normal) equals or lies below one of the prefixes.
bool PathAllowed(const std::string& path, const std::vector<std::string>& prefixes);

}  // namespace il::docker
