#include "core/kv/command_codec.h"

#include <string>

#include "absl/status/status.h"
#include "core/kv/kv_config.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "proto/command.pb.h"

namespace raftstore::kv {
namespace {

using command::Command;

Command SamplePut() {
  Command command;
  command.set_client_id(7);
  command.set_sequence(3);
  command.set_first_incomplete_sequence(2);
  command.set_proposed_at_ticks(99);
  command.mutable_put()->set_key("k");
  command.mutable_put()->set_value("v");
  return command;
}

TEST(CommandCodecTest, RoundTripSetsTheFormatVersion) {
  const Command command = SamplePut();
  absl::StatusOr<Command> decoded =
      DecodeCommand(EncodeCommand(command), 1 << 20);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->format_version(), kCommandFormatVersion);
  EXPECT_EQ(decoded->client_id(), 7u);
  EXPECT_EQ(decoded->sequence(), 3u);
  EXPECT_EQ(decoded->first_incomplete_sequence(), 2u);
  EXPECT_EQ(decoded->proposed_at_ticks(), 99u);
  EXPECT_EQ(decoded->put().key(), "k");
  EXPECT_EQ(decoded->put().value(), "v");
}

TEST(CommandCodecTest, GarbageIsDataLoss) {
  absl::StatusOr<Command> decoded = DecodeCommand("\xff\xff\xff", 1 << 20);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("does not parse"),
            std::string::npos);
}

TEST(CommandCodecTest, MissingFormatVersionIsDataLoss) {
  std::string data;
  ASSERT_TRUE(SamplePut().SerializeToString(&data));  // version 0
  EXPECT_EQ(DecodeCommand(data, 1 << 20).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(CommandCodecTest, NewerFormatVersionIsFailedPrecondition) {
  Command command = SamplePut();
  command.set_format_version(kCommandFormatVersion + 1);
  std::string data;
  ASSERT_TRUE(command.SerializeToString(&data));
  absl::StatusOr<Command> decoded = DecodeCommand(data, 1 << 20);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CommandCodecTest, OversizedDataIsRefusedBeforeParsing) {
  const std::string data = EncodeCommand(SamplePut());
  EXPECT_TRUE(DecodeCommand(data, data.size()).ok());
  absl::StatusOr<Command> decoded = DecodeCommand(data, data.size() - 1);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("command_bytes_max"),
            std::string::npos);
}

// KvConfig::CommandBytesMax() must cover the largest command that passes the
// apply-time bounds, with every session field at its widest.
TEST(CommandCodecTest, CommandBytesMaxCoversTheLargestValidCommand) {
  KvConfig config;
  config.key_bytes_max = 100;
  config.value_bytes_max = 1000;
  Command command;
  command.set_client_id(~0ULL);
  command.set_sequence(~0ULL);
  command.set_first_incomplete_sequence(~0ULL);
  command.set_proposed_at_ticks(~0ULL);
  command::CompareAndSwapOp* cas = command.mutable_compare_and_swap();
  cas->set_key(std::string(config.key_bytes_max, 'k'));
  cas->set_expected_value(std::string(config.value_bytes_max, 'e'));
  cas->set_new_value(std::string(config.value_bytes_max, 'n'));
  cas->set_expect_absent(true);
  EXPECT_LE(EncodeCommand(command).size(), config.CommandBytesMax());
}

TEST(CommandCodecTest, ResultBytesMaxCoversTheLargestResult) {
  KvConfig config;
  config.value_bytes_max = 1000;
  command::CommandResult result;
  result.set_outcome(command::OUTCOME_APPLIED);
  result.mutable_compare_and_swap()->set_succeeded(true);
  result.mutable_compare_and_swap()->set_previous_found(true);
  result.mutable_compare_and_swap()->set_previous_value(
      std::string(config.value_bytes_max, 'p'));
  EXPECT_LE(result.ByteSizeLong(), config.ResultBytesMax());
}

// proto/random_message.cc does not list command.proto (yet), so the
// reflection checks of //proto:schema_rules_test miss it; these are the same
// rules for this file.
TEST(CommandCodecTest, CommandProtoFollowsTheSchemaRules) {
  const google::protobuf::FileDescriptor* file = Command::descriptor()->file();
  for (int m = 0; m < file->message_type_count(); ++m) {
    const google::protobuf::Descriptor* type = file->message_type(m);
    int future_start = 0;
    int future_width = 0;
    for (int i = 0; i < type->reserved_range_count(); ++i) {
      const auto* range = type->reserved_range(i);
      if (range->end - range->start > future_width) {
        future_width = range->end - range->start;
        future_start = range->start;
      }
    }
    EXPECT_GE(future_width, 10) << type->full_name();
    for (int i = 0; i < type->field_count(); ++i) {
      EXPECT_LT(type->field(i)->number(), future_start)
          << type->full_name() << "." << type->field(i)->name();
    }
  }
  for (int e = 0; e < file->enum_type_count(); ++e) {
    const auto* zero = file->enum_type(e)->FindValueByNumber(0);
    ASSERT_NE(zero, nullptr);
    EXPECT_NE(zero->name().find("_UNSPECIFIED"), std::string::npos);
  }
  for (const char* name : {"Command", "SnapshotChunk"}) {
    const auto* version =
        file->FindMessageTypeByName(name)->FindFieldByName("format_version");
    ASSERT_NE(version, nullptr) << name;
    EXPECT_EQ(version->number(), 1) << name;
  }
}

}  // namespace
}  // namespace raftstore::kv
