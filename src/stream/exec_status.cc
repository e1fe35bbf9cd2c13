#include "stream/exec_status.h"

#include <boost/json.hpp>

namespace il::stream {
namespace json = boost::json;

std::string ExecStatusJson(const Result<int>& r, bool attach) {
  json::object s{{"metadata", json::object{}}};
  if (r.ok() && *r == 0) {
    s["status"] = "Success";
  } else if (r.ok()) {
    s["status"] = "Failure";
    s["message"] = "command terminated with non-zero exit code: exit status " + std::to_string(*r);
    s["reason"] = "NonZeroExitCode";
    s["details"] = json::object{
        {"causes",
         json::array{json::object{{"reason", "ExitCode"}, {"message", std::to_string(*r)}}}}};
  } else {
    s["status"] = "Failure";
    s["message"] =
        std::string("Internal error occurred: ") +
        (attach ? "error attaching to container: " : "error executing command in container: ") +
        r.status().message();
    s["reason"] = "InternalError";
    s["code"] = 500;
  }
  return json::serialize(s);
}

std::string ExecStatusText(const Result<int>& r) {
  if (r.ok() && *r == 0) return "";
  if (r.ok())
    return "command terminated with non-zero exit code: exit status " + std::to_string(*r);
  return r.status().message();
}

Result<int> ParseExecStatus(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument("exec status is not a JSON object");
  const auto& o = v.as_object();
  auto str = [&](const json::object& obj, const char* k) -> std::string {
    auto* p = obj.if_contains(k);
    return p && p->is_string() ? std::string(p->as_string()) : "";
  };
  if (str(o, "status") == "Success") return 0;
  if (str(o, "reason") == "NonZeroExitCode") {
    if (auto* d = o.if_contains("details"); d && d->is_object()) {
      if (auto* c = d->as_object().if_contains("causes"); c && c->is_array()) {
        for (const auto& cause : c->as_array()) {
          if (!cause.is_object() || str(cause.as_object(), "reason") != "ExitCode") continue;
          try {
            int code = std::stoi(str(cause.as_object(), "message"));
            if (code >= 0 && code <= 255) return code;
          } catch (const std::exception&) {
          }
        }
      }
    }
    return InvalidArgument("NonZeroExitCode status without an ExitCode cause");
  }
  std::string msg = str(o, "message");
  // Strip the prefix we add so that a message does not grow at every hop.
  for (std::string_view p : {"Internal error occurred: error executing command in container: ",
                             "Internal error occurred: error attaching to container: "}) {
    if (msg.rfind(p, 0) == 0) msg = msg.substr(p.size());
  }
  return Internal(msg.empty() ? "exec failed" : msg);
}

}  // namespace il::stream
