// Bind sources a pod can influence, resolved without following symlinks.
//
// Docker resolves a bind mount's source on the host, following symlinks. A pod that can
// write into a volume (an emptyDir, a writable hostPath) could otherwise plant
// `ln -s / x` and have another container mount `subPath: x`, i.e. the host's root. So every
// such source is described as a trusted base directory (the volume's own directory, or the
// HostPathAllowList prefix a hostPath lies under) plus a relative path the pod controls;
// the relative part is walked one component at a time with O_NOFOLLOW (the equivalent of
// openat2's RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) right before every container start.
//
// Residual window: between the check and dockerd's own resolution a running container of
// the same pod could swap a component; docker restarts a container by itself (restart
// policy) without asking docker-sd. docs/security.md explains both.
//
// Thread-safety: plain functions.
#pragma once

#include <string>

#include "core/status.h"

namespace il::docker {

struct BindCheck {
  std::string base;     // trusted directory (symlinks in it are the admin's own)
  std::string rel;      // pod-controlled part below it; empty = the base itself
  bool create = false;  // a missing subPath is created as a directory, as the kubelet does

  bool operator==(const BindCheck& o) const {
    return base == o.base && rel == o.rel && create == o.create;
  }
};

// kFailedPrecondition naming the component when `rel` climbs out of `base`, passes through
// a symlink, or (without `create`) does not exist. Missing components are created 0755
// when `create` is set (never through a symlink).
Status CheckBindSource(const BindCheck& check);

}  // namespace il::docker
