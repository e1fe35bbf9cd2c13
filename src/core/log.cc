#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <boost/json.hpp>

namespace il::log {
namespace {

Mutex g_mu;
spdlog::sink_ptr g_sink IL_GUARDED_BY(g_mu);
spdlog::level::level_enum g_level IL_GUARDED_BY(g_mu) = spdlog::level::info;

// Formats a record as one JSON object per line.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    boost::json::object o;
    auto t = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch());
    o["ts"] = static_cast<double>(t.count()) / 1e6;
    o["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                             spdlog::level::to_string_view(msg.level).size());
    o["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    o["msg"] = std::string(msg.payload.data(), msg.payload.size());
    std::string line = boost::json::serialize(o);
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

spdlog::sink_ptr Sink() IL_REQUIRES(g_mu) {
  if (!g_sink) {
    g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    g_sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  }
  return g_sink;
}

}  // namespace

Result<Format> ParseFormat(std::string_view s) {
  if (s == "text" || s.empty()) return Format::kText;
  if (s == "json") return Format::kJson;
  return InvalidArgument("log format must be 'text' or 'json', got '" + std::string(s) + "'");
}

Status Init(const Options& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return InvalidArgument("unknown log level '" + options.level + "'");
  }
  MutexLock lock(g_mu);
  auto sink = Sink();
  if (options.format == Format::kJson) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  }
  g_level = level;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
  return Status::Ok();
}

std::shared_ptr<spdlog::logger> Logger(const std::string& name) {
  MutexLock lock(g_mu);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, Sink());
  logger->set_level(g_level);
  spdlog::register_logger(logger);
  return logger;
}

std::string Redact(std::string_view secret) {
  if (secret.empty()) return "(empty)";
  return "(redacted, " + std::to_string(secret.size()) + " bytes)";
}

bool RateLimiter::Allow(int* suppressed) {
  MutexLock lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (last_.time_since_epoch().count() != 0 && now - last_ < interval_) {
    ++suppressed_;
    return false;
  }
  last_ = now;
  if (suppressed) *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace il::log
