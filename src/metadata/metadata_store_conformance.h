// The conformance suite every MetadataStore passes: compile metadata_store_conformance*.cc into
// a backend's test and instantiate it with a factory for the backend:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, MetadataStoreConformanceTest,
//                            ::testing::Values(MetadataStoreFactory{"memory", MakeMemory}),
//                            [](const auto& info) { return info.param.name; });
// Each test gets a fresh, empty store.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "metadata/metadata_store.h"
#include "support/test_paths.h"

namespace trainyard::metadata {

struct MetadataStoreFactory {
  std::string name;
  // Makes an empty store; `scratch_dir` is a fresh directory, removed after the test, that a
  // backend may keep its data in.
  std::function<Result<MetadataStorePtr>(const std::filesystem::path& scratch_dir)> make;
  // Why the backend cannot run here (its server is not installed), or "": each test is then
  // skipped with the reason printed. Empty function: always available.
  std::function<std::string()> unavailable;
};

// Names the parameter in test output (otherwise gtest prints the std::function's bytes).
inline void PrintTo(const MetadataStoreFactory& factory, std::ostream* out) {
  *out << factory.name;
}

// Success when `text` contains `part`; the failure message shows both.
::testing::AssertionResult Contains(const std::string& text, const std::string& part);

// A time with whole milliseconds (what every store keeps): `millis` after 2026-01-01.
TimePoint TestTime(int64_t millis);

class MetadataStoreConformanceTest : public ::testing::TestWithParam<MetadataStoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Records with every field set; ids and names as given.
  static DatasetRecord MakeDataset(const std::string& id, int64_t created_millis = 0);
  static SweepRecord MakeSweep(const std::string& id, int64_t created_millis = 0);
  // `count` jobs named "<prefix>-000", "<prefix>-001", ... with index i and hyperparameters.
  static std::vector<JobRecord> MakeJobs(const std::string& prefix, int count);

  // Creates a sweep "sw-<suffix>" with `count` jobs "<suffix>-NNN" using `dataset_ids`; fails
  // the test when the store refuses.
  SweepRecord CreateSweep(const std::string& suffix, int count,
                          const std::vector<std::string>& dataset_ids = {});
  JobRecord GetJob(const std::string& name);
  // Moves a job out of the queue into `status` (UpdateJobState, no events).
  void SetJobStatus(const std::string& name, core::JobStatus status, bool queued = false);
  // Every job matching `filter`, following pages; names in queue order.
  std::vector<std::string> ListAllJobNames(JobFilter filter);
  std::vector<Event> AllEvents(const EventFilter& filter = {});

  std::unique_ptr<testing::TempDir> scratch_;
  MetadataStorePtr store_;
};

}  // namespace trainyard::metadata
