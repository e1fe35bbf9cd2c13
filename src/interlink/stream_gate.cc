#include "interlink/stream_gate.h"

namespace il::interlink {

Status StreamGate::Check(const api::CallContext& ctx, std::string_view op) {
  auto now = std::chrono::steady_clock::now();
  std::optional<api::PingResponse> ping;
  {
    MutexLock lock(mu_);
    if (ping_ && now < expires_) ping = ping_;
  }
  if (!ping) {
    auto p = plugin_.Ping(ctx);
    if (!p.ok()) {
      return Status(StatusCode::kUnavailable,
                    "cannot reach the plugin to check for exec support: " + p.status().message());
    }
    ping = *p;
    MutexLock lock(mu_);
    ping_ = ping;
    expires_ = now + (api::SupportsStreaming(*ping, op) ? std::chrono::seconds(30)
                                                        : std::chrono::seconds(5));
  }
  if (!api::SupportsStreaming(*ping, op)) {
    return Status(StatusCode::kUnimplemented, "the interLink plugin at " + plugin_.url() +
                                                  " does not support " + std::string(op) +
                                                  " (its ping reply does not advertise " +
                                                  std::string(api::kStreamingExtension) + " " +
                                                  std::string(api::kStreamingVersion) + ")");
  }
  return Status::Ok();
}

Result<int> StreamGate::Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                             api::Channels& io) {
  return plugin_.Exec(ctx, request, io);
}

Status StreamGate::PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                               api::Channels& io) {
  return plugin_.PortForward(ctx, request, io);
}

}  // namespace il::interlink
