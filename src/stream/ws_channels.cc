#include "stream/ws_channels.h"

#include "core/base64.h"

namespace il::stream {

namespace {
constexpr size_t kMaxQueued = 1u << 20;
}

WsChannels::WsChannels(http::WebSocket& ws, bool base64) : ws_(ws), base64_(base64) {
  reader_ = std::thread([this] { ReadLoop(); });
}

WsChannels::~WsChannels() { Close(); }

void WsChannels::ReadLoop() {
  for (;;) {
    auto msg = ws_.Read();
    if (!msg) break;
    api::ChannelMessage m;
    if (msg->data.empty()) continue;
    if (msg->binary) {
      m.channel = static_cast<uint8_t>(msg->data[0]);
      m.data = msg->data.substr(1);
    } else {
      if (msg->data[0] < '0' || msg->data[0] > '9') continue;
      m.channel = static_cast<uint8_t>(msg->data[0] - '0');
      auto d = Base64Decode(std::string_view(msg->data).substr(1));
      if (!d.ok()) continue;
      m.data = std::move(*d);
    }
    MutexLock lock(mu_);
    while (queued_ >= kMaxQueued && !cancelled_ && !closed_) cv_.Wait(mu_);
    if (cancelled_ || closed_) continue;  // keep answering pings until the end
    queued_ += m.data.size();
    queue_.push_back(std::move(m));
    cv_.NotifyAll();
  }
  MutexLock lock(mu_);
  eof_ = true;
  cv_.NotifyAll();
}

std::optional<api::ChannelMessage> WsChannels::Read() {
  MutexLock lock(mu_);
  while (queue_.empty() && !eof_ && !cancelled_) cv_.Wait(mu_);
  if (cancelled_ || queue_.empty()) return std::nullopt;
  auto m = std::move(queue_.front());
  queue_.pop_front();
  queued_ -= m.data.size();
  cv_.NotifyAll();
  return m;
}

bool WsChannels::Write(uint8_t channel, std::string_view data) {
  if (base64_) {
    std::string msg(1, static_cast<char>('0' + channel));
    msg += Base64Encode(data);
    return ws_.Send(false, msg);
  }
  std::string msg(1, static_cast<char>(channel));
  msg.append(data);
  return ws_.Send(true, msg);
}

void WsChannels::CancelRead() {
  MutexLock lock(mu_);
  cancelled_ = true;
  queue_.clear();
  queued_ = 0;
  cv_.NotifyAll();
}

bool WsChannels::PeerGone() {
  MutexLock lock(mu_);
  return eof_;
}

void WsChannels::Close() {
  {
    MutexLock lock(mu_);
    if (closed_) return;
    closed_ = true;
    cv_.NotifyAll();
  }
  ws_.SendClose(1000);
  // Give the peer a moment to answer the close, then drop the connection.
  {
    MutexLock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!eof_) {
      if (!cv_.WaitUntil(mu_, deadline)) break;
    }
  }
  ws_.stream().Close();
  if (reader_.joinable()) reader_.join();
}

}  // namespace il::stream
