// Pod resources as Slurm sees them: Kubernetes quantities parsed, and the pod's
// effective request computed the way the kubelet does (max of the largest init
// container and the sum of the app containers, which run concurrently). Limits are
// used when set, else requests.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"

namespace il::slurm {

// "2", "500m", "1.5", "0.25" -> millicores.
Result<int64_t> ParseCpuMillis(std::string_view q);
// "1Gi", "512M", "1e9", "100" -> bytes (rounded up).
Result<int64_t> ParseBytes(std::string_view q);

struct PodResources {
  std::optional<int64_t> cpu_millis;
  std::optional<int64_t> memory_bytes;
  std::optional<int64_t> gpus;  // nvidia.com/gpu + amd.com/gpu
};

// Reads spec.initContainers / spec.containers resources. A malformed quantity is an
// error naming the container.
Result<PodResources> ComputePodResources(const boost::json::value& pod);

// Slurm's --mem unit: MiB rounded up, at least 1.
int64_t BytesToMiB(int64_t bytes);
// CPUs for --cpus-per-task: millicores rounded up, at least 1.
int64_t MillisToCpus(int64_t millis);

}  // namespace il::slurm
