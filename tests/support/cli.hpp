#pragma once
// Running the `nif` command line in-process from a test, with its stderr captured.

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/cli.hpp"
#include "support/scratch_dir.hpp"

namespace testing {

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

struct CliResult {
  int code = -1;
  std::string err;  ///< everything written to stderr
};

/// Runs `nif args...` in-process with stderr (file descriptor 2) captured in a temporary file.
inline CliResult nif_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "nif");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  ScratchDir scratch("nif_test_stderr");
  const std::filesystem::path err_file = scratch / "stderr.txt";
  std::fflush(stderr);
  const int saved = dup(2);
  REQUIRE(saved >= 0);
  std::FILE* f = std::fopen(err_file.c_str(), "w");
  REQUIRE(f != nullptr);
  dup2(fileno(f), 2);
  CliResult r;
  try {
    r.code = experiments::run_cli(int(args.size()), argv.data());
  } catch (...) {
    r.code = -100;  // run_cli must never throw
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::fclose(f);
  r.err = read_text(err_file);
  return r;
}

}  // namespace testing
