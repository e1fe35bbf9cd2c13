// RunProcessStream: runs a command (argv, never a shell) with its stdin, stdout and
// stderr joined to an exec's channels; with `tty` on a pseudo-terminal of its own
// (forkpty), whose size follows the resize channel (TIOCSWINSZ). Used by sidecars whose
// exec is a CLI: `docker exec -i [-t]`, `srun --jobid=... --overlap ...`.
//
// End of stdin (255, [0]) closes the process's stdin (on a TTY: sends ^D). When the
// caller's side goes away the process is killed. Returns the exit code (128+signal
// when killed), or an error when it could not start.
//
// Thread-safety: one call per Channels.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/stream_backend.h"
#include "core/status.h"

namespace il::stream {

Result<int> RunProcessStream(const std::vector<std::string>& argv, bool tty, api::Channels& io);

// {"Width":W,"Height":H} (keys in any case) -> (W, H).
std::optional<std::pair<uint16_t, uint16_t>> ParseTerminalSize(std::string_view json);

}  // namespace il::stream
