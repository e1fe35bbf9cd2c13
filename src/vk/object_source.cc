#include "vk/object_source.h"

#include "api/pod.h"
#include "kube/api_error.h"
#include "kube/kube_api.h"
#include "kube/paths.h"

namespace il::vk {
namespace json = boost::json;

Result<json::value> KubeObjectSource::Cached(const std::string& path, const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  {
    MutexLock l(mu_);
    if (auto it = cache_.find(path); it != cache_.end() && it->second.first > now) {
      return it->second.second;
    }
  }
  auto r = api_.Get(path);
  if (!r.ok() && kube::IsNotFound(r.status())) return NotFound(what + " not found");
  if (r.ok() && ttl_.count() > 0) {
    MutexLock l(mu_);
    if (cache_.size() > 1000) {
      for (auto it = cache_.begin(); it != cache_.end();) {
        it = it->second.first <= now ? cache_.erase(it) : std::next(it);
      }
    }
    cache_[path] = {now + ttl_, *r};
  }
  return r;
}

Result<json::value> KubeObjectSource::GetConfigMap(const std::string& ns, const std::string& name) {
  return Cached(kube::ConfigMapPath(ns, name), "configmap \"" + name + "\"");
}

Result<json::value> KubeObjectSource::GetSecret(const std::string& ns, const std::string& name) {
  return Cached(kube::SecretPath(ns, name), "secret \"" + name + "\"");
}

Result<std::string> KubeObjectSource::RequestToken(const std::string& ns, const std::string& sa,
                                                   const TokenSpec& spec) {
  json::object s{
      {"expirationSeconds", spec.expiration_seconds},
      {"boundObjectRef",
       {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", spec.pod_name}, {"uid", spec.pod_uid}}}};
  if (!spec.audience.empty()) s["audiences"] = json::array{json::string(spec.audience)};
  json::object req{
      {"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", s}};
  auto r = api_.Create(kube::ServiceAccountTokenPath(ns, sa), req);
  if (!r.ok()) {
    if (kube::IsNotFound(r.status())) return NotFound("serviceaccount \"" + sa + "\" not found");
    return r.status();
  }
  std::string token = api::GetString(*r, {"status", "token"});
  if (token.empty()) return Internal("TokenRequest for " + ns + "/" + sa + " returned no token");
  return token;
}

Result<json::value> CachingObjectSource::GetConfigMap(const std::string& ns,
                                                      const std::string& name) {
  auto key = "cm/" + ns + "/" + name;
  auto it = cache_.find(key);
  if (it == cache_.end()) it = cache_.emplace(key, inner_.GetConfigMap(ns, name)).first;
  return it->second;
}

Result<json::value> CachingObjectSource::GetSecret(const std::string& ns, const std::string& name) {
  auto key = "secret/" + ns + "/" + name;
  auto it = cache_.find(key);
  if (it == cache_.end()) it = cache_.emplace(key, inner_.GetSecret(ns, name)).first;
  return it->second;
}

}  // namespace il::vk
