// The sandbox image: a one-file image holding the static il-pause program, imported into the
// local Docker engine by docker-sd itself (POST /images/create?fromSrc=- of a tar built in memory),
// so pods need no registry and no particular image to get a namespace holder.
//
// Thread-safety: EnsureSandboxImage may be called concurrently (idempotent).
#pragma once

#include <string>

#include "core/status.h"
#include "sidecars/docker/docker_api.h"

namespace il::docker {

// A ustar archive with one regular file (mode 0755) at `name`.
std::string TarOneFile(const std::string& name, const std::string& content);

// Imports `image` from the pause binary unless the engine already has it.
Status EnsureSandboxImage(DockerApi& api, const std::string& image,
                          const std::string& pause_binary);

}  // namespace il::docker
