// Writes the seed corpus of transport_frame_fuzz.cc from the real encoder,
// so the seeds are reviewable code rather than checked-in binaries. Each file
// is [u8 chunking][frames]:
//   argv[1]: a raft connection (HELLO then two RAFT_BATCH frames), 1-byte
//            chunks;
//   argv[2]: a client connection (HELLO, KV_REQUEST, KV_RESPONSE), chunks up
//            to 13 bytes;
//   argv[3]: admin frames, one Feed;
//   argv[4]: a good frame followed by a damaged one (checksum mismatch).

#include <cstdio>
#include <fstream>
#include <string>

#include "proto/kvrpc.pb.h"
#include "proto/store.pb.h"
#include "transport/frame.h"
#include "transport/hello.h"

namespace {

namespace transport = raftstore::transport;
namespace store = raftstore::store;
namespace kv = raftstore::kv;

constexpr uint64_t kPayloadBytesMax = 1 << 16;

template <typename M>
void Append(const M& message, std::string* out) {
  if (!transport::AppendFrame(message, kPayloadBytesMax, out).ok()) {
    std::fprintf(stderr, "make_transport_seeds: encode failed\n");
    std::exit(1);
  }
}

store::RaftMessageBatch Batch(uint64_t region_id) {
  store::RaftMessageBatch batch;
  batch.set_cluster_id(1);
  batch.set_from_store_id(1);
  batch.set_to_store_id(2);
  store::RaftMessage* message = batch.add_messages();
  message->set_region_id(region_id);
  message->mutable_from_peer()->set_id(11);
  message->mutable_from_peer()->set_store_id(1);
  message->mutable_to_peer()->set_id(12);
  message->mutable_to_peer()->set_store_id(2);
  message->mutable_message()->set_term(3);
  message->set_start_key("a");
  message->set_end_key("m");
  return batch;
}

std::string RaftConnection() {
  std::string out(1, '\x01');
  Append(transport::MakeHello(1, 1, "token"), &out);
  Append(Batch(7), &out);
  Append(Batch(8), &out);
  return out;
}

std::string ClientConnection() {
  std::string out(1, '\x0d');
  Append(transport::MakeHello(1, 0, "token"), &out);
  kv::KvRequest request;
  request.set_request_id(1);
  request.mutable_put()->set_key("key");
  request.mutable_put()->set_value("value");
  Append(request, &out);
  kv::KvResponse response;
  response.set_request_id(1);
  response.mutable_get()->set_found(true);
  response.mutable_get()->set_value("value");
  Append(response, &out);
  return out;
}

std::string AdminFrames() {
  std::string out(1, '\x00');
  store::AdminRequest request;
  request.set_request_id(2);
  request.set_region_id(7);
  request.mutable_split()->set_split_key("g");
  Append(request, &out);
  store::AdminResponse response;
  response.set_request_id(2);
  response.mutable_region()->set_id(7);
  Append(response, &out);
  return out;
}

std::string Damaged() {
  std::string out(1, '\x05');
  Append(Batch(7), &out);
  const size_t second = out.size();
  Append(Batch(8), &out);
  out[second + transport::kFrameHeaderBytes + 2] ^= 0x01;
  return out;
}

bool WriteFile(const char* path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary);
  file << bytes;
  if (!file)
    std::fprintf(stderr, "make_transport_seeds: cannot write %s\n", path);
  return static_cast<bool>(file);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: make_transport_seeds RAFT CLIENT ADMIN DAMAGED\n");
    return 2;
  }
  const bool ok = WriteFile(argv[1], RaftConnection()) &&
                  WriteFile(argv[2], ClientConnection()) &&
                  WriteFile(argv[3], AdminFrames()) &&
                  WriteFile(argv[4], Damaged());
  return ok ? 0 : 1;
}
