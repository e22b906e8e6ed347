#include "app/progress_display.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace trainyard::app {
namespace {

TEST(ProgressDisplayTest, ProgressBar) {
  EXPECT_EQ(ProgressDisplay::ProgressBar(0.5, 10), "[#####.....]  50%");
  EXPECT_EQ(ProgressDisplay::ProgressBar(2.0, 4), "[####] 100%");
  EXPECT_EQ(ProgressDisplay::ProgressBar(-1, 4), "[....]   0%");
}

TEST(ProgressDisplayTest, PlainOutputPrintsStatusChangesOnce) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  ProgressDisplay display(out, /*interactive=*/false);
  auto now = std::chrono::system_clock::now();
  executor::JobDescription description{"j1", core::JobStatusTracker(now)};
  (void)description.status.Transition(core::SecondaryStatus::kTraining, now);
  display.Update({{"j1", &description, 1.0}, {"j2", nullptr, 0}}, "");
  display.Update({{"j1", &description, 2.0}, {"j2", nullptr, 0}}, "");
  (void)description.status.Transition(core::SecondaryStatus::kCompleted, now);
  description.metrics = {{"loss", 0.125}};
  display.Update({{"j1", &description, 3.0}, {"j2", nullptr, 0}}, "");
  std::fclose(out);
  std::string text(buffer, size);
  free(buffer);
  EXPECT_EQ(text, "j1  Training\nj1  Completed loss=0.125\n");
}

TEST(ProgressDisplayTest, InteractiveLineShowsBarStatusAndMetrics) {
  auto now = std::chrono::system_clock::now();
  executor::JobDescription description{"j1", core::JobStatusTracker(now)};
  (void)description.status.Transition(core::SecondaryStatus::kTraining, now);
  description.progress = {{"progress", 0.25}};
  description.metrics = {{"loss", 0.5}};
  std::string line = ProgressDisplay::JobLine({"j1", &description, 12});
  EXPECT_NE(line.find("[#####...............]  25%"), std::string::npos) << line;
  EXPECT_NE(line.find("Training"), std::string::npos);
  EXPECT_NE(line.find("loss=0.5"), std::string::npos);
  EXPECT_NE(line.find("12s"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::app
