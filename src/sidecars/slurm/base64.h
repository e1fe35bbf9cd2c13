// Base64 (RFC 4648, standard alphabet) for Secret data and for files embedded in job
// scripts. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace il::slurm {

// Encodes; when line_length > 0, inserts '\n' every line_length output characters
// (and at the end), as `base64 -d` expects for heredocs.
std::string Base64Encode(std::string_view data, size_t line_length = 0);
// Decodes, ignoring whitespace; bad characters or padding -> kInvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace il::slurm
