// The .npz (zip) reader: nn::parse_zip_members on arbitrary bytes, every ".npy" member of an
// accepted archive through nn::parse_npy (string arrays through nn::parse_npy_strings), member
// selection through nn::ZipArchive (headers and prefixes only), and the archive as a point table
// (nif::load_points) by index, by column name and as FILE.npz:MEMBER; each may refuse the input
// only with nn::FileError.

#include <cstdint>

#include "fuzz/support.hpp"
#include "nif/data.hpp"
#include "nn/npy.hpp"

namespace {

/// The archive as a table, the one 2-d array found by index and by the names of a 'columns' member.
void load_as_table(const std::filesystem::path& file) {
  fuzz::refused_with<nn::FileError>([&] { (void)nif::load_points(file, nif::traveling_wave_columns()); });
  nif::ColumnSelection by_name;
  by_name.params = {"t"};
  by_name.coords = {"x"};
  by_name.targets = {"u"};
  by_name.weight = "area";
  fuzz::refused_with<nn::FileError>([&] { (void)nif::load_points(file, by_name); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::bytes(data, size);
  std::vector<std::pair<std::string, std::vector<std::byte>>> members;
  if (fuzz::refused_with<nn::FileError>([&] { members = nn::parse_zip_members(input, "input.npz"); })) {
    // Lazy reading may accept archives whose unread members are corrupt; it must not crash on any.
    fuzz::refused_with<nn::FileError>([&] {
      const nn::ZipArchive zip(std::vector<std::byte>(input.begin(), input.end()), "input.npz");
      for (const std::string& name : zip.names()) (void)zip.member_prefix(name, 64);
    });
    load_as_table(fuzz::scratch_file(".npz", input));
    return 0;
  }
  const nn::ZipArchive zip(std::vector<std::byte>(input.begin(), input.end()), "input.npz");
  for (const auto& [name, bytes] : members) {
    if (!name.ends_with(".npy")) continue;
    fuzz::refused_with<nn::FileError>([&] { (void)nn::parse_npy(bytes, name); });
    fuzz::refused_with<nn::FileError>([&] { (void)nn::parse_npy_strings(bytes, name); });
    fuzz::refused_with<nn::FileError>([&] { (void)zip.npy_header(name); });
  }
  const std::filesystem::path file = fuzz::scratch_file(".npz", input);
  load_as_table(file);
  if (!members.empty() && members.front().first.ends_with(".npy")) {
    const std::string& first = members.front().first;
    const std::string member_spec = file.string() + ":" + first.substr(0, first.size() - 4);
    fuzz::refused_with<nn::FileError>([&] { (void)nif::read_table(member_spec); });
  }
  return 0;
}
