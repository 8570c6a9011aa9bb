// A main() for fuzz targets outside --config=fuzz: runs
// LLVMFuzzerTestOneInput once over each file named on the command line (a
// directory stands for the files in it, in name order), the way libFuzzer
// does when given files. Exits non-zero if a named path cannot be read or no
// input ran, so an empty or missing corpus fails its test instead of
// passing silently. A crash in the target crashes this process, as it would
// under libFuzzer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()),
                         bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int ran = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::vector<fs::path> files;
    if (fs::is_directory(arg)) {
      for (const auto& entry : fs::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(arg);
    }
    for (const fs::path& file : files) {
      if (!RunFile(file)) return 2;
      ++ran;
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "replay: no input files given\n");
    return 2;
  }
  std::printf("replay: %d inputs ran without a crash\n", ran);
  return 0;
}
