// FakeCommandRunner: records argv vectors and replays canned results (unit tests only).
#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include "core/process.h"

namespace il {

class FakeCommandRunner : public CommandRunner {
 public:
  // Decides the result for an argv; the default returns exit 0 with empty output.
  using Responder =
      std::function<Result<CommandResult>(const std::vector<std::string>&, const CommandOptions&)>;
  void SetResponder(Responder r) {
    std::lock_guard l(mu_);
    responder_ = std::move(r);
  }
  Result<CommandResult> Run(const std::vector<std::string>& argv,
                            const CommandOptions& options = {}) override {
    Responder responder;
    {
      std::lock_guard l(mu_);
      calls_.push_back(argv);
      stdins_.push_back(options.stdin_data);
      responder = responder_;
    }
    // Outside the lock: a responder may run commands itself (a test's hook).
    if (responder) return responder(argv, options);
    CommandResult r;
    r.exit_code = 0;
    return r;
  }
  std::vector<std::vector<std::string>> calls() const {
    std::lock_guard l(mu_);
    return calls_;
  }
  std::vector<std::string> stdins() const {
    std::lock_guard l(mu_);
    return stdins_;
  }

 private:
  mutable std::mutex mu_;
  Responder responder_;
  std::vector<std::vector<std::string>> calls_;
  std::vector<std::string> stdins_;
};

}  // namespace il
