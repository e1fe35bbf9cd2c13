#include "api/status_watch.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <random>
#include <set>

namespace il::api {
namespace json = boost::json;

namespace {

std::string NewEpoch() {
  std::random_device rd;
  uint64_t v = (uint64_t{rd()} << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Splits "<epoch>.<seq>"; false when malformed.
bool SplitCursor(std::string_view c, std::string_view* epoch, uint64_t* seq) {
  auto dot = c.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 64) return false;
  *epoch = c.substr(0, dot);
  for (char ch : *epoch) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  std::string_view n = c.substr(dot + 1);
  if (n.empty()) return false;
  auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), *seq);
  return ec == std::errc() && p == n.data() + n.size();
}

}  // namespace

json::value ToJson(const StatusChanges& c) {
  json::array uids;
  uids.reserve(c.uids.size());
  for (const auto& u : c.uids) uids.emplace_back(u);
  json::object o{{"cursor", c.cursor}, {"uids", std::move(uids)}, {"reset", c.reset}};
  if (c.with_statuses) o["statuses"] = ToJson(c.statuses);
  return o;
}

Result<StatusChanges> ParseStatusChanges(const json::value& v) {
  const auto* o = v.if_object();
  if (!o) return InvalidArgument("status watch reply is not an object");
  StatusChanges c;
  const auto* cur = o->if_contains("cursor");
  if (!cur || !cur->is_string()) return InvalidArgument("status watch reply has no cursor");
  c.cursor = cur->as_string();
  if (const auto* r = o->if_contains("reset"); r && r->is_bool()) c.reset = r->as_bool();
  if (const auto* u = o->if_contains("uids"); u && !u->is_null()) {
    if (!u->is_array()) return InvalidArgument("status watch reply: uids is not a list");
    for (const auto& e : u->as_array()) {
      if (!e.is_string()) return InvalidArgument("status watch reply: a uid is not a string");
      c.uids.emplace_back(e.as_string());
    }
  }
  if (const auto* st = o->if_contains("statuses"); st && !st->is_null()) {
    auto list = ParsePodStatusList(*st);
    if (!list.ok()) return InvalidArgument("status watch reply: " + list.status().message());
    c.statuses = std::move(*list);
    c.with_statuses = true;
  }
  return c;
}

Result<std::chrono::milliseconds> ParseWatchTimeout(std::string_view s) {
  if (s.empty()) return std::chrono::milliseconds(30000);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0) {
    return InvalidArgument("timeout must be a number of seconds >= 0, got '" +
                           std::string(s.substr(0, 32)) + "'");
  }
  v = std::min(v, static_cast<double>(kMaxWatchTimeout.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(v * 1000));
}

bool IsWellFormedCursor(std::string_view since) {
  std::string_view e;
  uint64_t s = 0;
  return since.empty() || SplitCursor(since, &e, &s);
}

bool SupportsStatusWatch(const PingResponse& p) {
  const auto* ext = p.extensions.if_contains(kStatusWatchExtension);
  if (!ext || !ext->is_object()) return false;
  const auto* v = ext->as_object().if_contains("version");
  return v && v->is_string() && v->as_string() == kStatusWatchVersion;
}

bool SupportsWatchStatuses(const PingResponse& p) {
  if (!SupportsStatusWatch(p)) return false;
  const auto* s = p.extensions.at(kStatusWatchExtension).as_object().if_contains("statuses");
  return s && s->is_bool() && s->as_bool();
}

std::vector<std::string> UidsWithoutStatus(const StatusChanges& c) {
  std::set<std::string_view> have;
  for (const auto& s : c.statuses) have.insert(s.uid);
  std::vector<std::string> out;
  for (const auto& u : c.uids) {
    if (!have.count(u)) out.push_back(u);
  }
  return out;
}

json::object StatusWatchAdvertisement() {
  return json::object{{"version", kStatusWatchVersion},
                      {"path", kStatusWatchPath},
                      {"maxTimeoutSeconds", kMaxWatchTimeout.count()},
                      {"statuses", true}};
}

StatusChangeLog::StatusChangeLog(size_t capacity)
    : capacity_(std::max<size_t>(1, capacity)), epoch_(NewEpoch()) {}

void StatusChangeLog::Notify(const std::string& uid) {
  {
    MutexLock l(mu_);
    log_.emplace_back(++seq_, uid);
    if (log_.size() > capacity_) log_.pop_front();
  }
  cv_.NotifyAll();
}

void StatusChangeLog::Notify(const std::vector<std::string>& uids) {
  if (uids.empty()) return;
  {
    MutexLock l(mu_);
    for (const auto& u : uids) log_.emplace_back(++seq_, u);
    while (log_.size() > capacity_) log_.pop_front();
  }
  cv_.NotifyAll();
}

std::string StatusChangeLog::Cursor() const {
  MutexLock l(mu_);
  return epoch_ + "." + std::to_string(seq_);
}

StatusChanges StatusChangeLog::Since(std::string_view since) const {
  MutexLock l(mu_);
  return SinceLocked(since);
}

StatusChanges StatusChangeLog::SinceLocked(std::string_view since) const {
  StatusChanges out;
  out.cursor = epoch_ + "." + std::to_string(seq_);
  std::string_view epoch;
  uint64_t from = 0;
  if (!SplitCursor(since, &epoch, &from) || epoch != epoch_ || from > seq_) {
    out.reset = true;
    return out;
  }
  // The oldest retained change is log_.front(); a caller that missed older ones resets.
  const uint64_t oldest = log_.empty() ? seq_ + 1 : log_.front().first;
  if (from + 1 < oldest && from < seq_) {
    out.reset = true;
    return out;
  }
  std::set<std::string_view> seen;
  for (auto it = log_.rbegin(); it != log_.rend() && it->first > from; ++it) {
    if (seen.insert(it->second).second) out.uids.push_back(it->second);
  }
  return out;
}

StatusChanges StatusChangeLog::Wait(std::string_view since, std::chrono::milliseconds timeout,
                                    const std::function<bool()>& gone) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock l(mu_);
  for (;;) {
    StatusChanges c = SinceLocked(since);
    if (c.reset || !c.uids.empty()) return c;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return c;
    if (gone) {
      l.Unlock();
      bool g = gone();
      l.Lock();
      if (g) return SinceLocked(since);
    }
    cv_.WaitUntil(mu_, std::min(deadline, now + std::chrono::milliseconds(250)));
  }
}

}  // namespace il::api
