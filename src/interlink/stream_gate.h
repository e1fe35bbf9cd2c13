// StreamGate: interLink's side of the streaming extension. It relays exec, attach and
// port-forward to the plugin (protocol::Client), but only when the plugin's ping reply
// advertises the extension: a plugin without it (every upstream plugin) gets a clear
// 501 to the vk, and on to kubectl, instead of a request it does not understand.
//
// The ping answer is cached (30 s when supported, 5 s when not) so a burst of execs
// costs one ping.
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <optional>

#include "api/stream_backend.h"
#include "core/mutex.h"
#include "protocol/client.h"

namespace il::interlink {

class StreamGate : public api::StreamBackend {
 public:
  explicit StreamGate(protocol::Client& plugin) : plugin_(plugin) {}
  Status Check(const api::CallContext& ctx, std::string_view op) override;
  Result<int> Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                   api::Channels& io) override;
  Status PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                     api::Channels& io) override;

 private:
  protocol::Client& plugin_;
  Mutex mu_;
  std::optional<api::PingResponse> ping_ IL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point expires_ IL_GUARDED_BY(mu_){};
};

}  // namespace il::interlink
