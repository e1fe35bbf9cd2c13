// PodPlan: a pod turned into the Docker Engine API create bodies of its containers
// (POST /containers/create: Config + HostConfig + NetworkingConfig, API 1.41).
//
// A pod with more than one container (init containers included), or with
// shareProcessNamespace, gets a sandbox container first (the static il-pause program in a
// tiny local image) holding the network, IPC and optionally PID namespace; the others join
// it with NetworkMode container:<sandbox>. A pod with a single container needs no sandbox: that
// container holds its own namespaces. The sandbox uses DockerNetwork (default "none", i.e.
// loopback only) or the host network when spec.hostNetwork is set.
//
// Names: <ContainerPrefix><namespace>_<pod>_<container>_<uid> ("POD" for the sandbox, which
// no DNS-1123 container name can equal), so names never collide between pods or pod UIDs.
// A name longer than kMaxDockerNameLength (a 253-character pod name, say) keeps its uid
// and gets the rest cut and a hash of the whole appended (api/bounded_name.h); labels keep
// the full Kubernetes names, since Docker puts no limit on label values.
// Labels: io.kubernetes.pod.{uid,namespace,name}, io.kubernetes.container.name,
// interlink.docker-sd.{instance,role}.
//
// Every value from the pod spec becomes exactly one JSON string of the body (Entrypoint,
// Cmd, WorkingDir, Image, a label, a mount path); nothing is interpreted by a shell.
// Environment values are not in the stored body: they go into a 0600 JSON file in the pod's
// private directory and into the body's Env only for the create call (AddEnv in pod_plan.cc).
// BuildPodPlan and the JSON round trip are pure; thread-safety: plain values.
#pragma once

#include <string>
#include <vector>

#include "api/types.h"
#include "core/status.h"
#include "sidecars/docker/docker_settings.h"
#include "sidecars/docker/pod_sources.h"
#include "sidecars/docker/pod_volumes.h"

namespace il::docker {

enum class Role { kSandbox, kInit, kApp };
std::string_view RoleName(Role r);

struct ContainerPlan {
  Role role = Role::kApp;
  std::string name;         // Kubernetes container name ("POD" for the sandbox)
  std::string docker_name;  // unique container name
  std::string image;        // image as the pod spec names it
  // POST /containers/create body without Env (ContainerPlan::env_file adds it).
  api::json::object create_body;
  std::string pull_policy;  // Always | IfNotPresent | Never
  // A plan stored by a docker-sd that ran `docker run` (state rows with runArgs): kept for
  // the record; such a container is only started or removed by name, never created again.
  std::vector<std::string> legacy_run_args;
  // Bind sources to check again before every start (pod_volumes.h, bind_source.h).
  std::vector<BindCheck> bind_checks;
  // 0600 JSON array of "NAME=value" (the body's Env); "" when the container has none.
  std::string env_file;
  // The kubelet-facing parts of the container spec docker-sd itself acts on, kept whole so
  // api::ParseProbes/ParseLifecycle read them: startupProbe, livenessProbe, readinessProbe,
  // lifecycle, ports, terminationMessagePolicy (null when none of them is set).
  api::json::value supervision;
  // Host file bind-mounted at terminationMessagePath (init and app containers; "" for the
  // sandbox): <pod dir>/termination/<container>, mode 0666, read after the container exits.
  std::string termination_file;
  bool fallback_to_logs = false;  // terminationMessagePolicy: FallbackToLogsOnError
};

struct PodPlan {
  std::string uid, ns, name;
  std::string restart_policy = "Always";  // Always | OnFailure | Never
  int64_t grace_seconds = 30;             // spec.terminationGracePeriodSeconds (probe kills)
  std::vector<ContainerPlan> containers;  // sandbox (if any), init containers in order, apps
  // The env file of each container that has an environment: written 0600 into the pod's
  // private directory by the backend, never stored in the state file.
  std::vector<PlannedFile> env_files;
  // The empty termination message files (ContainerPlan::termination_file), mode 0666.
  std::vector<PlannedFile> termination_files;

  const ContainerPlan* Sandbox() const;
  // Docker name of the container holding the pod's namespaces; also the pod's job id.
  std::string NamespaceHolder() const;
  std::vector<const ContainerPlan*> WithRole(Role r) const;
  std::vector<std::string> DockerNames() const;  // all of them, in plan order
};

constexpr char kLabelPodUid[] = "io.kubernetes.pod.uid";
constexpr char kLabelInstance[] = "interlink.docker-sd.instance";

// `instance_id` scopes the containers to one docker-sd state (reconciliation, orphans).
Result<PodPlan> BuildPodPlan(const PodSources& sources, const VolumePlan& volumes,
                             const DockerSettings& settings, const std::string& instance_id);

// Docker itself has no limit, but names end up in `docker ps`, logs and /etc/hosts-like
// places; 100 keeps the uid and about 50 readable characters of namespace_pod_container.
inline constexpr size_t kMaxDockerNameLength = 100;
std::string DockerName(const std::string& prefix, const std::string& ns, const std::string& pod,
                       const std::string& container, const std::string& uid);

// "Always" for untagged or :latest images, else "IfNotPresent" (the API server's default).
std::string DefaultPullPolicy(const std::string& image);

api::json::value ToJson(const PodPlan& plan);
Result<PodPlan> PodPlanFromJson(const api::json::value& v);

}  // namespace il::docker
