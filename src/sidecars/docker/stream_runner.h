// StreamRunner: runs a long-lived program from an argv vector (never a shell) and hands its
// output over as it arrives: `docker logs --follow`, `docker events`. The streaming
// counterpart of il::CommandRunner, which collects output until exit.
//
// Thread-safety: implementations must be thread-safe; each Stream call blocks its caller.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace il::docker {

class StreamRunner {
 public:
  // stream: 1 = stdout, 2 = stderr. Return false to stop the program.
  using OutputFn = std::function<bool(int stream, std::string_view chunk)>;
  // Polled while the program is quiet; true stops it.
  using StopFn = std::function<bool()>;

  virtual ~StreamRunner() = default;
  // Returns the exit code (-1 when it was stopped or killed by a signal). A program that
  // cannot be started is an error status.
  virtual Result<int> Stream(const std::vector<std::string>& argv, const OutputFn& on_output,
                             const StopFn& stop, std::chrono::milliseconds poll) = 0;
};

class PosixStreamRunner : public StreamRunner {
 public:
  Result<int> Stream(const std::vector<std::string>& argv, const OutputFn& on_output,
                     const StopFn& stop, std::chrono::milliseconds poll) override;
};

}  // namespace il::docker
