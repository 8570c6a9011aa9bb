// The Disk conformance suite: what every storage::Disk must do when nothing
// fails (core/storage/disk.h), checked the same way for every implementation.
//
// Usage, in an implementation's test (linking
// //core/storage/testing:disk_conformance):
//
//   INSTANTIATE_TEST_SUITE_P(
//       SimDisk, DiskConformanceTest,
//       ::testing::Values(DiskFactory{"SimDisk", [] {
//         return std::make_unique<SimDisk>(SimDiskOptions(), Rng(1));
//       }}),
//       DiskFactoryName);
//
// The factory is called once per test and must return an empty disk (a fresh
// directory for PosixDisk). Crash behaviour is not covered here: only SimDisk
// can crash on demand, and its own tests check the crash model.
//
// Thread-safety: GoogleTest's; each test owns its disk.
#ifndef RAFTSTORE_CORE_STORAGE_TESTING_DISK_CONFORMANCE_H_
#define RAFTSTORE_CORE_STORAGE_TESTING_DISK_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>

#include "core/storage/disk.h"
#include "gtest/gtest.h"

namespace raftstore::storage {

struct DiskFactory {
  // Used as the test-name suffix: letters, digits and '_' only.
  std::string name;
  std::function<std::unique_ptr<Disk>()> make;
};

// For the fourth argument of INSTANTIATE_TEST_SUITE_P.
std::string DiskFactoryName(const ::testing::TestParamInfo<DiskFactory>& info);

class DiskConformanceTest : public ::testing::TestWithParam<DiskFactory> {
 protected:
  void SetUp() override;

  Disk& disk() { return *disk_; }

 private:
  std::unique_ptr<Disk> disk_;
};

}  // namespace raftstore::storage

#endif  // RAFTSTORE_CORE_STORAGE_TESTING_DISK_CONFORMANCE_H_
