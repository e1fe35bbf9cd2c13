#include "core/config_schema.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace il::config {

Result<std::string> ScalarOf(const YAML::Node& n, const Where& w) {
  if (!n || n.IsNull()) return std::string();
  if (!n.IsScalar()) return w.Error("must be a scalar value");
  return n.Scalar();
}

std::string TextOf(const YAML::Node& n) {
  if (!n || n.IsNull()) return "";
  return n.IsScalar() ? n.Scalar() : YAML::Dump(n);
}

Result<bool> BoolOf(const YAML::Node& n, const Where& w) {
  IL_ASSIGN_OR_RETURN(std::string v, ScalarOf(n, w));
  std::string l = v;
  std::transform(l.begin(), l.end(), l.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (l == "true" || l == "yes" || l == "1" || l == "on") return true;
  if (l == "false" || l == "no" || l == "0" || l == "off" || l.empty()) return false;
  return w.Error("must be true or false, got '" + v + "'");
}

Result<long long> IntOf(const YAML::Node& n, const Where& w, long long min, long long max) {
  IL_ASSIGN_OR_RETURN(std::string v, ScalarOf(n, w));
  long long x = 0;
  try {
    size_t pos = 0;
    x = std::stoll(v, &pos);
    if (pos != v.size()) return w.Error("must be an integer, got '" + v + "'");
  } catch (const std::exception&) {
    return w.Error("must be an integer, got '" + v + "'");
  }
  if (x < min || x > max) {
    return w.Error("must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   ", got " + v);
  }
  return x;
}

Result<double> NumberOf(const YAML::Node& n, const Where& w, double min, double max) {
  IL_ASSIGN_OR_RETURN(std::string v, ScalarOf(n, w));
  double x = 0;
  try {
    size_t pos = 0;
    x = std::stod(v, &pos);
    if (pos != v.size()) return w.Error("must be a number, got '" + v + "'");
  } catch (const std::exception&) {
    return w.Error("must be a number, got '" + v + "'");
  }
  if (!(x >= min && x <= max)) {
    std::ostringstream os;
    os << "must be between " << min << " and " << max << ", got " << v;
    return w.Error(os.str());
  }
  return x;
}

Result<std::vector<std::string>> ListOf(const YAML::Node& n, const Where& w) {
  std::vector<std::string> out;
  if (!n || n.IsNull()) return out;
  if (n.IsScalar()) {  // one entry written without a list
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) return w.Error("must be a list of strings");
  for (const auto& e : n) {
    if (!e.IsScalar()) return w.Error("must be a list of strings");
    out.push_back(e.Scalar());
  }
  return out;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Closest(const std::string& key, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = 4;
  for (const auto& k : names) {
    size_t d = EditDistance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

Result<YAML::Node> ParseDocument(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": invalid YAML: " + e.what());
  }
  if (!root.IsDefined() || root.IsNull()) return YAML::Node();
  if (!root.IsMap()) return InvalidArgument(origin + ": top level must be a mapping of keys");
  return root;
}

Result<YAML::Node> ReadDocument(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read config file " + path);
  std::string text(std::istreambuf_iterator<char>(in), {});
  return ParseDocument(text, path);
}

namespace internal {
namespace {

// Sub-keys declared on their own (IsSubKey) are set by their environment variables only.
const ErasedKey* Find(const std::vector<ErasedKey>& keys, const std::string& name) {
  for (const auto& k : keys) {
    if (IsSubKey(*k.info)) continue;
    if (k.info->name == name) return &k;
    for (const auto& a : k.info->aliases) {
      if (a == name) return &k;
    }
  }
  return nullptr;
}

bool Declared(const std::vector<KeyInfo>& keys, const std::string& name) {
  for (const auto& k : keys) {
    if (IsSubKey(k)) continue;
    if (k.name == name || std::find(k.aliases.begin(), k.aliases.end(), name) != k.aliases.end()) {
      return true;
    }
  }
  return false;
}

std::string Suggestion(const std::vector<ErasedKey>& own, const std::vector<KeyInfo>& foreign,
                       const std::string& key) {
  std::vector<std::string> names;
  for (const auto& k : own) {
    if (!IsSubKey(*k.info)) names.push_back(k.info->name);
  }
  for (const auto& k : foreign) {
    if (!IsSubKey(k)) names.push_back(k.name);
  }
  std::string best = Closest(key, names);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

}  // namespace

Status Load(const std::vector<ErasedKey>& own, const std::vector<KeyInfo>& foreign,
            const Sources& src) {
  if (src.file && !src.file.IsNull()) {
    if (!src.file.IsMap()) {
      return InvalidArgument(src.origin + ": top level must be a mapping of keys");
    }
    try {
      for (const auto& kv : src.file) {
        const std::string name = kv.first.as<std::string>();
        const Where w{src.origin, name};
        if (const ErasedKey* k = Find(own, name)) {
          IL_RETURN_IF_ERROR(k->set(kv.second, w));
        } else if (!Declared(foreign, name)) {
          return w.Error("unknown key" + Suggestion(own, foreign, name));
        }
      }
    } catch (const YAML::Exception& e) {
      return InvalidArgument(src.origin + ": " + e.what());
    }
  }
  if (src.env) {
    for (const auto& k : own) {
      for (const auto& var : k.info->env) {
        auto v = src.env(var);
        if (!v || (src.empty_env_is_unset && v->empty())) continue;
        IL_RETURN_IF_ERROR(k.set(YAML::Node(*v), Where{"environment", var}));
      }
    }
  }
  for (const auto& [name, value] : src.flags) {
    const ErasedKey* k = Find(own, name);
    if (!k) return InvalidArgument("flags: no key '" + name + "'");
    IL_RETURN_IF_ERROR(k->set(YAML::Node(value), Where{"flags", name}));
  }
  return Status::Ok();
}

}  // namespace internal

std::string DumpKeys(const std::vector<Component>& components) {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  std::string out;
  for (const auto& c : components) {
    for (const auto& k : c.keys) {
      out += c.name + "\t" + k.name + "\t" + join(k.aliases) + "\t" + join(k.env) + "\t" + k.type +
             "\t" + k.def + "\t" + join(k.subkeys) + "\t" + k.doc + "\n";
    }
  }
  return out;
}

}  // namespace il::config
