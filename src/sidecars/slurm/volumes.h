// Volumes of a Slurm pod: ConfigMap, Secret, projected (as flattened by the VK),
// downwardAPI, emptyDir and hostPath volumes turned into files under the job directory
// and bind mounts for each container. Pure; used by BuildJobSpec. hostPath volumes only
// below the admin's HostPathAllowList.
//
// Layout: <job dir>/volumes/<volume>/<key or item path> for ConfigMap/Secret/projected
// (mode from items[].mode, else defaultMode, else 0644), <job dir>/emptydirs/<volume>
// for emptyDir; hostPath binds the host path itself.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/types.h"
#include "sidecars/slurm/job_spec.h"

namespace il::slurm {

struct VolumePlan {
  std::map<std::string, std::string> source;       // volume name -> host directory
  std::set<std::string> read_only;                 // volumes always mounted read-only
  std::map<std::string, std::string> unsupported;  // volume name -> why
  std::vector<std::string> dirs;                   // directories to create
  std::vector<VolumeFile> files;
  std::vector<std::string> warnings;
};

// hostPath volumes must lie below an entry of `host_path_allow` (lexically; an empty list
// refuses every hostPath).
Result<VolumePlan> PlanVolumes(const api::RetrievedPodData& data, const std::string& job_dir,
                               const std::vector<std::string>& host_path_allow);
// Bind mounts for one container's volumeMounts.
Result<std::vector<Mount>> ContainerMounts(const boost::json::value& container,
                                           const VolumePlan& plan);
// A relative path without "..", empty or absolute components.
bool IsSafeRelativePath(const std::string& p);

}  // namespace il::slurm
