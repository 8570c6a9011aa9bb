// Random protobuf messages for property tests and fuzz seed corpora.
//
// FillRandom walks a message's descriptor by reflection and sets every field
// from RapidCheck generators, so it covers each schema in proto/ (and any
// field added later) without per-message code. It must be called from inside
// a RapidCheck property: it draws with `*gen`, which also gives shrinking.
//
// Thread-safety: none needed; call from the property's thread.
#ifndef RAFTSTORE_PROTO_RANDOM_MESSAGE_H_
#define RAFTSTORE_PROTO_RANDOM_MESSAGE_H_

#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace raftstore::proto_testing {

// Sets a random subset of `message`'s fields to random values, recursing
// into sub-messages while depth < depth_max. Repeated fields get 0 to 3
// elements; a oneof gets one member or none; strings are printable ASCII
// (proto3 requires valid UTF-8); bytes are arbitrary; enums are usually a
// declared value and sometimes an unknown number (proto3 keeps those).
void FillRandom(google::protobuf::Message* message, int depth_max = 3);

// Every message type declared in RaftStore's own .proto files, in a fixed
// order (file by file, as declared, nested types after their parent).
std::vector<const google::protobuf::Descriptor*> AllRaftStoreMessageTypes();

// Every enum type declared in RaftStore's own .proto files.
std::vector<const google::protobuf::EnumDescriptor*> AllRaftStoreEnumTypes();

}  // namespace raftstore::proto_testing

#endif  // RAFTSTORE_PROTO_RANDOM_MESSAGE_H_
