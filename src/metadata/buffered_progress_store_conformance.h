// BufferedProgressStore in front of each backend (metadata_store_conformance_buffered.cc),
// instantiated with the factories of the backend's conformance suite:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, BufferedProgressStoreTest,
//                            ::testing::Values(MetadataStoreFactory{"memory", MakeMemory}), ...);
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "metadata/buffered_progress_store.h"
#include "metadata/metadata_store_conformance.h"

namespace trainyard::metadata {

// Each test opens the store with one running job "a-000" whose token hash is "hash-1"; `inner_`
// is the backend behind it, read as another server would.
class BufferedProgressStoreTest : public ::testing::TestWithParam<MetadataStoreFactory> {
 protected:
  static constexpr std::chrono::hours kNever{1};  // an interval no test waits out

  void SetUp() override;
  void TearDown() override;
  void Open(std::chrono::milliseconds flush_interval,
            std::chrono::milliseconds callback_check_ttl = kNever, size_t max_pending = 1000);
  // Waits (up to 30 s: a loaded machine) until the store announced a write.
  bool WaitForAnnouncement();
  // The backend's events since the job was set up.
  std::vector<Event> InnerEvents();
  // A report through the progress callback's way in.
  Result<ProgressTaken> Take(const std::string& job, const ProgressUpdate& update,
                             bool last_report = false) {
    return store_->RecordProgressBehind(job, update, last_report);
  }

  std::unique_ptr<testing::TempDir> scratch_;
  MetadataStore* inner_ = nullptr;
  int64_t setup_event_id_ = 0;
  std::unique_ptr<BufferedProgressStore> store_;
  std::mutex mutex_;
  std::condition_variable announced_;
  int announcements_ = 0;
};

}  // namespace trainyard::metadata
