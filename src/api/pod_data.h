// BuildPodData: turns the VK's PodCreateRequests into the RetrievedPodData a sidecar
// receives, giving each container (init containers first) the ConfigMaps, Secrets and
// projected-volume maps its volumeMounts reference, as upstream's getData does.
#pragma once

#include "api/types.h"

namespace il::api {

RetrievedPodData BuildPodData(const PodCreateRequests& request);
// The reverse, for a client that holds per-container data and must send the flat
// PodCreateRequests of the interLink API: every object once (first occurrence wins).
PodCreateRequests FlattenPodData(const RetrievedPodData& data);

}  // namespace il::api
