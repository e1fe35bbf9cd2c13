// Names derived from Kubernetes names (Docker container names, Slurm job names, podman
// names, Event names, file names) for backends whose limits are tighter than the 253
// characters a pod name may have.
//
// A name that fits is returned unchanged, so nothing changes for ordinary pods and stored
// names stay valid across upgrades. A name that does not fit is cut and ends in "-" plus a
// hash of the whole original, so two long names sharing a long prefix (upstream #536:
// names cut to 60 characters collided) stay distinct, and the same input always gives the
// same name. Characters are not touched: callers pass names already valid for the backend
// (Kubernetes names are), and cutting only drops trailing '-', '.' and '_' before the hash,
// so a DNS-1123 subdomain stays one and a Docker name stays `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace il::api {

// Length of NameHash(): 12 hex digits (48 bits of SHA-256).
inline constexpr size_t kNameHashLength = 12;
// Shortest `max` the functions below accept: "x-" + hash.
inline constexpr size_t kMinBoundedName = kNameHashLength + 2;

// Lower-case hex of the first bytes of SHA-256(s).
std::string NameHash(std::string_view s);

// `s` when s.size() <= max; else a prefix of `s`, "-", NameHash(s), at most `max` long.
// `max` must be at least kMinBoundedName (a smaller one is a programming error).
std::string BoundedName(std::string_view s, size_t max);

// head + tail when that fits in `max`; else BoundedName of head with the hash taken over
// head + tail, followed by `tail` unchanged, so an identifying suffix (a pod UID) stays
// readable. When even `tail` leaves no room, BoundedName(head + tail, max).
std::string BoundedName(std::string_view head, std::string_view tail, size_t max);

}  // namespace il::api
