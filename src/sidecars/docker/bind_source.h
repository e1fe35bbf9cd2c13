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
// Pinning closes the window between that check and dockerd's own resolution (and Docker's
// own restarts, which re-resolve the source path without asking docker-sd), as the kubelet
// does: the checked directory or file is bind-mounted from its O_PATH descriptor onto a pin
// point in docker-sd's private pod directory, and Docker gets the pin as the source. Every
// component of the pin's path is docker-sd's own, so nothing the pod writes can redirect it.
// Where mount(2) is not allowed, the pin is a symlink to the checked path instead (the
// behaviour without pins; docs/security.md, "Residual risk").
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
  // Pin point Docker gets as the source (below docker-sd's private pod directory); empty for
  // plans stored before pins existed, whose mounts name the volume path itself.
  std::string pin;

  bool operator==(const BindCheck& o) const {
    return base == o.base && rel == o.rel && create == o.create && pin == o.pin;
  }
};

// kFailedPrecondition naming the component when `rel` climbs out of `base`, passes through
// a symlink, or (without `create`) does not exist. Missing components are created 0755
// when `create` is set (never through a symlink).
Status CheckBindSource(const BindCheck& check);

struct PinOutcome {
  bool mounted = false;  // false: mount(2) failed and the pin is a symlink to the path
  std::string why;       // why mounting failed
};

// Checks `check` as CheckBindSource does and bind-mounts the checked directory or file, from
// the descriptor the walk ended on, at check.pin (created 0700 with its parents, which must
// be docker-sd's own). Mounts already there, from an earlier start or an earlier run of
// docker-sd, are detached first, so pins never stack. Errors: the check's, or kInternal when
// the pin point cannot be prepared.
Result<PinOutcome> PinBindSource(const BindCheck& check);

// Detaches every mount at or below `dir` (pins of a deleted pod; call before removing the
// directory, since removing it recursively would cross into the pinned volume).
Status UnpinBelow(const std::string& dir);

}  // namespace il::docker
