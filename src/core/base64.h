// Base64 (RFC 4648) for Secret data, kubeconfig `-data` fields and files embedded in
// Slurm job scripts: one implementation for every module.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace il {

// Standard alphabet with padding; when line_length > 0, a '\n' follows every
// line_length output characters (and ends the text), as `base64 -d` expects in heredocs.
std::string Base64Encode(std::string_view data, size_t line_length = 0);
// Decodes the standard or URL-safe alphabet; padding optional, whitespace ignored.
// Bad characters or a truncated quantum -> kInvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

// URL-safe alphabet without padding (RFC 4648 §5), as JWS and JWK use.
std::string Base64UrlEncode(std::string_view data);
// Strict inverse of Base64UrlEncode for untrusted input (JWTs): only the URL-safe
// alphabet, no padding, no whitespace, zero trailing bits, so every byte string has
// exactly one accepted encoding. Anything else -> kInvalidArgument.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace il
