// AttachByLogs: `kubectl attach` for back-ends that cannot reach a container's own
// streams (slurm-sd): the container's log followed from its last line, on stdout, until
// the caller leaves. Stdin is not passed on.
//
// Thread-safety: one call per Channels.
#pragma once

#include "api/backend.h"
#include "api/stream_backend.h"

namespace il::stream {

Result<int> AttachByLogs(api::Backend& backend, const api::CallContext& ctx,
                         const api::ExecRequest& request, api::Channels& io);

}  // namespace il::stream
