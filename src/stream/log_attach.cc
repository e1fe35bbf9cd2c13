#include "stream/log_attach.h"

#include <atomic>
#include <thread>

namespace il::stream {

namespace {

class ChannelSink : public api::LogSink {
 public:
  ChannelSink(api::Channels& io, std::atomic<bool>& gone) : io_(io), gone_(gone) {}
  bool Write(std::string_view chunk) override {
    if (gone_) return false;
    return io_.Write(api::kChanStdout, chunk);
  }
  bool Gone() override { return gone_; }

 private:
  api::Channels& io_;
  std::atomic<bool>& gone_;
};

}  // namespace

Result<int> AttachByLogs(api::Backend& backend, const api::CallContext& ctx,
                         const api::ExecRequest& r, api::Channels& io) {
  std::atomic<bool> gone{false};
  std::thread in([&] {
    while (io.Read()) {
    }
    gone = true;
  });
  api::LogRequest lr{r.namespace_, r.pod_uid, r.pod_name, r.container, {}};
  lr.opts.follow = true;
  lr.opts.tail = 1;
  ChannelSink sink(io, gone);
  Status st = backend.GetLogs(ctx, lr, sink);
  io.CancelRead();
  in.join();
  if (!st.ok()) return st;
  return 0;
}

}  // namespace il::stream
