// ObjectSource: how pod creation reads the objects a pod references (ConfigMaps, Secrets)
// and obtains service-account tokens. KubeObjectSource reads them from the API server;
// unit tests use an in-memory fake.
//
// A missing object is reported as kNotFound, so callers can honour `optional: true`.
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/mutex.h"
#include "core/status.h"

namespace il::kube {
class KubeApi;
}

namespace il::vk {

struct TokenSpec {
  std::string audience;  // empty: the API server's default audiences
  int64_t expiration_seconds = 3600;
  std::string pod_name;  // the token is bound to this pod
  std::string pod_uid;
};

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  virtual Result<boost::json::value> GetConfigMap(const std::string& ns,
                                                  const std::string& name) = 0;
  virtual Result<boost::json::value> GetSecret(const std::string& ns, const std::string& name) = 0;
  // TokenRequest for `service_account`; returns the token.
  virtual Result<std::string> RequestToken(const std::string& ns,
                                           const std::string& service_account,
                                           const TokenSpec& spec) = 0;
};

// Reads from the API server. Objects found are kept for `ttl` (the kubelet caches them
// too), so a burst of pods mounting the same Secret costs one GET; misses are not kept.
class KubeObjectSource : public ObjectSource {
 public:
  explicit KubeObjectSource(kube::KubeApi& api,
                            std::chrono::milliseconds ttl = std::chrono::milliseconds(2000))
      : api_(api), ttl_(ttl) {}
  Result<boost::json::value> GetConfigMap(const std::string& ns, const std::string& name) override;
  Result<boost::json::value> GetSecret(const std::string& ns, const std::string& name) override;
  Result<std::string> RequestToken(const std::string& ns, const std::string& service_account,
                                   const TokenSpec& spec) override;

 private:
  Result<boost::json::value> Cached(const std::string& path, const std::string& what);

  kube::KubeApi& api_;
  const std::chrono::milliseconds ttl_;
  Mutex mu_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, boost::json::value>> cache_
      IL_GUARDED_BY(mu_);
};

// Memoises lookups for the duration of one pod's creation (a ConfigMap referenced by a
// volume and three env vars is read once).
class CachingObjectSource : public ObjectSource {
 public:
  explicit CachingObjectSource(ObjectSource& inner) : inner_(inner) {}
  Result<boost::json::value> GetConfigMap(const std::string& ns, const std::string& name) override;
  Result<boost::json::value> GetSecret(const std::string& ns, const std::string& name) override;
  Result<std::string> RequestToken(const std::string& ns, const std::string& service_account,
                                   const TokenSpec& spec) override {
    return inner_.RequestToken(ns, service_account, spec);
  }

 private:
  ObjectSource& inner_;
  std::map<std::string, Result<boost::json::value>> cache_;
};

}  // namespace il::vk
