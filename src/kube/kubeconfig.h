// Where the Kubernetes API server is and how to authenticate to it.
//
// ClusterConfig is the plain result; three loaders fill it:
//   LoadKubeconfig       a kubeconfig file (clusters / users / contexts, current-context)
//   InClusterConfig      the pod's service account (KUBERNETES_SERVICE_HOST/PORT, token, ca.crt)
//   ResolveClusterConfig the vk's order: --kubeconfig flag, CUSTOMKUBECONF, KUBECONFIG,
//                        in-cluster, ~/.kube/config.
//
// Supported kubeconfig fields: cluster.server (with or without port; https default 443),
// certificate-authority[-data], insecure-skip-tls-verify, tls-server-name;
// user.client-certificate[-data], client-key[-data], token, tokenFile; context.cluster,
// context.user, context.namespace. File paths are resolved against the kubeconfig's
// directory; `-data` fields are base64 and land as PEM in TlsOptions::{ca,cert,key}_pem.
// Unsupported auth (exec, auth-provider, username/password) is an InvalidArgument error
// rather than a silent anonymous client. Errors name the file and the field.
//
// Thread-safety: pure functions over their inputs and the filesystem.
#pragma once

#include <string>

#include "core/config.h"  // EnvLookup, ProcessEnv
#include "core/http.h"
#include "core/status.h"

namespace il::kube {

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

struct ClusterConfig {
  // Base URL of the API server, e.g. "https://10.0.0.1:6443" (no trailing slash).
  std::string server;
  // CA / client certificate / insecure flag for the API server connection.
  http::TlsOptions tls;
  // Static bearer token (kubeconfig `token`). Never logged.
  std::string token;
  // Bearer token file (kubeconfig `tokenFile`, in-cluster service-account token). Re-read
  // periodically by KubeClient so rotated tokens keep working; wins over `token`.
  std::string token_file;
  // Client-side rate limit (token bucket): sustained requests per second and burst.
  double qps = 50;
  int burst = 100;
  // Sent as User-Agent; empty means "interlink-cpp".
  std::string user_agent;
  // The context's namespace ("" when not set); in-cluster: the pod's namespace.
  std::string default_namespace;
  // Human-readable origin for logs: "kubeconfig /x/config context=kind" or "in-cluster".
  std::string source;
};

// Loads `path`; `context` empty means current-context (an error if that is unset too).
Result<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// Same from YAML text; `base_dir` resolves relative file paths and `source_name` is the
// name used in error messages.
Result<ClusterConfig> ParseKubeconfig(const std::string& yaml, const std::string& base_dir,
                                      const std::string& context, const std::string& source_name);

// The pod's own service account. NotFound when not running in a cluster
// (KUBERNETES_SERVICE_HOST/PORT unset or no token file under `service_account_dir`).
Result<ClusterConfig> InClusterConfig(const EnvLookup& env = ProcessEnv,
                                      const std::string& service_account_dir = kServiceAccountDir);

// Resolution order: `kubeconfig_flag` if non-empty; else $CUSTOMKUBECONF; else $KUBECONFIG
// (the first existing entry of a ':'-separated list; lists are not merged); else in-cluster;
// else $HOME/.kube/config. An explicitly named file that is missing is an error (no fallback).
Result<ClusterConfig> ResolveClusterConfig(
    const std::string& kubeconfig_flag, const EnvLookup& env = ProcessEnv,
    const std::string& service_account_dir = kServiceAccountDir);

}  // namespace il::kube
