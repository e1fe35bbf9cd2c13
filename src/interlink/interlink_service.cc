#include "interlink/interlink_service.h"

namespace il::interlink {

Result<std::unique_ptr<InterlinkService>> InterlinkService::Create(InterlinkServiceOptions o) {
  std::unique_ptr<InterlinkService> s(new InterlinkService());
  o.plugin.hop = protocol::Hop::kPlugin;
  IL_ASSIGN_OR_RETURN(s->plugin_, protocol::Client::Create(o.plugin));
  s->cache_ = std::make_unique<StatusCache>(*s->plugin_);
  o.server.hop = protocol::Hop::kInterlink;
  StatusCache* cache = s->cache_.get();
  o.server.update_cache = [cache](const std::vector<std::string>& uids) {
    cache->Invalidate(uids);
  };
  s->streams_ = std::make_unique<StreamGate>(*s->plugin_);
  o.server.streams = s->streams_.get();
  s->server_ = std::make_unique<protocol::Server>(std::move(o.server), *s->cache_);
  return s;
}

InterlinkService::~InterlinkService() { Stop(); }
Status InterlinkService::Start() { return server_->Start(); }
void InterlinkService::Stop() {
  if (server_) server_->Stop();
}

}  // namespace il::interlink
