// Fuzz target: il::ParseConfig (src/core/config.h), the InterLinkConfig.yaml loader of
// interlink, the sidecars and vk. The environment is empty so runs are deterministic.
//
// Properties: no crash and no escaping exception for any text (yaml-cpp throws; the
// loader must turn that into a status), and an accepted config yields the derived URLs
// without failing.
#include <optional>
#include <string>

#include "core/config.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const il::EnvLookup kNoEnv = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  std::string text(il::fuzz::AsText(data, size));
  auto c = il::ParseConfig(text, "fuzz.yaml", kNoEnv);
  if (!c.ok()) {
    FUZZ_CHECK(!c.status().ToString().empty());
    return 0;
  }
  (void)c->EffectiveSidecarPort("4000");
  (void)c->SidecarEndpoint("4000");
  (void)c->InterlinkListenUrl();
  return 0;
}
