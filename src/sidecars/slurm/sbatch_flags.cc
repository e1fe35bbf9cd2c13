#include "sidecars/slurm/sbatch_flags.h"

#include <algorithm>
#include <map>
#include <set>

#include "sidecars/slurm/shell.h"

namespace il::slurm {
namespace {

const std::map<char, std::string>& ShortAliases() {
  static const std::map<char, std::string> m = {
      {'A', "account"},       {'C', "constraint"}, {'D', "chdir"},          {'G', "gpus"},
      {'J', "job-name"},      {'N', "nodes"},      {'c', "cpus-per-task"},  {'n', "ntasks"},
      {'o', "output"},        {'e', "error"},      {'p', "partition"},      {'t', "time"},
      {'w', "nodelist"},      {'q', "qos"},        {'x', "exclude"},        {'a', "array"},
      {'d', "dependency"},    {'i', "input"},      {'k', "no-kill"},        {'m', "distribution"},
      {'s', "oversubscribe"}, {'S', "core-spec"},  {'H', "hold"},           {'L', "licenses"},
      {'M', "clusters"},      {'F', "nodefile"},   {'B', "extra-node-info"}};
  return m;
}

// Options that exclude each other: setting one drops the others.
const std::vector<std::set<std::string>>& ConflictGroups() {
  static const std::vector<std::set<std::string>> g = {
      {"mem", "mem-per-cpu", "mem-per-gpu"},
      {"gpus", "gpus-per-node", "gpus-per-task", "gpus-per-socket", "gres-gpu"},
  };
  return g;
}

bool Conflicts(const std::string& a, const std::string& b) {
  if (a == b) return true;
  for (const auto& g : ConflictGroups()) {
    if (g.count(a) && g.count(b)) return true;
  }
  return false;
}

std::string QuoteForSbatch(const std::string& w) {
  bool plain = !w.empty() && w.find_first_of(" \t\"\\'#") == std::string::npos;
  if (plain) return w;
  std::string r = "\"";
  for (char c : w) {
    if (c == '"' || c == '\\') r.push_back('\\');
    r.push_back(c);
  }
  return r + "\"";
}

// Short options of sbatch 22.05 and whether they take an argument (attached or next word).
struct ShortOption {
  const char* name;
  bool argument;
};
const std::map<char, ShortOption>& ShortOptions() {
  static const std::map<char, ShortOption> m = {
      {'A', {"account", true}},   {'a', {"array", true}},          {'B', {"extra-node-info", true}},
      {'b', {"begin", true}},     {'c', {"cpus-per-task", true}},  {'C', {"constraint", true}},
      {'D', {"chdir", true}},     {'d', {"dependency", true}},     {'e', {"error", true}},
      {'F', {"nodefile", true}},  {'G', {"gpus", true}},           {'H', {"hold", false}},
      {'h', {"help", false}},     {'i', {"input", true}},          {'I', {"immediate", true}},
      {'J', {"job-name", true}},  {'k', {"no-kill", false}},       {'L', {"licenses", true}},
      {'M', {"clusters", true}},  {'m', {"distribution", true}},   {'N', {"nodes", true}},
      {'n', {"ntasks", true}},    {'O', {"overcommit", false}},    {'o', {"output", true}},
      {'p', {"partition", true}}, {'Q', {"quiet", false}},         {'q', {"qos", true}},
      {'S', {"core-spec", true}}, {'s', {"oversubscribe", false}}, {'t', {"time", true}},
      {'V', {"version", false}},  {'v', {"verbose", false}},       {'W', {"wait", false}},
      {'w', {"nodelist", true}},  {'x', {"exclude", true}}};
  return m;
}

// The long option names one word of a directive sets; "" for a malformed word.
std::vector<std::string> OptionNames(const std::string& w, bool* long_form) {
  *long_form = w.rfind("--", 0) == 0;
  if (*long_form) {
    std::string name =
        w.substr(2, w.find('=') == std::string::npos ? std::string::npos : w.find('=') - 2);
    return {name};
  }
  std::vector<std::string> names;
  for (size_t i = 1; i < w.size(); ++i) {
    auto it = ShortOptions().find(w[i]);
    if (it == ShortOptions().end()) return {""};
    names.push_back(it->second.name);
    if (it->second.argument) break;  // the rest of the word is its value
  }
  if (names.empty()) names.push_back("");
  return names;
}

// True when `given` (possibly an abbreviation, as getopt_long accepts) can mean `option`.
bool CanMean(const std::string& given, const std::string& option, bool long_form) {
  if (!long_form) return given == option;
  return !given.empty() && option.compare(0, given.size(), given) == 0;
}

}  // namespace

const std::vector<std::string>& LockedSbatchOptions() {
  static const std::vector<std::string> k = {
      "account",  "partition",    "qos",   "reservation", "uid",         "gid",    "output",
      "error",    "input",        "chdir", "export",      "export-file", "wrap",   "array",
      "job-name", "get-user-env", "wait",  "help",        "usage",       "version"};
  return k;
}

Status CheckPodFlags(const std::vector<SbatchFlag>& flags, const std::vector<std::string>& allow,
                     const std::vector<std::string>& deny) {
  for (const auto& f : flags) {
    if (f.words.empty()) continue;
    bool long_form = false;
    for (const auto& name : OptionNames(f.words[0], &long_form)) {
      if (name.empty()) {
        return InvalidArgument("Slurm flag '" + f.words[0] + "' is not an option slurm-sd knows");
      }
      for (const auto& locked : LockedSbatchOptions()) {
        if (CanMean(name, locked, long_form)) {
          return InvalidArgument("Slurm option --" + locked + " (from '" + f.words[0] +
                                 "') is set by the site and can never come from a pod");
        }
      }
      for (const auto& d : deny) {
        if (CanMean(name, d, long_form)) {
          return InvalidArgument("Slurm option --" + d + " (from '" + f.words[0] +
                                 "') is refused by slurm-sd's SbatchOptionsDenyList");
        }
      }
      if (!allow.empty() && std::find(allow.begin(), allow.end(), name) == allow.end()) {
        return InvalidArgument("Slurm option '" + f.words[0] +
                               "' is not in slurm-sd's SbatchOptionsAllowList (full names only)");
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<SbatchFlag>> ParseFlagAnnotation(std::string_view text) {
  if (HasNul(text)) return InvalidArgument("flags contain a NUL byte");
  IL_ASSIGN_OR_RETURN(auto words, ShellSplit(text));
  std::vector<SbatchFlag> out;
  for (auto& w : words) {
    if (HasLineBreak(w)) return InvalidArgument("a Slurm flag must not contain a line break");
    if (w.empty()) continue;
    if (w[0] == '-') {
      out.push_back(SbatchFlag{{std::move(w)}});
    } else if (out.empty()) {
      return InvalidArgument("Slurm flags must start with an option, got '" + w + "'");
    } else {
      out.back().words.push_back(std::move(w));
    }
  }
  return out;
}

std::string OptionKey(const SbatchFlag& flag) {
  if (flag.words.empty()) return "";
  const std::string& w = flag.words[0];
  std::string key;
  if (w.rfind("--", 0) == 0) {
    key = w.substr(2, w.find('=') == std::string::npos ? std::string::npos : w.find('=') - 2);
  } else if (w.size() >= 2 && w[0] == '-') {
    auto it = ShortAliases().find(w[1]);
    key = it != ShortAliases().end() ? it->second : w.substr(0, 2);
  } else {
    key = w;
  }
  // --gres=gpu:2 competes with --gpus; other generic resources do not.
  if (key == "gres") {
    std::string value = w.find('=') != std::string::npos ? w.substr(w.find('=') + 1)
                        : flag.words.size() > 1          ? flag.words[1]
                                                         : "";
    if (value.rfind("gpu", 0) == 0) return "gres-gpu";
  }
  return key;
}

void MergeFlags(std::vector<SbatchFlag>& base, const std::vector<SbatchFlag>& layer) {
  for (const auto& f : layer) {
    std::string key = OptionKey(f);
    base.erase(std::remove_if(base.begin(), base.end(),
                              [&](const SbatchFlag& b) { return Conflicts(OptionKey(b), key); }),
               base.end());
    base.push_back(f);
  }
}

std::string RenderSbatchLine(const SbatchFlag& flag) {
  std::string line = "#SBATCH";
  for (const auto& w : flag.words) line += " " + QuoteForSbatch(w);
  return line;
}

}  // namespace il::slurm
