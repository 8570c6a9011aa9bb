// Fuzzes the decoding of everything a peer or a client can send: bytes off the
// network parsed as a store-to-store RaftMessageBatch and as a client
// KvRequest. Whatever parses must survive a round trip unchanged (serialise
// deterministically, parse again, serialise again: same bytes), and no input
// may crash, hang or leak. The first input byte picks the message type so one
// corpus covers both.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "proto/kvrpc.pb.h"
#include "proto/store.pb.h"

namespace {

std::string Serialize(const google::protobuf::MessageLite& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

template <typename M>
void RoundTrip(const uint8_t* data, size_t size) {
  M first;
  if (!first.ParseFromArray(data, static_cast<int>(size))) return;
  const std::string bytes = Serialize(first);
  M second;
  if (!second.ParseFromString(bytes) || Serialize(second) != bytes) {
    std::abort();  // a decoded message did not survive a round trip
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    RoundTrip<raftstore::store::RaftMessageBatch>(data + 1, size - 1);
  } else {
    RoundTrip<raftstore::kv::KvRequest>(data + 1, size - 1);
  }
  return 0;
}
