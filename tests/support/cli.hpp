#pragma once
// Running the `nif` command line in-process from a test, with its output captured.

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
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

/// A JSON file a run wrote (config.json, metrics.json), parsed.
inline nlohmann::json read_json(const std::filesystem::path& file) { return nlohmann::json::parse(read_text(file)); }

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

struct CliResult {
  int code = -1;
  std::string out;  ///< everything written to stdout
  std::string err;  ///< everything written to stderr
};

/// Points file descriptor `fd` at a file until destroyed, then restores it.
class Redirect {
 public:
  Redirect(int fd, const std::filesystem::path& file) : fd_(fd), saved_(dup(fd)) {
    REQUIRE(saved_ >= 0);
    file_ = std::fopen(file.c_str(), "w");
    REQUIRE(file_ != nullptr);
    dup2(fileno(file_), fd_);
  }
  Redirect(const Redirect&) = delete;
  Redirect& operator=(const Redirect&) = delete;
  ~Redirect() {
    dup2(saved_, fd_);
    close(saved_);
    std::fclose(file_);
  }

 private:
  int fd_, saved_;
  std::FILE* file_;
};

/// Runs `nif args...` in-process with stdout and stderr (descriptors 1 and 2) captured.
inline CliResult nif_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "nif");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  ScratchDir scratch("nif_test_output");
  CliResult r;
  std::fflush(stdout);
  std::fflush(stderr);
  {
    const Redirect out(1, scratch / "stdout.txt"), err(2, scratch / "stderr.txt");
    try {
      r.code = experiments::run_cli(int(args.size()), argv.data());
    } catch (...) {
      r.code = -100;  // run_cli must never throw
    }
    std::fflush(stdout);
    std::fflush(stderr);
  }
  r.out = read_text(scratch / "stdout.txt");
  r.err = read_text(scratch / "stderr.txt");
  return r;
}

}  // namespace testing
