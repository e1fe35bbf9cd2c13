#include "kube/access_review.h"

#include <boost/json.hpp>

namespace il::kube {
namespace json = boost::json;

namespace {

Status BadReply(std::string_view what, std::string_view why) {
  return Status(StatusCode::kBadGateway,
                std::string(what) + ": unexpected reply from the API server: " + std::string(why));
}

const json::object* Object(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f ? f->if_object() : nullptr;
}

std::string String(const json::object& o, std::string_view key) {
  const auto* f = o.if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

bool Bool(const json::object& o, std::string_view key) {
  const auto* f = o.if_contains(key);
  return f && f->is_bool() && f->as_bool();
}

std::vector<std::string> Strings(const json::value* v) {
  std::vector<std::string> out;
  if (!v || !v->is_array()) return out;
  for (const auto& s : v->as_array()) {
    if (s.is_string()) out.emplace_back(s.as_string());
  }
  return out;
}

json::array StringArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

Result<TokenReviewResult> ReviewToken(KubeApi& api, const std::string& token,
                                      const std::vector<std::string>& audiences) {
  json::object spec{{"token", token}};
  if (!audiences.empty()) spec["audiences"] = StringArray(audiences);
  json::value review = json::object{{"apiVersion", "authentication.k8s.io/v1"},
                                    {"kind", "TokenReview"},
                                    {"spec", std::move(spec)}};
  auto reply = api.Create(kTokenReviewsPath, review);
  if (!reply.ok()) return reply.status().WithContext("TokenReview");
  const json::object* status = Object(*reply, "status");
  if (!status) return BadReply("TokenReview", "no status");
  TokenReviewResult out;
  out.authenticated = Bool(*status, "authenticated");
  out.error = String(*status, "error");
  out.audiences = Strings(status->if_contains("audiences"));
  if (const auto* u = status->if_contains("user"); u && u->is_object()) {
    const auto& user = u->as_object();
    out.user.username = String(user, "username");
    out.user.uid = String(user, "uid");
    out.user.groups = Strings(user.if_contains("groups"));
    if (const auto* extra = user.if_contains("extra"); extra && extra->is_object()) {
      for (const auto& [k, v] : extra->as_object()) out.user.extra[k] = Strings(&v);
    }
  }
  if (out.authenticated && out.user.username.empty()) {
    return BadReply("TokenReview", "authenticated without a user name");
  }
  return out;
}

json::value SubjectAccessReviewObject(const AccessReviewSpec& spec) {
  const ResourceAttributes& r = spec.resource;
  json::object attrs;
  for (auto [key, value] : {std::pair{"namespace", &r.namespace_},
                            {"verb", &r.verb},
                            {"group", &r.group},
                            {"version", &r.version},
                            {"resource", &r.resource},
                            {"subresource", &r.subresource},
                            {"name", &r.name}}) {
    if (!value->empty()) attrs[key] = *value;
  }
  json::object s{{"resourceAttributes", std::move(attrs)}};
  if (!spec.user.username.empty()) s["user"] = spec.user.username;
  if (!spec.user.groups.empty()) s["groups"] = StringArray(spec.user.groups);
  if (!spec.user.extra.empty()) {
    json::object extra;
    for (const auto& [k, v] : spec.user.extra) extra[k] = StringArray(v);
    s["extra"] = std::move(extra);
  }
  if (!spec.user.uid.empty()) s["uid"] = spec.user.uid;
  return json::object{{"apiVersion", "authorization.k8s.io/v1"},
                      {"kind", "SubjectAccessReview"},
                      {"spec", std::move(s)}};
}

Result<AccessDecision> ReviewAccess(KubeApi& api, const AccessReviewSpec& spec) {
  auto reply = api.Create(kSubjectAccessReviewsPath, SubjectAccessReviewObject(spec));
  if (!reply.ok()) return reply.status().WithContext("SubjectAccessReview");
  const json::object* status = Object(*reply, "status");
  if (!status) return BadReply("SubjectAccessReview", "no status");
  AccessDecision d;
  d.allowed = Bool(*status, "allowed");
  d.denied = Bool(*status, "denied");
  d.reason = String(*status, "reason");
  d.evaluation_error = String(*status, "evaluationError");
  return d;
}

}  // namespace il::kube
