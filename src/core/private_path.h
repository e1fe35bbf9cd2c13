// Private data directories and state files of the daemons.
//
// A daemon that keeps state on disk (docker-sd's state.db holds the `docker run` arguments it
// replays as root; slurm-sd's job directories hold Secrets) must not trust a path another
// local user could have prepared: created first, owned, made group- or world-writable, or
// reached through a directory such a user can rename. These checks run at start-up and
// refuse with a message that names the path and what is wrong with it.
//
// Thread-safety: plain functions (they touch the filesystem).
#pragma once

#include <string>

#include "core/status.h"

namespace il {

// Creates `dir` (and missing parents, 0755) when absent, the last component with `mode`
// (0700 by default). Then checks, without following a symlink at the last component, that
// it is a directory owned by this process's effective user and not group/world-writable,
// and that every ancestor is owned by root or this user and, if group/world-writable, has
// the sticky bit (like /tmp). kFailedPrecondition naming the path otherwise.
Status EnsurePrivateDir(const std::string& dir, unsigned mode = 0700);

// A state file that may not exist yet: its directory must pass EnsurePrivateDir (created
// 0700 when missing); the file itself, when present, must be a regular file (not a symlink)
// owned by this user and not group/world-writable.
Status CheckPrivateFile(const std::string& path);

}  // namespace il
