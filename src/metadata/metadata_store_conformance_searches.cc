// The conformance suite, part 4: one driver per search — the search's lease (ClaimSearch,
// RenewSearchLeases, TakeOverSearches, EndSearch) and the compare-and-set that adds a search's
// next jobs once (AddJobs with expected_jobs), alone and with callers racing.
#include <atomic>
#include <thread>

#include "metadata/metadata_store_conformance.h"

namespace trainyard::metadata {
namespace {

TEST_P(MetadataStoreConformanceTest, ClaimSearchIsACompareAndSetOnTheSearchsLease) {
  CreateSweep("s", 1);
  // A new sweep's search is on, and nobody holds it.
  EXPECT_EQ(store_->ClaimSearch("sw-s", "a", TestTime(1'000), TestTime(5'000)).value(), true);
  // Held by a until 5 s: b is refused; a claims it again (a renewal).
  EXPECT_EQ(store_->ClaimSearch("sw-s", "b", TestTime(2'000), TestTime(6'000)).value(), false);
  EXPECT_EQ(store_->ClaimSearch("sw-s", "a", TestTime(3'000), TestTime(7'000)).value(), true);
  EXPECT_EQ(store_->ClaimSearch("sw-s", "b", TestTime(6'999), TestTime(9'000)).value(), false);
  // Expired: b takes it; a's renewal no longer finds it, b's does.
  EXPECT_EQ(store_->ClaimSearch("sw-s", "b", TestTime(7'001), TestTime(12'000)).value(), true);
  EXPECT_TRUE(store_->RenewSearchLeases("a", TestTime(20'000))->empty());
  EXPECT_EQ(store_->RenewSearchLeases("b", TestTime(20'000)).value(),
            (std::vector<std::string>{"sw-s"}));
  EXPECT_EQ(store_->ClaimSearch("sw-s", "a", TestTime(13'000), TestTime(30'000)).value(), false);
  // Only its holder ends it; then nobody takes it, however late.
  EXPECT_EQ(store_->EndSearch("sw-s", "a").value(), false);
  EXPECT_EQ(store_->EndSearch("sw-s", "b").value(), true);
  EXPECT_EQ(store_->ClaimSearch("sw-s", "a", TestTime(99'000), TestTime(100'000)).value(), false);
  EXPECT_EQ(store_->ClaimSearch("sw-s", "b", TestTime(99'000), TestTime(100'000)).value(), false);
  EXPECT_TRUE(store_->RenewSearchLeases("b", TestTime(200'000))->empty());
  EXPECT_TRUE(store_->TakeOverSearches("c", TestTime(999'000), TestTime(999'999), 0)->empty());
  // An unknown sweep.
  EXPECT_EQ(store_->ClaimSearch("sw-none", "a", TestTime(0), TestTime(1)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->EndSearch("sw-none", "a").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformanceTest, TakeOverSearchesTakesFreeAndExpiredLeasesOfOthers) {
  for (const char* id :
       {"sw-free", "sw-dead", "sw-alive", "sw-mine", "sw-ended", "sw-grid", "sw-held"}) {
    ASSERT_TRUE(store_->CreateSweep(MakeSweep(id), {}, {}).ok());
  }
  // A sweep with nothing to drive is ended by its creator without taking it; one another
  // server holds is not ended.
  EXPECT_EQ(store_->EndSearch("sw-grid", "creator").value(), true);
  ASSERT_TRUE(store_->ClaimSearch("sw-held", "alive", TestTime(0), TestTime(50'000)).value());
  EXPECT_EQ(store_->EndSearch("sw-held", "creator").value(), false);
  ASSERT_TRUE(store_->ClaimSearch("sw-dead", "dead", TestTime(0), TestTime(1'000)).value());
  ASSERT_TRUE(store_->ClaimSearch("sw-alive", "alive", TestTime(0), TestTime(50'000)).value());
  ASSERT_TRUE(store_->ClaimSearch("sw-mine", "me", TestTime(0), TestTime(1'000)).value());
  ASSERT_TRUE(store_->ClaimSearch("sw-ended", "dead", TestTime(0), TestTime(1'000)).value());
  ASSERT_TRUE(store_->EndSearch("sw-ended", "dead").value());

  Result<std::vector<std::string>> taken =
      store_->TakeOverSearches("me", TestTime(10'000), TestTime(40'000), 0);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  // Oldest first (all created at the same instant: in the order they were created).
  EXPECT_EQ(*taken, (std::vector<std::string>{"sw-free", "sw-dead"}));
  EXPECT_EQ(store_->RenewSearchLeases("me", TestTime(40'000)).value(),
            (std::vector<std::string>{"sw-dead", "sw-free", "sw-mine"}));
  EXPECT_TRUE(store_->RenewSearchLeases("dead", TestTime(60'000))->empty());
  // The limit bounds one call; a lease renewed is not taken.
  taken = store_->TakeOverSearches("other", TestTime(40'001), TestTime(90'000), 2);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, (std::vector<std::string>{"sw-free", "sw-dead"}));
  taken = store_->TakeOverSearches("other", TestTime(40'001), TestTime(90'000), 2);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, (std::vector<std::string>{"sw-mine"}));
}

TEST_P(MetadataStoreConformanceTest, AddJobsWithExpectedJobsAddsASearchsNextJobsOnce) {
  CreateSweep("grow", 2);
  std::vector<JobRecord> next = MakeJobs("grow-next", 1);
  next[0].index = 2;
  // The sweep has 2 jobs, not 3: nothing is written.
  Status refused = store_->AddJobs("sw-grow", next, 3);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_TRUE(Contains(refused.message(), "sweep 'sw-grow' has 2 jobs"));
  EXPECT_EQ(store_->GetJob("grow-next-000").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->AddJobs("sw-grow", next, 2).ok());
  // A second server that suggested the same trial number is refused.
  std::vector<JobRecord> again = MakeJobs("grow-again", 1);
  again[0].index = 2;
  EXPECT_EQ(store_->AddJobs("sw-grow", again, 2).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ListAllJobNames({.sweep_id = "sw-grow"}),
            (std::vector<std::string>{"grow-000", "grow-001", "grow-next-000"}));
}

TEST_P(MetadataStoreConformanceTest, RacingCallersClaimASearchAndAddItsNextJobsOnce) {
  constexpr int kCallers = 6;
  constexpr int kSweeps = 30;
  for (int s = 0; s < kSweeps; ++s) {
    ASSERT_TRUE(store_->CreateSweep(MakeSweep("sw-" + std::to_string(s)), {}, {}).ok());
  }
  CreateSweep("grow", 1);
  std::atomic<int> claims{0}, adds{0}, failures{0};
  std::vector<std::atomic<int>> takes(kSweeps);
  std::vector<std::thread> threads;
  for (int t = 0; t < kCallers; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = "replica-" + std::to_string(t);
      auto claimed = store_->ClaimSearch("sw-grow", owner, TestTime(0), TestTime(10'000));
      if (!claimed.ok()) ++failures;
      if (claimed.ok() && *claimed) ++claims;
      // Each suggests "the next trial" (index 1) as it saw the sweep: one of them adds it.
      std::vector<JobRecord> next = MakeJobs("grow-" + owner, 1);
      next[0].index = 1;
      Status added = store_->AddJobs("sw-grow", next, 1);
      if (added.ok()) {
        ++adds;
      } else if (added.code() != StatusCode::kFailedPrecondition) {
        ++failures;
      }
      while (true) {
        auto taken = store_->TakeOverSearches(owner, TestTime(1'000), TestTime(9'000), 4);
        if (!taken.ok()) {
          ++failures;
          return;
        }
        if (taken->empty()) return;
        for (const std::string& id : *taken) {
          if (id != "sw-grow") ++takes[std::stoi(id.substr(3))];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(claims.load(), 1);
  EXPECT_EQ(adds.load(), 1);
  EXPECT_EQ(ListAllJobNames({.sweep_id = "sw-grow"}).size(), 2u);
  for (int s = 0; s < kSweeps; ++s) EXPECT_EQ(takes[s].load(), 1) << "sw-" << s;
}

}  // namespace
}  // namespace trainyard::metadata
