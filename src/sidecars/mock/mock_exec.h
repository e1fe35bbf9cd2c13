// MockStreams: mock-sd's scripted exec, attach and port-forward (docs/mock-sidecar.md),
// for tests and the demo. No process runs; the "container" understands:
//   echo ARGS...        prints ARGS
//   cat                 copies stdin to stdout
//   wc -c               counts stdin bytes
//   true / false        exit 0 / 1
//   exit N, sh -c 'exit N', sh -c 'echo ...'
//   sh (with a TTY)     a line shell on the terminal: echoes what is typed, answers
//                       `stty size` with the latest resize, `exit` ends it
//   anything else       "mock-sd: CMD: command not found" on stderr, exit 127
// attach prints "tick N" every `tick` and copies stdin to stdout until the caller leaves.
// port-forward connects to the pod port on `forward_host` (loopback: the mock's pods
// "run" on the sidecar's host).
//
// Thread-safety: thread-safe (no shared state).
#pragma once

#include <chrono>
#include <string>

#include "api/stream_backend.h"

namespace il::mock {

struct MockStreamOptions {
  std::chrono::milliseconds tick{1000};
  std::string forward_host = "127.0.0.1";
};

class MockStreams : public api::StreamBackend {
 public:
  explicit MockStreams(MockStreamOptions options = {}) : opt_(std::move(options)) {}
  Result<int> Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                   api::Channels& io) override;
  Status PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                     api::Channels& io) override;

 private:
  Result<int> Attach(const api::ExecRequest& request, api::Channels& io);
  int Shell(api::Channels& io);

  MockStreamOptions opt_;
};

}  // namespace il::mock
