// Shell quoting and splitting for the Slurm job script.
//
// Everything that comes from a pod (env values, command and args, paths, annotation
// flags) reaches the generated script only through ShellQuote, so a value with quotes,
// newlines, `$`, backticks or NUL-free binary text arrives in the program exactly as the
// pod spelled it. ShellSplit is the inverse used for annotations that carry option
// lists (`slurm-job.vk.io/flags`, `.../singularity-options`): it understands POSIX
// single quotes, double quotes with backslash escapes, and backslash escapes; it never
// expands anything.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace il::slurm {

// One shell word that expands to exactly `s` (bash and POSIX sh). Plain words made of
// [A-Za-z0-9_@%+:,./-] are returned as they are; anything else is single-quoted, with
// embedded single quotes written as '\''. NUL bytes cannot be passed through a shell
// and are rejected by the callers before quoting (see HasNul).
std::string ShellQuote(std::string_view s);
// Quotes every element and joins them with spaces.
std::string ShellJoin(const std::vector<std::string>& argv);
// Splits like a POSIX shell without expansions. Unterminated quotes -> kInvalidArgument.
Result<std::vector<std::string>> ShellSplit(std::string_view s);
// True for names a shell can assign: [A-Za-z_][A-Za-z0-9_]*.
bool IsShellIdentifier(std::string_view s);
bool HasNul(std::string_view s);
// True when s holds a newline or carriage return (never allowed in #SBATCH lines).
bool HasLineBreak(std::string_view s);

}  // namespace il::slurm
