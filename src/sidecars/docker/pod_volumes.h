// Volume planning: turns a pod's volumes and volumeMounts into files and directories under the
// pod's own directory plus the bind mounts of each container.
//
//   configMap, secret, projected, downwardAPI -> files (items, keys, defaultMode/mode, exact
//       bytes) under <pod dir>/volumes/<volume>, mounted read-only
//   emptyDir -> <pod dir>/volumes/<volume> (mode 0777), shared by every container mounting it
//   hostPath -> the host path itself, only below a HostPathAllowList prefix
// Any other volume type that a container mounts is refused with kInvalidArgument.
//
// PlanVolumes is pure (golden-tested); ApplyVolumePlan touches the disk.
// Thread-safety: plain functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
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
// hostPath sources again after resolving symlinks. Errors name the offending path.
Status ApplyVolumePlan(const VolumePlan& plan,
                       const std::vector<std::string>& host_path_allow_list);

// The --mount argument for a bind mount; fields are CSV-quoted, so any byte except NUL in a
// path survives.
std::string MountArg(const Mount& m);

// True for a relative path without "..", "." or empty components.
bool SafeRelativePath(const std::string& p);

}  // namespace il::docker
