// Wire types of the interLink protocol (VK <-> interLink <-> sidecar), with upstream's
// exact JSON field names (reference/interlink-upstream.md §2.5).
//
// Kubernetes objects (pods, ConfigMaps, Secrets, container statuses) stay boost::json
// values: they are forwarded whole, so fields this code does not model survive the
// round trip. Parse* functions validate what they read and return kInvalidArgument with
// a message naming the field; To*Json functions never fail.
//
// Thread-safety: plain values.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "api/k8s_validation.h"  // ValidatePod, IsDnsLabel, IsDnsSubdomain
#include "core/status.h"

namespace il::api {
namespace json = boost::json;

// PodCreateRequests: VK -> interLink /create.
struct PodCreateRequests {
  json::value pod;
  json::array configmaps;
  json::array secrets;
  json::array projected_volumes_maps;  // "projectedvolumesmaps"
  std::string jobscript_url;           // "jobscriptURL"
};

// RetrievedContainer: the ConfigMaps/Secrets/projected maps one container mounts.
struct RetrievedContainer {
  std::string name;
  json::array config_maps;            // "configMaps"
  json::array projected_volume_maps;  // "projectedvolumemaps"
  json::array secrets;                // "secrets"
  json::array empty_dirs;             // "emptyDirs" (deprecated upstream; kept)
};

// RetrievedPodData: interLink -> sidecar /create (one object, not a list).
struct RetrievedPodData {
  json::value pod;
  std::vector<RetrievedContainer> containers;  // "container"
  json::value job_config;                      // "jobConfig", passed through
  std::string job_script;                      // "jobScript"
};

// CreateStruct: the sidecar's /create reply.
struct CreateResult {
  std::string pod_uid;  // "PodUID"
  std::string pod_jid;  // "PodJID"
};

// PodStatus: one entry of the sidecar's /status reply.
struct PodStatus {
  std::string name;
  std::string uid;              // "UID"
  std::string ns;               // "namespace"
  std::string jid;              // "JID"
  json::array containers;       // [V1ContainerStatus]
  json::array init_containers;  // "initContainers"
  json::value pod_ip;           // "podIP" (our extension; null when unknown)
  // "events" (our extension, omitted when empty): what happened to the pod's containers in
  // the backend that the kubelet would post as Events (probe failures, hook failures,
  // kills). Each entry {"container","type","reason","message","count","lastTimestamp"} is
  // one distinct (container, reason, message); the sidecar raises `count` each time it
  // happens again and keeps the newest entries only (api::kMaxStatusEvents). The vk posts
  // an Event whenever an entry's count grows.
  json::array events;
};

constexpr size_t kMaxStatusEvents = 20;

// ContainerLogOpts: kubelet log options with upstream's keys (note "Bytes").
struct ContainerLogOpts {
  int64_t tail = 0;           // "Tail"
  int64_t limit_bytes = 0;    // "Bytes"
  bool timestamps = false;    // "Timestamps"
  bool follow = false;        // "Follow"
  bool previous = false;      // "Previous"
  int64_t since_seconds = 0;  // "SinceSeconds"
  std::string since_time;     // "SinceTime", RFC 3339; empty = unset
};

// LogStruct: /getLogs request.
struct LogRequest {
  std::string ns;         // "Namespace"
  std::string pod_uid;    // "PodUID"
  std::string pod_name;   // "PodName"
  std::string container;  // "ContainerName"
  ContainerLogOpts opts;  // "Opts"
};

// PingResponse: what /pinglink (and a sidecar's /status with []) returns.
struct PingResponse {
  std::string status;       // "status", e.g. "ok"
  json::object resources;   // {"cpu","memory","pods","accelerators":[{"resourceType","available"}]}
  json::array taints;       // [{"key","value","effect"}]
  bool has_taints = false;  // "taints" present (even []) replaces the node's taints
  // interlink-cpp extensions the plugin implements, by name (stream_backend.h), e.g.
  // {"interlink-cpp.io/streaming":{"version":"v1","operations":["exec","attach",...]}}.
  // Not an upstream field: upstream plugins never send it, upstream readers ignore it.
  json::object extensions;
};
// Whether a ping reply advertises the streaming extension for `op` (exec, attach,
// portforward).
bool SupportsStreaming(const PingResponse& p, std::string_view op);

Result<PodCreateRequests> ParsePodCreateRequests(const json::value& v);
json::value ToJson(const PodCreateRequests& r);
Result<RetrievedPodData> ParseRetrievedPodData(const json::value& v);
json::value ToJson(const RetrievedPodData& d);
Result<CreateResult> ParseCreateResult(const json::value& v);
json::value ToJson(const CreateResult& c);
Result<PodStatus> ParsePodStatus(const json::value& v);
json::value ToJson(const PodStatus& s);
Result<std::vector<PodStatus>> ParsePodStatusList(const json::value& v);
json::value ToJson(const std::vector<PodStatus>& list);
Result<LogRequest> ParseLogRequest(const json::value& v);
json::value ToJson(const LogRequest& r);
Result<PingResponse> ParsePingResponse(const json::value& v);
json::value ToJson(const PingResponse& p);

// Parses text as JSON; kInvalidArgument on failure. `sp` chooses the memory resource:
// a request-scoped json::monotonic_resource makes large bodies (10,000-pod status
// lists) cheap to parse and free, as long as nothing parsed outlives the request.
Result<json::value> ParseJson(std::string_view text, json::storage_ptr sp = {});

// Validates a log request as upstream does (namespace, uid, container name; exclusive
// options Tail/Bytes and SinceSeconds/SinceTime).
Status ValidateLogRequest(const LogRequest& r);

bool IsSafeUid(std::string_view s);  // [A-Za-z0-9-_.]{1,128}, no leading dot

}  // namespace il::api

namespace il::api {
// Reads the pods of a request body in any of the shapes seen on the wire: a list of pods
// (today's /status), one pod (today's /delete), or the seed's {"pods": {"<key>": pod}}.
// Every pod is validated. The pods are on the default resource whatever `v` is on (a
// request's arena): a backend may keep them.
Result<std::vector<json::value>> ParsePodList(const json::value& v);
}  // namespace il::api
