// PodSources: the data a pod's volumes and environment draw from, as interLink delivers it in
// RetrievedPodData (ConfigMaps, Secrets and projected-volume maps listed per container), plus
// downward-API values read from the pod itself.
//
// Values are decoded once: ConfigMap data + binaryData, Secret data (base64) + stringData.
// Thread-safety: immutable after Build; safe to share.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "api/types.h"
#include "core/status.h"

namespace il::docker {

using KeyData = std::map<std::string, std::string>;

class PodSources {
 public:
  // kInvalidArgument when a Secret or binaryData value is not valid base64.
  static Result<PodSources> Build(const api::RetrievedPodData& data);

  const KeyData* ConfigMap(const std::string& name) const { return Find(config_maps_, name); }
  const KeyData* Secret(const std::string& name) const { return Find(secrets_, name); }
  // interLink's rendering of projected volume `volume` (keys are file paths), or nullptr.
  const KeyData* Projected(const std::string& volume) const { return Find(projected_, volume); }

  // Downward API fieldRef value ("metadata.name", "metadata.labels['k']", "metadata.labels",
  // ...); nullopt for paths this sidecar cannot answer.
  std::optional<std::string> FieldRef(const std::string& field_path) const;
  // resourceFieldRef value of `container` ("limits.cpu", "requests.memory", ...) scaled by
  // `divisor` (default "1"); nullopt when the container sets no such value.
  std::optional<std::string> ResourceField(const std::string& container,
                                           const std::string& resource,
                                           const std::string& divisor) const;

  const api::json::value& pod() const { return pod_; }

 private:
  static const KeyData* Find(const std::map<std::string, KeyData>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? nullptr : &it->second;
  }
  api::json::value pod_;
  std::map<std::string, KeyData> config_maps_, secrets_, projected_;
};

// Standard base64 (RFC 4648, padding optional, whitespace ignored).
Result<std::string> DecodeBase64(std::string_view in);

}  // namespace il::docker
