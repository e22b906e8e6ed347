// Unpacks one archive with trainyard::archive::Unpack and prints the elapsed seconds, alone on
// stdout so run.sh can read it. Usage: bench_unpack ARCHIVE DESTINATION_DIR
#include <chrono>
#include <cstdio>
#include <iostream>

#include "archive/archive.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " ARCHIVE DESTINATION_DIR\n";
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto files = trainyard::archive::Unpack(argv[1], argv[2]);
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  if (!files.ok()) {
    std::cerr << files.status().ToString() << "\n";
    return trainyard::ToExitCode(files.status());
  }
  std::printf("%.3f\n", elapsed.count());
  std::cerr << files->size() << " files\n";
  return 0;
}
