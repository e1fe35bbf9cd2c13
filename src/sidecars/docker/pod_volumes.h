// Volume planning: turns a pod's volumes and volumeMounts into files and directories under the
// pod's own directory plus the bind mounts of each container.
//
//   configMap, secret, projected, downwardAPI -> files (items, keys, defaultMode/mode, exact
//       bytes) under <pod dir>/volumes/<volume>, mounted read-only
//   emptyDir -> <pod dir>/volumes/<volume> (mode 0777), shared by every container mounting it
//   hostPath -> the host path itself, only below a HostPathAllowList prefix, reached from that
//       prefix without passing through a symlink
// subPath -> below the volume's directory, without passing through a symlink (bind_source.h)
// Any other volume type that a container mounts is refused with kInvalidArgument.
//
// PlanVolumes is pure (golden-tested); ApplyVolumePlan touches the disk.
// Thread-safety: plain functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "sidecars/docker/bind_source.h"
#include "sidecars/docker/pod_sources.h"

namespace il::docker {

struct PlannedDir {
  std::string path;
  int mode = 0755;
  bool set_mode = true;  // false for host directories we only create when missing
};

struct PlannedFile {
  std::string path;
  std::string content;
  int mode = 0644;
};

struct Mount {
  std::string source;  // absolute host path
  std::string target;  // absolute path in the container
  bool read_only = false;
  // Set when the pod can influence what `source` resolves to (a subPath, a hostPath below
  // its allow-list prefix): checked again right before every start of the container.
  std::optional<BindCheck> check;
};

struct VolumePlan {
  std::vector<PlannedDir> dirs;    // created in order (parents first)
  std::vector<PlannedFile> files;  // written after the dirs
  // hostPath sources with their hostPath.type ("" when unchecked), verified at apply time.
  std::vector<std::pair<std::string, std::string>> host_paths;
  std::map<std::string, std::vector<Mount>> mounts;  // by Kubernetes container name
};

Result<VolumePlan> PlanVolumes(const PodSources& sources, const std::string& pod_dir,
                               const std::vector<std::string>& host_path_allow_list);

// Creates the pod's directories and files (replacing earlier content), and checks the
// hostPath sources (no symlink below the allow-list prefix; hostPath.type). Errors name the
// offending path.
Status ApplyVolumePlan(const VolumePlan& plan,
                       const std::vector<std::string>& host_path_allow_list);

// The --mount argument for a bind mount; fields are CSV-quoted, so any byte except NUL in a
// path survives.
std::string MountArg(const Mount& m);

// The HostPathAllowList entry `path` lies under, split as a BindCheck (base = the entry,
// rel = the rest); nullopt when no entry covers it.
std::optional<BindCheck> HostPathCheck(const std::string& path,
                                       const std::vector<std::string>& allow_list);

// True for a relative path without "..", "." or empty components.
bool SafeRelativePath(const std::string& p);

}  // namespace il::docker
