// The registry's one table: each executor's name, when it is on, and how it is built.
#include "app/executor_registry.h"

#include "common/log.h"
#include "executor/container/container_executor.h"
#include "executor/sagemaker/sagemaker_executor.h"
#include "executor/slurm/slurm_executor.h"

namespace trainyard::app {
namespace {

using executor::ExecutorPtr;

Result<ExecutorPtr> OpenLocal(const ExecutorSettings& settings) {
  auto local = std::make_unique<executor::LocalExecutor>(settings.local);
  // Now, before anyone asks Describe: the scheduler's recovery asks about every job it had
  // running, and a job that is not adopted yet would look unknown.
  if (settings.local.detach_jobs) TY_RETURN_IF_ERROR(local->AdoptRunningJobs());
  return ExecutorPtr(std::move(local));
}

// The runtime is checked now, so that a missing or broken one stops the server with the
// runtime's own message rather than failing jobs later.
Result<ExecutorPtr> OpenContainer(const ExecutorSettings& settings) {
  auto container = executor::ContainerExecutor::Create(*settings.container);
  if (!container.ok()) return container.status().WithContext("container executor");
  Logger("app").info("executor=container runtime={} version={} work_dir={}",
                     settings.container->runtime, (*container)->runtime_version(),
                     settings.container->work_dir.string());
  // As for the local executor: before the scheduler's recovery asks about its jobs.
  if (settings.container->detach_jobs) {
    if (Status adopted = (*container)->AdoptRunningJobs(); !adopted.ok()) {
      return adopted.WithContext("container executor");
    }
  }
  return ExecutorPtr(std::move(container).value());
}

// Its errors already name the executor ("sagemaker executor: no S3 bucket ...").
Result<ExecutorPtr> OpenSageMaker(const ExecutorSettings& settings) {
  TY_ASSIGN_OR_RETURN(auto sagemaker, executor::SageMakerExecutor::Make(*settings.sagemaker));
  Logger("app").info("executor=sagemaker bucket={} prefix={} role={}", settings.sagemaker->bucket,
                     settings.sagemaker->prefix, settings.sagemaker->role_arn);
  return ExecutorPtr(std::move(sagemaker));
}

// Slurm's commands are looked for now, and the REST transport's settings checked, so that a
// server that cannot reach Slurm stops with that message rather than failing jobs later.
Result<executor::SlurmTransportPtr> OpenSlurmTransport(const SlurmSetup& setup) {
  if (setup.transport == "rest") {
    TY_ASSIGN_OR_RETURN(auto tokens, executor::SlurmTokenSource::Create(setup.tokens));
    executor::SlurmRestOptions rest = setup.rest;
    rest.tokens = std::move(tokens);
    TY_ASSIGN_OR_RETURN(auto transport, executor::SlurmRest::Create(std::move(rest)));
    std::string allowed;
    for (const std::string& user : setup.rest.allowed_users) {
      allowed += (allowed.empty() ? "" : ",") + user;
    }
    Logger("app").info("executor=slurm transport=rest url={} user={} allowed_users={} token={}",
                       setup.rest.url, setup.rest.user, allowed.empty() ? "(none)" : allowed,
                       setup.tokens.jwt_key_file.empty() ? "file" : "minted from the JWT key");
    return executor::SlurmTransportPtr(std::move(transport));
  }
  if (!setup.rest.url.empty() || !setup.tokens.token_file.empty() ||
      !setup.tokens.jwt_key_file.empty() || !setup.rest.allowed_users.empty()) {
    return InvalidArgument(
        "slurm_rest_url, slurm_rest_token_file, slurm_jwt_key_file, slurm_allowed_users: only "
        "with slurm_transport rest");
  }
  TY_ASSIGN_OR_RETURN(auto commands, executor::SlurmCommands::Create(setup.commands));
  return executor::SlurmTransportPtr(std::move(commands));
}

Result<ExecutorPtr> OpenSlurm(const ExecutorSettings& settings) {
  auto transport = OpenSlurmTransport(*settings.slurm);
  if (!transport.ok()) return transport.status().WithContext("slurm executor");
  const executor::SlurmExecutorOptions& options = settings.slurm->executor;
  auto slurm = std::make_unique<executor::SlurmExecutor>(options, std::move(transport).value());
  Logger("app").info("executor=slurm partition={} account={} qos={} work_dir={}",
                     options.site.partition.empty() ? "(default)" : options.site.partition,
                     options.site.account.empty() ? "(default)" : options.site.account,
                     options.site.qos.empty() ? "(default)" : options.site.qos,
                     options.work_dir.string());
  // As for the local executor: before the scheduler's recovery asks about its jobs.
  if (options.detach_jobs && settings.slurm->adopt_at_start) {
    if (Status adopted = slurm->AdoptRunningJobs(); !adopted.ok()) {
      return adopted.WithContext("slurm executor");
    }
  }
  return ExecutorPtr(std::move(slurm));
}

struct Registration {
  const char* name;
  // What turns the executor on, for the refusal of one that is off; null: always on.
  const char* turned_on_by;
  bool (*is_on)(const ExecutorSettings&);
  Result<ExecutorPtr> (*open)(const ExecutorSettings&);
};

// Sorted by name. A new backend (Kubernetes) is one more line here.
constexpr Registration kRegistry[] = {
    {"container", "--container-runtime podman|docker",
     [](const ExecutorSettings& settings) { return settings.container.has_value(); },
     OpenContainer},
    {"local", nullptr, [](const ExecutorSettings&) { return true; }, OpenLocal},
    {"sagemaker", "--sagemaker-role-arn and --sagemaker-bucket",
     [](const ExecutorSettings& settings) { return settings.sagemaker.has_value(); },
     OpenSageMaker},
    {"slurm", "--slurm (or any --slurm-* setting)",
     [](const ExecutorSettings& settings) { return settings.slurm.has_value(); }, OpenSlurm},
};

}  // namespace

std::vector<std::string> KnownExecutors() {
  std::vector<std::string> names;
  for (const Registration& registration : kRegistry) names.push_back(registration.name);
  return names;
}

Result<ExecutorPtr> OpenExecutor(const std::string& name, const ExecutorSettings& settings) {
  for (const Registration& registration : kRegistry) {
    if (name != registration.name) continue;
    if (!registration.is_on(settings)) {
      return FailedPrecondition("the " + name + " executor is off: it needs " +
                                registration.turned_on_by);
    }
    return registration.open(settings);
  }
  std::string known;
  for (const std::string& known_name : KnownExecutors()) {
    known += (known.empty() ? "" : ", ") + known_name;
  }
  return InvalidArgument("unknown executor '" + name + "' (known: " + known + ")");
}

Result<std::map<std::string, ExecutorPtr>> OpenConfiguredExecutors(
    const ExecutorSettings& settings) {
  std::map<std::string, ExecutorPtr> executors;
  for (const Registration& registration : kRegistry) {
    if (!registration.is_on(settings)) continue;
    TY_ASSIGN_OR_RETURN(executors[registration.name], OpenExecutor(registration.name, settings));
  }
  return executors;
}

}  // namespace trainyard::app
