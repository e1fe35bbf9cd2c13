#include "kube/bearer_token.h"

#include <fstream>
#include <sstream>

#include "core/log.h"

namespace il::kube {

Result<std::unique_ptr<BearerToken>> BearerToken::New(std::string token, std::string file,
                                                      std::chrono::milliseconds reload_interval,
                                                      std::shared_ptr<Clock> clock) {
  std::unique_ptr<BearerToken> t(new BearerToken());
  t->file_ = std::move(file);
  t->interval_ = reload_interval;
  t->clock_ = clock ? std::move(clock) : RealClock();
  MutexLock lock(t->mu_);  // not shared yet; taken for the analysis
  t->token_ = std::move(token);
  if (!t->file_.empty()) {
    if (!t->ReadLocked()) return InvalidArgument("cannot read token file " + t->file_);
    t->next_check_ = t->clock_->Now() + t->interval_;
  }
  return t;
}

bool BearerToken::ReadLocked() {
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file_, ec);
  std::ifstream in(file_, std::ios::binary);
  if (ec || !in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return false;  // a file caught mid-rewrite; keep the old token
  token_ = std::move(t);
  mtime_ = mtime;
  return true;
}

std::string BearerToken::Get() {
  MutexLock lock(mu_);
  if (file_.empty()) return token_;
  auto now = clock_->Now();
  if (now >= next_check_) {
    next_check_ = now + interval_;
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(file_, ec);
    if (!ec && mtime != mtime_ && !ReadLocked()) {
      static log::RateLimiter limiter(std::chrono::seconds(60));
      if (limiter.Allow()) log::Logger("kube.client")->warn("cannot re-read token file {}", file_);
    }
  }
  return token_;
}

bool BearerToken::ForceReload() {
  MutexLock lock(mu_);
  if (file_.empty()) return false;
  std::string old = token_;
  if (!ReadLocked()) return false;
  next_check_ = clock_->Now() + interval_;
  return token_ != old;
}

}  // namespace il::kube
