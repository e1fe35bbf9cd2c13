#include "stream/spdy_session.h"

#include "core/log.h"

namespace il::stream {

namespace {

constexpr size_t kMaxFrame = 16u << 20;
constexpr size_t kMaxQueued = 1u << 20;  // per stream, before the reader waits
constexpr size_t kMaxDataFrame = size_t{32} * 1024;

std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("stream.spdy");
  return l;
}

int64_t NowTicks() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

}  // namespace

SpdyStream::SpdyStream(SpdySession& session, uint32_t id, SpdyHeaders headers)
    : session_(session), id_(id), headers_(std::move(headers)) {}

std::optional<std::string> SpdyStream::Read() {
  MutexLock lock(mu_);
  while (queue_.empty() && !input_done_) cv_.Wait(mu_);
  if (queue_.empty()) return std::nullopt;
  std::string out = std::move(queue_.front());
  queue_.pop_front();
  queued_ -= out.size();
  cv_.NotifyAll();
  return out;
}

void SpdyStream::Deliver(std::string data) {
  MutexLock lock(mu_);
  while (queued_ >= kMaxQueued && !input_done_) cv_.Wait(mu_);
  if (input_done_) return;  // nobody reads any more
  queued_ += data.size();
  queue_.push_back(std::move(data));
  cv_.NotifyAll();
}

void SpdyStream::EndInput() {
  MutexLock lock(mu_);
  input_done_ = true;
  cv_.NotifyAll();
}

void SpdyStream::CancelRead() {
  MutexLock lock(mu_);
  input_done_ = true;
  queue_.clear();
  queued_ = 0;
  cv_.NotifyAll();
}

bool SpdyStream::Write(std::string_view data) {
  {
    MutexLock lock(mu_);
    if (finished_) return false;
  }
  while (!data.empty()) {
    auto n = std::min(data.size(), kMaxDataFrame);
    if (!session_.WriteRaw(SpdyDataFrame(id_, data.substr(0, n), false))) return false;
    data.remove_prefix(n);
  }
  return true;
}

void SpdyStream::Finish() {
  {
    MutexLock lock(mu_);
    if (finished_) return;
    finished_ = true;
  }
  session_.WriteRaw(SpdyDataFrame(id_, "", true));
}

void SpdyStream::Reset() {
  {
    MutexLock lock(mu_);
    if (finished_) return;
    finished_ = true;
  }
  session_.WriteRaw(SpdyRstStream(id_, kSpdyRstCancel));
}

SpdySession::SpdySession(http::ByteStream& conn) : conn_(conn), last_activity_(NowTicks()) {}

void SpdySession::Touch() { last_activity_ = NowTicks(); }

std::chrono::steady_clock::time_point SpdySession::last_activity() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(last_activity_.load()));
}

bool SpdySession::WriteRaw(const std::string& frame) {
  MutexLock lock(write_mu_);
  if (goaway_sent_ || closed_) return false;
  Touch();
  return conn_.Write(frame);
}

std::shared_ptr<SpdyStream> SpdySession::Find(uint32_t id) {
  MutexLock lock(streams_mu_);
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

void SpdySession::Serve(const std::function<bool(std::shared_ptr<SpdyStream>)>& on_stream) {
  std::string buf;
  char chunk[64 * 1024];
  for (;;) {
    auto frame = DecodeSpdyFrame(&buf, kMaxFrame);
    if (!frame.ok()) {
      Log()->info("spdy connection ends: {}", frame.status().message());
      break;
    }
    if (!frame->has_value()) {
      size_t n = conn_.Read(chunk, sizeof(chunk));
      if (n == 0) break;
      Touch();
      buf.append(chunk, n);
      continue;
    }
    const SpdyFrame& f = **frame;
    if (!f.control) {
      auto s = Find(f.stream_id);
      if (!s) continue;  // data for a stream we reset or never knew
      if (!f.payload.empty()) s->Deliver(f.payload);
      if (f.flags & kSpdyFlagFin) s->EndInput();
      continue;
    }
    HandleControl(f, on_stream);
    if (closed_) break;
  }
  MutexLock lock(streams_mu_);
  for (auto& [id, s] : streams_) s->EndInput();
}

void SpdySession::HandleControl(const SpdyFrame& f,
                                const std::function<bool(std::shared_ptr<SpdyStream>)>& on_stream) {
  switch (f.type) {
    case SpdyType::kSynStream: {
      auto syn = ParseSynStream(f.payload);
      if (!syn.ok()) {
        closed_ = true;
        return;
      }
      auto block = decompressor_.Decompress(syn->compressed_block);
      if (!block.ok()) {
        Log()->info("spdy: {}", block.status().message());
        closed_ = true;
        return;
      }
      auto headers = DecodeHeaderBlock(*block);
      bool refused;
      {
        MutexLock lock(write_mu_);
        refused = !headers.ok() || syn->stream_id <= last_stream_;
        if (!refused) last_stream_ = syn->stream_id;
      }
      if (refused) {
        WriteRaw(SpdyRstStream(syn->stream_id, kSpdyRstProtocolError));
        return;
      }
      auto s = std::make_shared<SpdyStream>(*this, syn->stream_id, std::move(*headers));
      {
        MutexLock lock(streams_mu_);
        streams_[s->id()] = s;
      }
      if (f.flags & kSpdyFlagFin) s->EndInput();
      {
        MutexLock lock(write_mu_);
        if (goaway_sent_ || closed_) return;
        auto empty = compressor_.Compress(EncodeHeaderBlock({}));
        if (!empty.ok() || !conn_.Write(SpdySynReply(s->id(), *empty, false))) return;
        Touch();
      }
      if (!on_stream(s)) s->Reset();
      return;
    }
    case SpdyType::kRstStream:
      if (f.payload.size() >= 4) {
        if (auto s = Find(ReadU32(f.payload, 0) & 0x7fffffff)) {
          s->EndInput();
          MutexLock lock(s->mu_);
          s->finished_ = true;  // nothing more may be sent on it
        }
      }
      return;
    case SpdyType::kPing:
      if (f.payload.size() == 4) WriteRaw(SpdyPing(ReadU32(f.payload, 0)));
      return;
    case SpdyType::kGoAway: {
      MutexLock lock(streams_mu_);
      for (auto& [id, s] : streams_) s->EndInput();
      return;
    }
    default:
      return;  // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do
  }
}

void SpdySession::GoAwayAndClose() {
  {
    MutexLock lock(write_mu_);
    if (!goaway_sent_ && !closed_) {
      goaway_sent_ = true;
      conn_.Write(SpdyGoAway(last_stream_, 0));
    }
  }
  Close();
}

void SpdySession::Close() {
  closed_ = true;
  conn_.Close();
}

}  // namespace il::stream
