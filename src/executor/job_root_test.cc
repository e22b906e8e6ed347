#include "executor/job_root.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "archive/archive.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class JobRootCodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(temp_.path() / "source" / "lib");
    std::ofstream(temp_.path() / "source" / "train.py") << "print('hi')\n";
    std::ofstream(temp_.path() / "source" / "lib" / "util.py") << "X = 1\n";
    ASSERT_TRUE(
        archive::PackTarGz(temp_.path() / "source", temp_.path() / "sourcedir.tar.gz").ok());
    spec_.definition.job_name = "code-job";
    spec_.code_source = temp_.path() / "sourcedir.tar.gz";
  }

  testing::TempDir temp_;
  JobSpec spec_;
};

TEST_F(JobRootCodeTest, TheCodeArchiveIsUnpackedIntoTheCodeDir) {
  contract::MlRoot root(temp_.path() / "ml");
  ASSERT_TRUE(PrepareJobRoot(root, spec_).ok());
  EXPECT_EQ(Read(root.code_dir() / "train.py"), "print('hi')\n");
  EXPECT_EQ(Read(root.code_dir() / "lib" / "util.py"), "X = 1\n");
}

TEST_F(JobRootCodeTest, CodeAlreadyInTheCodeDirIsKeptAsTheToolkitKeepsIt) {
  contract::MlRoot root(temp_.path() / "ml");
  fs::create_directories(root.code_dir());
  std::ofstream(root.code_dir() / "train.py") << "the image's own\n";
  ASSERT_TRUE(PrepareJobRoot(root, spec_).ok());
  EXPECT_EQ(Read(root.code_dir() / "train.py"), "the image's own\n");
  EXPECT_FALSE(fs::exists(root.code_dir() / "lib"));
}

TEST_F(JobRootCodeTest, AnArchiveThatIsNotOneFailsNamingTheHyperparameter) {
  std::ofstream(temp_.path() / "not-an-archive.tar.gz") << "plain text";
  spec_.code_source = temp_.path() / "not-an-archive.tar.gz";
  Status prepared = PrepareJobRoot(contract::MlRoot(temp_.path() / "ml"), spec_);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.message().find("sagemaker_submit_directory"), std::string::npos)
      << prepared.ToString();
}

}  // namespace
}  // namespace trainyard::executor
