// Declared configuration keys and the one generic loader behind every component's settings.
//
// A component (interlink, vk, a sidecar) declares its keys in one table of Key<T>: the key's
// name, its aliases (the seed's and upstream's spellings), the environment variables that
// set it, its type, default and doc string, and a setter into the component's own settings
// struct T. LoadSettings fills T from, lowest precedence first, the file (a YAML or JSON
// mapping), the environment and flag values. A file key that is not the component's own is
// ignored when another component declares it (the shared InterLinkConfig.yaml), and is an
// error naming the closest known key otherwise.
//
// Thread-safety: tables are immutable values; loading touches only the output struct.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace il::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// What a key is: for suggestions, for telling a foreign key from a typo, and for the docs.
struct KeyInfo {
  std::string name;                  // canonical name in the file: "InterlinkURL"
  std::vector<std::string> aliases;  // also accepted in the file: "InterlinkAddress"
  std::vector<std::string> env;      // environment variables; a later one wins
  std::string type;  // string | bool | int | port | number | duration | list | map | block
  std::string def;   // default as documented ("" for none)
  std::string doc;   // one line
  std::vector<std::string> subkeys;  // for a block: the keys inside it ("Enabled", ...)
};
// A name "Block.Sub" declares one sub-key of a block on its own, for the environment
// variables that set it (KubeletHTTP.ClientCAFile: APISERVER_CA_CERT_LOCATION); the file
// still sets it inside the block, never as a top-level key.
inline bool IsSubKey(const KeyInfo& k) { return k.name.find('.') != std::string::npos; }

// Where a value comes from, for error messages: "file.yaml: key 'TLS.CertFile': ...".
struct Where {
  std::string origin;  // file path, "environment" or "flags"
  std::string key;     // key or variable name as written
  Status Error(const std::string& what) const {
    return InvalidArgument(origin + ": key '" + key + "': " + what);
  }
  Where Sub(const std::string& sub) const { return {origin, key + "." + sub}; }
};

// Sets a key of the settings struct T from the file's YAML node, or from a scalar node holding
// the environment or flag string.
template <class T>
using Setter = std::function<Status(const YAML::Node& value, const Where& where, T* out)>;

template <class T>
struct Key {
  KeyInfo info;
  Setter<T> set;
};

// Builds one table row: MakeKey<C>(name, aliases, env, type, default, doc, setter[, subkeys]).
// A function object rather than a function template, so that `const auto& k = MakeKey<C>;`
// gives a table a short name that keeps the default `subkeys`.
template <class T>
struct KeyMaker {
  Key<T> operator()(std::string name, std::vector<std::string> aliases,
                    std::vector<std::string> env, std::string type, std::string def,
                    std::string doc, Setter<T> set, std::vector<std::string> subkeys = {}) const {
    return Key<T>{KeyInfo{std::move(name), std::move(aliases), std::move(env), std::move(type),
                          std::move(def), std::move(doc), std::move(subkeys)},
                  std::move(set)};
  }
};
template <class T>
inline constexpr KeyMaker<T> MakeKey{};

// Scalar conversions shared by the setters (errors name `w.key`).
Result<std::string> ScalarOf(const YAML::Node& n, const Where& w);  // null -> ""
Result<bool> BoolOf(const YAML::Node& n, const Where& w);           // true/yes/1/on, ""=false
Result<long long> IntOf(const YAML::Node& n, const Where& w, long long min, long long max);
Result<double> NumberOf(const YAML::Node& n, const Where& w, double min, double max);
// A YAML list of scalars, or one scalar as a one-entry list.
Result<std::vector<std::string>> ListOf(const YAML::Node& n, const Where& w);

// Setter helpers for the common cases.
template <class T>
auto SetString(std::string T::*m, bool keep_default_when_empty = false) {
  return [m, keep_default_when_empty](const YAML::Node& n, const Where& w, T* out) -> Status {
    IL_ASSIGN_OR_RETURN(std::string v, ScalarOf(n, w));
    if (!v.empty() || !keep_default_when_empty) out->*m = std::move(v);
    return Status::Ok();
  };
}
template <class T>
auto SetBool(bool T::*m) {
  return [m](const YAML::Node& n, const Where& w, T* out) -> Status {
    IL_ASSIGN_OR_RETURN(out->*m, BoolOf(n, w));
    return Status::Ok();
  };
}
// Integers: an empty value keeps the current one.
template <class T, class I>
auto SetInt(I T::*m, long long min, long long max) {
  return [m, min, max](const YAML::Node& n, const Where& w, T* out) -> Status {
    IL_ASSIGN_OR_RETURN(std::string v, ScalarOf(n, w));
    if (v.empty()) return Status::Ok();
    IL_ASSIGN_OR_RETURN(long long x, IntOf(n, w, min, max));
    out->*m = static_cast<I>(x);
    return Status::Ok();
  };
}
template <class T>
auto SetList(std::vector<std::string> T::*m) {
  return [m](const YAML::Node& n, const Where& w, T* out) -> Status {
    IL_ASSIGN_OR_RETURN(out->*m, ListOf(n, w));
    return Status::Ok();
  };
}
// Accepted for compatibility, no effect.
template <class T>
auto Ignore() {
  return [](const YAML::Node&, const Where&, T*) { return Status::Ok(); };
}

// A YAML value as text: a scalar as written, a list or mapping as YAML ("" for null), the
// form in which the loader keeps a sidecar's settings (InterLinkConfig::sidecar_settings).
std::string TextOf(const YAML::Node& n);

// Applies settings kept as text (name -> value, e.g. InterLinkConfig::sidecar_settings)
// through the table's setters, each value as a scalar node. A name that is neither a key nor
// an alias of the table is an error naming `component`.
template <class T>
Status ApplyText(const std::vector<Key<T>>& table, const std::map<std::string, std::string>& text,
                 const std::string& component, T* out) {
  for (const auto& [name, value] : text) {
    const Key<T>* key = nullptr;
    for (const auto& k : table) {
      bool alias = false;
      for (const auto& a : k.info.aliases) alias = alias || a == name;
      if (k.info.name == name || alias) {
        key = &k;
        break;
      }
    }
    const Where w{component + " settings", name};
    if (!key) return w.Error("not a key of " + component);
    IL_RETURN_IF_ERROR(key->set(YAML::Node(value), w, out));
  }
  return Status::Ok();
}

// The key information of a table.
template <class T>
std::vector<KeyInfo> InfoOf(const std::vector<Key<T>>& table) {
  std::vector<KeyInfo> out;
  out.reserve(table.size());
  for (const auto& k : table) out.push_back(k.info);
  return out;
}

// The keys of one component, by name, as the catalog and --dump-config-keys list them.
struct Component {
  std::string name;  // "interlink", "vk", "slurm-sd", ...
  std::vector<KeyInfo> keys;
};

// Edit distance (case-insensitive) and the closest name within distance 3 ("" if none).
size_t EditDistance(const std::string& a, const std::string& b);
std::string Closest(const std::string& key, const std::vector<std::string>& names);

// What to load: the file's parsed root (null: no file), its name, the environment, and flag
// values as (key name, value), applied last.
struct Sources {
  YAML::Node file;
  std::string origin;
  EnvLookup env;
  bool empty_env_is_unset = false;  // VAR= counts as not set
  std::vector<std::pair<std::string, std::string>> flags;
};

// Parses YAML/JSON text into a mapping (or null for empty text); `origin` names it in errors.
Result<YAML::Node> ParseDocument(const std::string& text, const std::string& origin);
// Reads and parses a file; kNotFound when it cannot be read.
Result<YAML::Node> ReadDocument(const std::string& path);

namespace internal {
struct ErasedKey {
  const KeyInfo* info;
  std::function<Status(const YAML::Node&, const Where&)> set;
};
Status Load(const std::vector<ErasedKey>& own, const std::vector<KeyInfo>& foreign,
            const Sources& src);
}  // namespace internal

// Fills `out` from `src`: file keys in file order, then environment variables, then flags.
// `foreign`: keys of the other components sharing the file (ignored when met).
template <class T>
Status LoadSettings(const std::vector<Key<T>>& own, const std::vector<KeyInfo>& foreign,
                    const Sources& src, T* out) {
  std::vector<internal::ErasedKey> keys;
  keys.reserve(own.size());
  for (const auto& k : own) {
    keys.push_back(
        {&k.info, [&k, out](const YAML::Node& n, const Where& w) { return k.set(n, w, out); }});
  }
  return internal::Load(keys, foreign, src);
}

// One line per key: component, name, aliases, env vars, type, default, doc, tab-separated
// (lists comma-separated), for docs checks and `--dump-config-keys`.
std::string DumpKeys(const std::vector<Component>& components);

}  // namespace il::config
