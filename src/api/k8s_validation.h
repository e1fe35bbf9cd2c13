// Kubernetes' own rules for names, namespaces, labels and annotations (apimachinery
// pkg/util/validation and pkg/api/validation, v1.20.2), kept in this one place so that the
// vk, interlink and every sidecar accept exactly what the API server accepts: no more,
// because a backend must not receive what Kubernetes would refuse, and no less, because a
// pod the cluster admitted must never be refused here (issue 13: a 65-character pod name,
// a valid DNS-1123 subdomain, used to be rejected as if it were a label).
//
// Which rule applies to which field (shared/reference/kubelet-behaviour-and-docker-api.md §1):
//   metadata.name (pod)          DNS-1123 subdomain, <= 253, no per-label limit
//   metadata.namespace           DNS-1123 label, <= 63
//   containers[].name, init too  DNS-1123 label, unique across both lists
//   volumes[].name               DNS-1123 label, unique
//   spec.hostname, spec.subdomain DNS-1123 label
//   metadata.labels, nodeSelector qualified-name keys, label values
//   metadata.annotations         qualified-name keys checked lower-cased, total size <= 256 KiB
// Names derived from these for backends with tighter limits come from api/bounded_name.h.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace il::api {

inline constexpr size_t kDns1123LabelMaxLength = 63;
inline constexpr size_t kDns1123SubdomainMaxLength = 253;
inline constexpr size_t kQualifiedNameMaxLength = 63;  // the name part, without prefix
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kTotalAnnotationSizeLimit = size_t{256} * 1024;  // sum of key + value bytes

// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (IsDNS1123Label).
bool IsDnsLabel(std::string_view s);
// Labels as above joined by '.', at most 253 characters in total; a single label of the
// subdomain may be longer than 63 (IsDNS1123Subdomain checks the whole regex, not labels).
bool IsDnsSubdomain(std::string_view s);
// `[prefix/]name`: prefix a DNS-1123 subdomain, name 1-63 of
// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` (IsQualifiedName).
bool IsQualifiedName(std::string_view s);
// Empty, or at most 63 characters matching the qualified name's name part (IsValidLabelValue).
bool IsLabelValue(std::string_view s);

// `labels` is null/absent or an object of strings; keys qualified names, values label values.
// `field` names the field in the error ("metadata.labels", "spec.nodeSelector").
Status ValidateLabels(const boost::json::value* labels, std::string_view field);
// Keys are qualified names once lower-cased; total key+value size within 256 KiB.
Status ValidateAnnotations(const boost::json::value* annotations);

// Everything above that applies to a pod, plus what this project needs to act on one
// safely: a path-safe metadata.uid (IsSafeUid) and images that, when present, are strings.
// An empty namespace is accepted (upstream clients may leave it out; backends use
// "default").
Status ValidatePod(const boost::json::value& pod);

}  // namespace il::api
