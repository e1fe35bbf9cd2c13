// BuildPodData: turns the VK's PodCreateRequests into the RetrievedPodData a sidecar
// receives, giving each container (init containers first) the ConfigMaps, Secrets and
// projected-volume maps its volumeMounts reference, as upstream's getData does.
#pragma once

#include "api/types.h"

namespace il::interlink {

api::RetrievedPodData BuildPodData(const api::PodCreateRequests& request);

}  // namespace il::interlink
