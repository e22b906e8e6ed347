#include "core/job_naming.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/sagemaker_limits.h"

namespace trainyard::core {
namespace {

TEST(JobNamingTest, NumbersFromOneZeroPadded) {
  EXPECT_EQ(MakeJobName("lr-sweep", 0, 4), "lr-sweep-001");
  EXPECT_EQ(MakeJobName("lr-sweep", 3, 4), "lr-sweep-004");
  EXPECT_EQ(MakeJobName("lr-sweep", 999, 1000), "lr-sweep-1000");
  EXPECT_EQ(MakeJobName("lr-sweep", 0, 1000), "lr-sweep-0001");
  EXPECT_EQ(MakeJobName("lr-sweep", 0, 999), "lr-sweep-001");
}

TEST(JobNamingTest, AThousandNamesUniqueAndValid) {
  std::set<std::string> names;
  for (size_t i = 0; i < 1000; ++i) {
    std::string name = MakeJobName("nightly sweep", i, 1000);
    EXPECT_TRUE(ValidateTrainingJobName(name).ok()) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 1000u);
}

TEST(JobNamingTest, Sanitises) {
  EXPECT_EQ(MakeJobName("my sweep_v2!", 0, 1), "my-sweep-v2-001");
  EXPECT_EQ(MakeJobName("--a..b--", 0, 1), "a-b-001");
  EXPECT_EQ(MakeJobName("", 0, 1), "job-001");
  EXPECT_EQ(MakeJobName("!!!", 0, 1), "job-001");
  EXPECT_EQ(MakeJobName("café", 0, 1), "caf-001");
  EXPECT_EQ(SanitizeJobNamePrefix("a  b"), "a-b");
}

TEST(JobNamingTest, TruncatesLongSweepNames) {
  const std::string long_name(100, 'x');
  std::string name = MakeJobName(long_name, 41, 100);
  EXPECT_EQ(name.size(), 63u);
  EXPECT_EQ(name, std::string(59, 'x') + "-042");
  EXPECT_TRUE(ValidateTrainingJobName(name).ok());

  // A cut that lands on a hyphen drops it rather than ending the prefix with one.
  std::string hyphen_at_cut = std::string(58, 'a') + "-bbbb";
  EXPECT_EQ(MakeJobName(hyphen_at_cut, 0, 1), std::string(58, 'a') + "-001");

  std::string wide = MakeJobName(long_name, 0, 100000);
  EXPECT_EQ(wide, std::string(56, 'x') + "-000001");
  EXPECT_TRUE(ValidateTrainingJobName(wide).ok());
}

}  // namespace
}  // namespace trainyard::core
