// ScanStatusList: splits interLink's /status reply (a JSON list of PodStatus objects) into
// the text of each entry and its top-level "UID", without building JSON values.
//
// The pod controller hashes each entry's text and parses only the entries whose hash
// changed since the last round, so a steady sync of 10,000 running pods costs a scan of
// the reply instead of a full parse and a deep compare.
//
// Thread-safety: pure function.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"

namespace il::vk {

struct ScannedEntry {
  std::string_view text;     // the whole object, braces included
  std::string_view uid;      // the top-level "UID" string (raw, escapes not decoded); may be empty
  bool uid_escaped = false;  // the UID contained an escape: parse the entry to read it
};

// `null` is an empty list. kInvalidArgument (with the offset) for anything that is not a
// list of objects with well-formed strings and balanced brackets.
Status ScanStatusList(std::string_view text, std::vector<ScannedEntry>* out);

}  // namespace il::vk
