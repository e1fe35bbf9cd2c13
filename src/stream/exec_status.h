// The result of an exec or attach as the kubelet reports it on the error stream
// (reference kubelet-streaming.md §2.5): a metav1.Status JSON for v4 and later, plain
// text (nothing on success) for v1 to v3. The streaming extension carries the v4 form on
// channel 3, so the exit code survives every hop.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace il::stream {

// {"metadata":{},"status":"Success"}, the NonZeroExitCode failure with an ExitCode
// cause, or an InternalError carrying the status message.
std::string ExecStatusJson(const Result<int>& result, bool attach = false);
// Plain text for protocols before v4: empty on success.
std::string ExecStatusText(const Result<int>& result);
// Inverse of ExecStatusJson: the exit code, or kInternal with the message; malformed
// JSON is kInvalidArgument.
Result<int> ParseExecStatus(std::string_view json);

}  // namespace il::stream
