// KubeletAuthOptions: how the kubelet API authenticates and authorizes its callers
// (vk/kubelet_auth.h). A plain struct of its own so that the config loader can fill it
// without pulling in the HTTP server.
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstddef>

namespace il::vk {

// Named after the kubelet's configuration file (KubeletConfiguration `authentication` /
// `authorization`); the defaults are the config file's (webhook on, anonymous off).
struct KubeletAuthOptions {
  enum class Mode { kWebhook, kAlwaysAllow };
  bool anonymous = false;                              // authentication.anonymous.enabled
  bool webhook = true;                                 // authentication.webhook.enabled
  std::chrono::milliseconds token_cache_ttl{120'000};  // authentication.webhook.cacheTTL
  Mode mode = Mode::kWebhook;                          // authorization.mode
  std::chrono::milliseconds authorized_ttl{300'000};   // authorization.webhook.cacheAuthorizedTTL
  std::chrono::milliseconds unauthorized_ttl{30'000};  // ...webhook.cacheUnauthorizedTTL
  size_t token_cache_size = 4096;                      // bounded caches (least recently used
  size_t decision_cache_size = 8192;                   // entries go first)
  bool operator==(const KubeletAuthOptions&) const = default;
};

}  // namespace il::vk
