// The digest a registry serves for an image's tag now, asked without pulling the image: `skopeo
// inspect` (Debian's skopeo), which reads the same registries.conf (CONTAINERS_REGISTRIES_CONF,
// handed to it as its flag), certificates and auth files (REGISTRY_AUTH_FILE,
// ~/.config/containers/auth.json) as podman. For an executor whose jobs pull
// their image on other hosts (the Slurm executor's nodes): the server pins a sweep's image to the
// digest, so that every node, every requeue and every retry runs the same image.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "common/status.h"

namespace trainyard::executor {

// Whether `reference` names an image by a registry host ("registry.internal/team/x:1",
// "127.0.0.1:5000/x"), which means the same image on every host, and has no digest yet. Not an
// unqualified name ("trainer:1", "team/x"), which each host's registries.conf completes itself,
// nor "localhost/..." (a host's own store).
bool PinnableReference(const std::string& reference);

struct RegistryInspector {
  std::filesystem::path skopeo;                    // the skopeo binary
  std::map<std::string, std::string> environment;  // skopeo's (HOME, REGISTRY_AUTH_FILE, ...)
  std::chrono::milliseconds timeout{60'000};       // for one inspect
};

// REPOSITORY@DIGEST of PinnableReference `reference` as its registry serves it now. Errors name
// the image and carry skopeo's last line: NotFound for a tag or repository the registry does
// not have, PermissionDenied for credentials it refuses, Unavailable otherwise (unreachable,
// timed out).
Result<std::string> PinToRegistryDigest(const RegistryInspector& inspector,
                                        const std::string& reference);

}  // namespace trainyard::executor
