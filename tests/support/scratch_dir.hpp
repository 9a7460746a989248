#pragma once
// A fresh empty temporary directory for a test, removed with its contents at scope exit.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace testing {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "nif_test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace testing
