// The conformance suite every ObjectStore passes: include this in a backend's test file and
// instantiate it with a factory for the backend:
//   INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformanceTest,
//                            ::testing::Values(ObjectStoreFactory{"local", MakeLocal}));
// Each test gets a fresh, empty store.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "storage/object_store.h"
#include "support/test_paths.h"

namespace trainyard::storage {

struct ObjectStoreFactory {
  std::string name;
  // Makes an empty store; `scratch_dir` is a fresh directory, removed after the test, that a
  // backend may keep its data in. Unavailable: the backend cannot run here (the test is skipped
  // with the message as its reason).
  std::function<Result<ObjectStorePtr>(const std::filesystem::path& scratch_dir)> make;
  // Whether Head knows the SHA-256 of a large (40 MiB) object and List pages carry digests.
  // S3 does neither: a multipart upload's digest is known only once the upload is complete, too
  // late for its metadata, and ListObjectsV2 returns no metadata at all.
  bool digest_of_large_objects = true;
  bool digests_in_lists = true;
  // The longest key the store accepts: less than 1024 where it adds a prefix of its own (S3's
  // keys are at most 1024 bytes, the store's prefix included).
  size_t max_key_bytes = 1024;
  // Tests this backend is known to fail because its server departs from S3 (test name without
  // the parameter suffix -> why): skipped with the reason printed, never silently.
  std::map<std::string, std::string> known_deviations;
};

// Names the parameter in test output (otherwise gtest prints the std::function's bytes).
inline void PrintTo(const ObjectStoreFactory& factory, std::ostream* out) {
  *out << factory.name;
}

class ObjectStoreConformanceTest : public ::testing::TestWithParam<ObjectStoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Put / Get of a whole string; failures are reported as test failures.
  ObjectInfo PutString(const std::string& key, const std::string& content,
                       const PutOptions& options = {});
  std::string GetString(const std::string& key, std::optional<ByteRange> range = {});
  // The keys of every page of List(prefix), following start_after, pages of `max_keys`.
  std::vector<std::string> ListAllKeys(const std::string& prefix, size_t max_keys = 1000);

  std::unique_ptr<testing::TempDir> scratch_;
  ObjectStorePtr store_;
};

}  // namespace trainyard::storage
