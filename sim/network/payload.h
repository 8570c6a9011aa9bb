// What one SimNetwork message carries: encoded bytes, or a decoded object
// passed by shared pointer together with the size its encoding would have.
//
// The simulator passes messages between its own nodes as objects when
// nothing on the way looks at their bytes: encoding and decoding every
// message cost about a tenth of a run, and the receiver sees exactly the
// object a decode would give it. The network itself looks at size() only
// (size cap, queue bounds, bandwidth), which is the same number either way.
// The object is immutable once sent: the two copies of a duplicated message
// share it.
//
// An object is typed by a tag, so a receiver asking for the wrong type gets
// nullptr rather than a reinterpretation.
//
// Thread-safety: none (shared_ptr's count is atomic, but the simulator is
// single-threaded anyway).
#ifndef RAFTSTORE_SIM_NETWORK_PAYLOAD_H_
#define RAFTSTORE_SIM_NETWORK_PAYLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace raftstore::sim {

class Payload {
 public:
  Payload() = default;
  // Encoded bytes (implicit, so that Send(a, b, "bytes") reads naturally).
  Payload(std::string bytes)  // NOLINT(google-explicit-constructor)
      : bytes_(std::move(bytes)) {}
  Payload(const char* bytes)  // NOLINT(google-explicit-constructor)
      : bytes_(bytes) {}

  // A decoded `object` whose encoding is `encoded_bytes` long. Requires
  // object != nullptr.
  template <typename T>
  static Payload Object(std::shared_ptr<const T> object,
                        uint64_t encoded_bytes) {
    Payload payload;
    payload.type_ = TypeTag<T>();
    payload.object_ = std::move(object);
    payload.object_bytes_ = encoded_bytes;
    return payload;
  }

  // The encoded size: of the bytes, or of the object's encoding.
  uint64_t size() const {
    return object_ != nullptr ? object_bytes_ : bytes_.size();
  }
  bool has_object() const { return object_ != nullptr; }
  // The bytes; empty when the payload is an object.
  const std::string& bytes() const { return bytes_; }
  // The object if it is a T, else nullptr (bytes, or another type).
  template <typename T>
  const T* object() const {
    if (type_ != TypeTag<T>()) return nullptr;
    return static_cast<const T*>(object_.get());
  }

 private:
  // One distinct address per type T.
  template <typename T>
  static const void* TypeTag() {
    static const char tag = 0;
    return &tag;
  }

  std::string bytes_;
  const void* type_ = nullptr;
  std::shared_ptr<const void> object_;
  uint64_t object_bytes_ = 0;
};

}  // namespace raftstore::sim

#endif  // RAFTSTORE_SIM_NETWORK_PAYLOAD_H_
