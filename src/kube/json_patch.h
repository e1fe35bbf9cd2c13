// JSON merge patch (RFC 7386) and JSON patch (RFC 6902: add, remove, replace, test) on
// boost::json values. Used by FakeKubeApi; handy for callers that want to predict the
// result of a patch.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/value.hpp>

#include "core/status.h"

namespace il::kube {

// Merges `patch` into `target`: null members delete, objects merge, anything else replaces.
void ApplyMergePatch(boost::json::value& target, const boost::json::value& patch);
// Applies an array of operations; on error `target` may be partly modified.
Status ApplyJsonPatch(boost::json::value& target, const boost::json::value& ops);

}  // namespace il::kube
