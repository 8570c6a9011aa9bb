// SimDisk against the Disk conformance suite (no faults; the default crash
// model never acts because the suite never crashes the disk).
#include "core/storage/testing/disk_conformance.h"

#include <memory>

#include "core/base/rng.h"
#include "gtest/gtest.h"
#include "sim/disk.h"

namespace raftstore::sim {
namespace {

using storage::DiskConformanceTest;
using storage::DiskFactory;

INSTANTIATE_TEST_SUITE_P(
    SimDisk, DiskConformanceTest,
    ::testing::Values(DiskFactory{"SimDisk",
                                  [] {
                                    return std::make_unique<SimDisk>(
                                        SimDiskOptions(), Rng(1));
                                  }},
                      DiskFactory{"SimDiskOneByteSectors",
                                  [] {
                                    SimDiskOptions options;
                                    options.sector_bytes = 1;
                                    return std::make_unique<SimDisk>(options,
                                                                     Rng(2));
                                  }}),
    storage::DiskFactoryName);

}  // namespace
}  // namespace raftstore::sim
