// Every message of every schema in proto/ survives serialisation: parse(
// serialise(m)) equals m field for field, and deterministic serialisation of
// the parsed copy gives the very same bytes. Random messages come from
// FillRandom, which covers each field by reflection, so a field added later
// is tested without touching this file.

#include <memory>
#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/raft.pb.h"
#include "proto/random_message.h"
#include "rapidcheck.h"

namespace raftstore {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;
using google::protobuf::MessageFactory;
using google::protobuf::util::MessageDifferencer;

std::string SerializeDeterministic(const Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  const Message* prototype =
      MessageFactory::generated_factory()->GetPrototype(type);
  return std::unique_ptr<Message>(prototype->New());
}

TEST(ProtoRoundTripTest, SchemaDeclaresTheMessagesEveryLayerShares) {
  // A guard that the reflection walk really sees our files: if linking
  // dropped one, the property below would silently test less.
  const auto types = proto_testing::AllRaftStoreMessageTypes();
  std::set<std::string> names;
  for (const Descriptor* type : types) names.insert(type->full_name());
  for (const char* expected :
       {"raftstore.raft.Entry", "raftstore.raft.HardState",
        "raftstore.raft.ConfState", "raftstore.raft.ConfChange",
        "raftstore.raft.SnapshotMetadata", "raftstore.raft.Message",
        "raftstore.meta.Region", "raftstore.meta.RegionLocalState",
        "raftstore.kv.KvRequest", "raftstore.kv.KvResponse",
        "raftstore.kv.Error", "raftstore.store.RaftMessageBatch"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
}

TEST(ProtoRoundTripTest, EveryMessageRoundTripsThroughSerialisation) {
  for (const Descriptor* type : proto_testing::AllRaftStoreMessageTypes()) {
    const bool ok = rc::check("round trip of " + type->full_name(), [type] {
      std::unique_ptr<Message> original = NewMessage(type);
      proto_testing::FillRandom(original.get());
      const std::string bytes = SerializeDeterministic(*original);

      std::unique_ptr<Message> parsed = NewMessage(type);
      RC_ASSERT(parsed->ParseFromString(bytes));
      std::string difference;
      MessageDifferencer differencer;
      differencer.ReportDifferencesToString(&difference);
      RC_ASSERT(differencer.Compare(*original, *parsed));
      RC_ASSERT(SerializeDeterministic(*parsed) == bytes);
    });
    EXPECT_TRUE(ok) << type->full_name();
  }
}

TEST(ProtoRoundTripTest, TruncatedBytesNeverParseIntoTheOriginal) {
  // A frame cut short must not decode to the message that was sent: either
  // parsing fails or the result differs (a prefix can be a valid message,
  // which is why the transport and WAL frame carry a length and checksum).
  const bool ok = rc::check("truncation of raft.Message", [] {
    raft::Message original;
    proto_testing::FillRandom(&original);
    const std::string bytes = SerializeDeterministic(original);
    RC_PRE(!bytes.empty());
    const size_t cut = *rc::gen::inRange<size_t>(0, bytes.size());
    raft::Message parsed;
    if (parsed.ParseFromString(bytes.substr(0, cut))) {
      RC_ASSERT(SerializeDeterministic(parsed) != bytes);
    }
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace raftstore
