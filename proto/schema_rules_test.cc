// The compatibility rules of docs/protocol.md, checked over every schema by
// reflection, so a new message or enum that breaks one fails here.

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "proto/random_message.h"

namespace raftstore {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

TEST(SchemaRulesTest, EveryEnumStartsWithAnUnspecifiedZero) {
  const auto enums = proto_testing::AllRaftStoreEnumTypes();
  ASSERT_GE(enums.size(), 7u);
  for (const EnumDescriptor* type : enums) {
    const auto* zero = type->FindValueByNumber(0);
    ASSERT_NE(zero, nullptr) << type->full_name();
    EXPECT_TRUE(absl::EndsWith(zero->name(), "_UNSPECIFIED"))
        << type->full_name() << " zero is " << zero->name();
  }
}

TEST(SchemaRulesTest, MessagesPersistedOnTheirOwnCarryAFormatVersion) {
  for (const char* name :
       {"raftstore.raft.HardState", "raftstore.raft.SnapshotMetadata",
        "raftstore.meta.RegionLocalState", "raftstore.command.Command",
        "raftstore.command.SnapshotChunk",
        "raftstore.manifest.SnapshotFileHeader"}) {
    const Descriptor* type = google::protobuf::DescriptorPool::generated_pool()
                                 ->FindMessageTypeByName(name);
    ASSERT_NE(type, nullptr) << name;
    const FieldDescriptor* version = type->FindFieldByName("format_version");
    ASSERT_NE(version, nullptr) << name;
    EXPECT_EQ(version->number(), 1) << name;
    EXPECT_EQ(version->type(), FieldDescriptor::TYPE_UINT32) << name;
  }
}

TEST(SchemaRulesTest, EveryMessageReservesARangeForFutureFields) {
  for (const Descriptor* type : proto_testing::AllRaftStoreMessageTypes()) {
    // The future range is the widest reserved range (a removed field's
    // number is reserved alone).
    int future_start = 0;
    int future_width = 0;
    for (int i = 0; i < type->reserved_range_count(); ++i) {
      const auto* range = type->reserved_range(i);
      if (range->end - range->start > future_width) {
        future_width = range->end - range->start;  // end is exclusive
        future_start = range->start;
      }
    }
    EXPECT_GE(future_width, 10) << type->full_name();
    // New fields take numbers below the future range, never inside or
    // beyond it.
    for (int i = 0; i < type->field_count(); ++i) {
      EXPECT_LT(type->field(i)->number(), future_start)
          << type->full_name() << "." << type->field(i)->name();
    }
  }
}

TEST(SchemaRulesTest, EveryClientRequestCarriesTheSessionHeader) {
  const Descriptor* header =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          "raftstore.kv.RequestHeader");
  ASSERT_NE(header, nullptr);
  for (const char* field :
       {"region_id", "region_epoch", "client_id", "sequence"}) {
    EXPECT_NE(header->FindFieldByName(field), nullptr) << field;
  }
  std::set<std::string> requests;
  for (const Descriptor* type : proto_testing::AllRaftStoreMessageTypes()) {
    if (type->file()->package() != "raftstore.kv" ||
        !absl::EndsWith(type->name(), "Request") ||
        type->name() == "KvRequest") {
      continue;
    }
    requests.insert(type->name());
    const FieldDescriptor* field = type->FindFieldByName("header");
    ASSERT_NE(field, nullptr) << type->full_name();
    EXPECT_EQ(field->message_type(), header) << type->full_name();
  }
  EXPECT_EQ(requests,
            (std::set<std::string>{"CompareAndSwapRequest", "DeleteRequest",
                                   "GetRequest", "PutRequest", "ScanRequest"}));
}

TEST(SchemaRulesTest, EveryResponseCarriesATypedErrorHeader) {
  const Descriptor* error =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          "raftstore.kv.Error");
  ASSERT_NE(error, nullptr);
  std::set<std::string> kinds;
  for (int i = 0; i < error->oneof_decl(0)->field_count(); ++i) {
    kinds.insert(error->oneof_decl(0)->field(i)->message_type()->name());
  }
  EXPECT_EQ(kinds,
            (std::set<std::string>{"EpochNotMatch", "KeyNotInRegion",
                                   "NotLeader", "RegionNotFound", "ServerBusy",
                                   "SessionExpired", "Timeout"}));
}

}  // namespace
}  // namespace raftstore
