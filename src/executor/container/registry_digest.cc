#include "executor/container/registry_digest.h"

#include <cctype>
#include <vector>

#include "common/environment.h"
#include "executor/container/image_puller.h"
#include "executor/container/runtime_process.h"

namespace trainyard::executor {

bool PinnableReference(const std::string& reference) {
  const std::string host = RegistryHostOf(reference);
  return !host.empty() && host != "localhost" && reference.find('@') == std::string::npos;
}

Result<std::string> PinToRegistryDigest(const RegistryInspector& inspector,
                                        const std::string& reference) {
  std::vector<std::string> argv = {inspector.skopeo.string()};
  // podman reads CONTAINERS_REGISTRIES_CONF; skopeo (1.9) only its flag.
  if (auto conf = inspector.environment.find("CONTAINERS_REGISTRIES_CONF");
      conf != inspector.environment.end() && !conf->second.empty()) {
    argv.insert(argv.end(), {"--registries-conf", conf->second});
  }
  // --no-tags: the manifest alone, not the repository's whole tag list.
  argv.insert(argv.end(),
              {"inspect", "--no-tags", "--format", "{{.Digest}}", "docker://" + reference});
  auto output = RunCommand(argv, FormatEnvironment(inspector.environment), inspector.timeout);
  if (!output.ok()) {
    if (output.status().code() == StatusCode::kDeadlineExceeded) {
      return Unavailable("registry unreachable for the training image " + reference +
                         " (skopeo inspect took more than " +
                         std::to_string(inspector.timeout.count() / 1000) + " s)");
    }
    return output.status().WithContext("skopeo inspect of " + reference);
  }
  std::string digest = output->output;
  while (!digest.empty() && std::isspace(static_cast<unsigned char>(digest.back()))) {
    digest.pop_back();
  }
  if (output->exit_code != 0) {
    // skopeo's messages are those of the library podman pulls with.
    return ClassifyPullFailure(reference, output->output,
                               "the server's auth file (REGISTRY_AUTH_FILE)");
  }
  if (digest.rfind("sha256:", 0) != 0 || digest.find_first_of(" \n") != std::string::npos) {
    return Internal("skopeo inspect of " + reference + " printed no digest: " + digest);
  }
  return RepositoryOf(reference) + "@" + digest;
}

}  // namespace trainyard::executor
