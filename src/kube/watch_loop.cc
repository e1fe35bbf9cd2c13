#include "kube/watch_loop.h"

#include <boost/json.hpp>

#include "kube/api_error.h"

namespace il::kube {
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

// A watch that ends this fast without events counts as a failure (no hot reconnect loop).
constexpr auto kMinHealthyWatch = std::chrono::seconds(1);

std::string ResourceVersion(const json::value& obj) {
  const auto* o = obj.if_object();
  const auto* meta = o ? o->if_contains("metadata") : nullptr;
  const auto* rv =
      meta && meta->is_object() ? meta->as_object().if_contains("resourceVersion") : nullptr;
  return rv && rv->is_string() ? std::string(rv->as_string()) : std::string();
}

// The Status carried by an ERROR event (its object is a Kubernetes Status).
Status ErrorEventStatus(const json::value& obj) {
  int code = 500;
  std::string reason, message;
  if (const auto* o = obj.if_object()) {
    if (const auto* c = o->if_contains("code"); c && c->is_number()) {
      code = static_cast<int>(c->to_number<int64_t>());
    }
    if (const auto* r = o->if_contains("reason"); r && r->is_string()) reason = r->as_string();
    if (const auto* m = o->if_contains("message"); m && m->is_string()) message = m->as_string();
  }
  return MakeApiStatus(code, reason, "watch ERROR event: " + message);
}

class Loop {
 public:
  Loop(KubeApi& api, const std::string& path, const WatchLoopOptions& opt, const WatchHandlers& h,
       std::stop_token stop)
      : api_(api),
        path_(path),
        opt_(opt),
        h_(h),
        stop_(std::move(stop)),
        clock_(opt.clock ? opt.clock : RealClock()) {}

  Status Run() {
    while (!stop_.stop_requested()) {
      if (List()) WatchUntilRelist();
      if (exhausted_) return last_error_;
    }
    return Status::Ok();
  }

 private:
  // Records a failure and sleeps the backoff. False when the loop must end. `answered`: the
  // API server replied (ApiErrorOf finds its status), as opposed to not being reachable.
  bool Fail(const Status& s, bool answered) {
    if (stop_.stop_requested()) return false;
    if (h_.on_error) h_.on_error(s);
    last_error_ = s;
    ++failures_;
    if (opt_.max_consecutive_failures > 0 && failures_ >= opt_.max_consecutive_failures) {
      exhausted_ = true;
      return false;
    }
    int& n = answered ? answered_failures_ : unreachable_failures_;
    ++n;
    auto cap =
        answered ? opt_.max_backoff : std::min(opt_.max_backoff, opt_.unreachable_max_backoff);
    auto d = opt_.initial_backoff * (1LL << std::min(n - 1, 20));
    return clock_->SleepFor(std::min<milliseconds>(d, cap), stop_);
  }
  bool Fail(const Status& s) { return Fail(s, ApiErrorOf(s).has_value()); }
  void Succeeded() { failures_ = answered_failures_ = unreachable_failures_ = 0; }

  bool List() {
    ListOptions lo;
    lo.label_selector = opt_.label_selector;
    lo.field_selector = opt_.field_selector;
    lo.limit = opt_.list_page_size;
    auto list = ListAll(api_, path_, lo);
    if (!list.ok()) {
      (void)Fail(list.status());
      return false;
    }
    std::vector<json::value> items;
    if (const auto* it = list->as_object().if_contains("items"); it && it->is_array()) {
      items.assign(it->as_array().begin(), it->as_array().end());
    }
    rv_ = ResourceVersion(*list);
    if (h_.on_sync) h_.on_sync(items, rv_);
    return true;
  }

  // One watch request; the outcome decides between rewatch and relist.
  enum class Next { kRewatch, kRelist, kEnd };
  Next WatchOnce() {
    WatchParams wp;
    wp.label_selector = opt_.label_selector;
    wp.field_selector = opt_.field_selector;
    wp.resource_version = rv_;
    wp.timeout_seconds = opt_.watch_timeout_seconds;
    bool delivered = false, gone = false;
    Status event_error;
    auto started = clock_->Now();
    Status s = api_.Watch(
        path_, wp,
        [&](const WatchEvent& ev) {
          if (ev.type == WatchEventType::kError) {
            event_error = ErrorEventStatus(ev.object);
            gone = IsGone(event_error);
            return false;
          }
          if (auto rv = ResourceVersion(ev.object); !rv.empty()) rv_ = rv;
          if (ev.type == WatchEventType::kBookmark) return true;
          delivered = true;
          if (h_.on_event) h_.on_event(ev.type, ev.object);
          return !stop_.stop_requested();
        },
        stop_);
    if (stop_.stop_requested()) return Next::kEnd;
    if (delivered) Succeeded();
    if (gone || IsGone(s)) {
      // The resourceVersion fell out of the server's window: relist now, unless this keeps
      // happening without progress.
      if (delivered) return Next::kRelist;
      return Fail(gone ? event_error : s) ? Next::kRelist : Next::kEnd;
    }
    if (!event_error.ok()) return Fail(event_error) ? Next::kRelist : Next::kEnd;
    if (!s.ok()) return Fail(s) ? Next::kRewatch : Next::kEnd;
    if (!delivered && clock_->Now() - started < kMinHealthyWatch) {
      return Fail(Unavailable("WATCH " + path_ + " closed at once"), /*answered=*/true)
                 ? Next::kRewatch
                 : Next::kEnd;
    }
    Succeeded();
    return Next::kRewatch;
  }

  void WatchUntilRelist() {
    while (!stop_.stop_requested()) {
      if (WatchOnce() != Next::kRewatch) return;
    }
  }

  KubeApi& api_;
  const std::string& path_;
  const WatchLoopOptions& opt_;
  const WatchHandlers& h_;
  std::stop_token stop_;
  std::shared_ptr<Clock> clock_;
  std::string rv_;
  int failures_ = 0;              // in a row, of any kind (max_consecutive_failures)
  int answered_failures_ = 0;     // in a row, the server replied: the long backoff
  int unreachable_failures_ = 0;  // in a row, the server was not reachable: the short one
  bool exhausted_ = false;
  Status last_error_;
};

}  // namespace

Status WatchLoop(KubeApi& api, const std::string& path, const WatchLoopOptions& options,
                 const WatchHandlers& handlers, std::stop_token stop) {
  return Loop(api, path, options, handlers, std::move(stop)).Run();
}

}  // namespace il::kube
