#include "core/sweep.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace trainyard::core {
namespace {

std::vector<std::string> Numbers(int count) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) values.push_back(std::to_string(i));
  return values;
}

TEST(SweepTest, GridVariesTheFirstParameterSlowest) {
  SweepSpec spec;
  spec.grid = {{"lr", {"0.1", "0.01"}}, {"batch", {"32", "64"}}};
  Result<std::vector<HyperparameterMap>> jobs = ExpandSweep(spec);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(*jobs, (std::vector<HyperparameterMap>{{{"lr", "0.1"}, {"batch", "32"}},
                                                   {{"lr", "0.1"}, {"batch", "64"}},
                                                   {{"lr", "0.01"}, {"batch", "32"}},
                                                   {{"lr", "0.01"}, {"batch", "64"}}}));
}

TEST(SweepTest, AThousandCombinationsAllDistinctAndComplete) {
  SweepSpec spec;
  spec.grid = {{"a", Numbers(10)}, {"b", Numbers(10)}, {"c", Numbers(10)}};
  spec.fixed = {{"epochs", "3"}};
  Result<std::vector<HyperparameterMap>> jobs = ExpandSweep(spec);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1000u);
  std::set<std::string> seen;
  for (const HyperparameterMap& job : *jobs) {
    ASSERT_EQ(job.size(), 4u);
    EXPECT_EQ(job.at("epochs"), "3");
    seen.insert(job.at("a") + job.at("b") + job.at("c"));
  }
  EXPECT_EQ(seen.size(), 1000u);  // every digit triple 000..999 exactly once
  EXPECT_EQ(jobs->at(0).at("c"), "0");
  EXPECT_EQ(jobs->at(1).at("c"), "1");
  EXPECT_EQ(jobs->at(999).at("a"), "9");
}

TEST(SweepTest, RefusesTooManyJobsBeforeBuildingThem) {
  SweepSpec spec;
  spec.grid = {{"a", Numbers(100)}, {"b", Numbers(100)}, {"c", Numbers(100)}, {"d", Numbers(100)}};
  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<HyperparameterMap>> jobs = ExpandSweep(spec);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs.status().message(), "sweep: it would make 100000000 jobs, the limit is 10000");
  EXPECT_LT(elapsed, std::chrono::seconds(1));  // 10^8 maps would take far longer
}

TEST(SweepTest, TheLimitItself) {
  SweepSpec spec;
  spec.grid = {{"a", Numbers(100)}, {"b", Numbers(100)}};
  EXPECT_EQ(ExpandSweep(spec)->size(), 10000u);
  spec.grid.push_back({"c", {"x", "y"}});
  EXPECT_EQ(ExpandSweep(spec, 20000)->size(), 20000u);
  EXPECT_EQ(ExpandSweep(spec, 19999).status().message(),
            "sweep: it would make 20000 jobs, the limit is 19999");
}

TEST(SweepTest, CountThatOverflowsIsRefused) {
  SweepSpec spec;
  for (int i = 0; i < 10; ++i) spec.grid.push_back({"p" + std::to_string(i), Numbers(100)});
  EXPECT_EQ(ExpandSweep(spec).status().message(),
            "sweep: it would make more than 18446744073709551615 jobs, the limit is 10000");
}

TEST(SweepTest, FixedValuesJoinEveryJob) {
  SweepSpec spec;
  spec.fixed = {{"epochs", "10"}, {"optimizer", "adam"}};
  spec.grid = {{"lr", {"0.1", "0.01"}}};
  Result<std::vector<HyperparameterMap>> jobs = ExpandSweep(spec);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(*jobs, (std::vector<HyperparameterMap>{
                       {{"epochs", "10"}, {"optimizer", "adam"}, {"lr", "0.1"}},
                       {{"epochs", "10"}, {"optimizer", "adam"}, {"lr", "0.01"}}}));
}

TEST(SweepTest, NothingSweptIsOneJob) {
  SweepSpec spec;
  spec.fixed = {{"epochs", "10"}};
  EXPECT_EQ(*ExpandSweep(spec), (std::vector<HyperparameterMap>{{{"epochs", "10"}}}));
  EXPECT_EQ(*ExpandSweep(SweepSpec{}), (std::vector<HyperparameterMap>{{}}));
}

TEST(SweepTest, Combinations) {
  SweepSpec spec;
  spec.fixed = {{"epochs", "10"}};
  spec.combinations = {{{"lr", "0.1"}, {"batch", "32"}}, {{"lr", "0.01"}}};
  EXPECT_EQ(*ExpandSweep(spec),
            (std::vector<HyperparameterMap>{{{"epochs", "10"}, {"lr", "0.1"}, {"batch", "32"}},
                                            {{"epochs", "10"}, {"lr", "0.01"}}}));
  EXPECT_EQ(ExpandSweep(spec, 1).status().message(), "sweep: it would make 2 jobs, the limit is 1");
}

TEST(SweepTest, Conflicts) {
  SweepSpec both;
  both.grid = {{"lr", {"0.1"}}};
  both.combinations = {{{"lr", "0.2"}}};
  EXPECT_EQ(ExpandSweep(both).status().message(),
            "sweep: both a grid and a list of combinations were given; give one or the other");

  SweepSpec fixed_and_grid;
  fixed_and_grid.fixed = {{"lr", "0.1"}};
  fixed_and_grid.grid = {{"lr", {"0.2", "0.3"}}};
  EXPECT_EQ(ExpandSweep(fixed_and_grid).status().message(),
            "sweep parameter 'lr': both fixed and swept; give it one way");

  SweepSpec fixed_and_combination;
  fixed_and_combination.fixed = {{"lr", "0.1"}};
  fixed_and_combination.combinations = {{{"batch", "1"}}, {{"lr", "0.2"}}};
  EXPECT_EQ(ExpandSweep(fixed_and_combination).status().message(),
            "sweep combination 2: hyperparameter 'lr' is both fixed and swept; give it one way");

  SweepSpec twice;
  twice.grid = {{"lr", {"0.1"}}, {"lr", {"0.2"}}};
  EXPECT_EQ(ExpandSweep(twice).status().message(), "sweep parameter 'lr': swept twice");
}

TEST(SweepTest, BadValueLists) {
  SweepSpec empty;
  empty.grid = {{"lr", {"0.1"}}, {"batch", {}}};
  EXPECT_EQ(ExpandSweep(empty).status().message(), "sweep parameter 'batch': no values");

  SweepSpec duplicate;
  duplicate.grid = {{"lr", {"0.1", "0.2", "0.1"}}};
  EXPECT_EQ(ExpandSweep(duplicate).status().message(),
            "sweep parameter 'lr': value '0.1' is listed twice, which would run the same job "
            "twice");

  SweepSpec same_combination;
  same_combination.combinations = {{{"lr", "0.1"}}, {{"lr", "0.2"}}, {{"lr", "0.1"}}};
  EXPECT_EQ(ExpandSweep(same_combination).status().message(),
            "sweep combination 3: the same as combination 1, which would run the same job twice");
}

TEST(SweepTest, ResultsAreValidated) {
  SweepSpec long_value;
  long_value.grid = {{"lr", {"0.1", std::string(2501, '1')}}};
  EXPECT_EQ(ExpandSweep(long_value).status().message(),
            "sweep: hyperparameter 'lr': value is 2501 characters, the limit is 2500");

  SweepSpec too_many_keys;
  for (int i = 0; i < 100; ++i) too_many_keys.fixed["k" + std::to_string(i)] = "v";
  too_many_keys.grid = {{"lr", {"0.1", "0.2"}}};
  EXPECT_EQ(ExpandSweep(too_many_keys).status().message(),
            "sweep: hyperparameters: 101 entries, the limit is 100");

  SweepSpec bad_fixed;
  bad_fixed.fixed = {{"", "v"}};
  EXPECT_FALSE(ExpandSweep(bad_fixed).ok());

  SweepSpec bad_combination;
  bad_combination.combinations = {{{"lr", "0.1"}}, {{"lr", "a\nb"}}};
  EXPECT_EQ(ExpandSweep(bad_combination).status().message().substr(0, 42),
            "sweep combination 2: hyperparameter 'lr': ");
}

TEST(SweepTest, VaryingKeys) {
  EXPECT_TRUE(VaryingKeys({}).empty());
  EXPECT_TRUE(VaryingKeys({{{"lr", "0.1"}}}).empty());
  EXPECT_EQ(VaryingKeys({{{"lr", "0.1"}, {"epochs", "3"}, {"b", "1"}},
                         {{"lr", "0.2"}, {"epochs", "3"}, {"b", "2"}}}),
            (std::vector<std::string>{"b", "lr"}));
  // A key some jobs lack varies.
  EXPECT_EQ(VaryingKeys({{{"lr", "0.1"}}, {{"lr", "0.1"}, {"momentum", "0.9"}}}),
            (std::vector<std::string>{"momentum"}));
  EXPECT_EQ(VaryingKeys({{{"lr", "0.1"}, {"momentum", "0.9"}}, {{"lr", "0.1"}}}),
            (std::vector<std::string>{"momentum"}));
}

}  // namespace
}  // namespace trainyard::core
