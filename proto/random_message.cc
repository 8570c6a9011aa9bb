#include "proto/random_message.h"

#include <cstdint>
#include <string>

#include "proto/command.pb.h"
#include "proto/kvrpc.pb.h"
#include "proto/manifest.pb.h"
#include "proto/raft.pb.h"
#include "proto/region.pb.h"
#include "proto/store.pb.h"
#include "proto/transport.pb.h"
#include "proto/wal.pb.h"
#include "rapidcheck.h"

namespace raftstore::proto_testing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kRepeatedMax = 3;

// Referencing one type of each file links its generated code and registers
// the file in the generated pool, so the lookups below always succeed.
std::vector<const FileDescriptor*> RaftStoreFiles() {
  return {
      raftstore::raft::Message::descriptor()->file(),
      raftstore::meta::Region::descriptor()->file(),
      raftstore::kv::KvRequest::descriptor()->file(),
      raftstore::store::RaftMessageBatch::descriptor()->file(),
      raftstore::command::Command::descriptor()->file(),
      raftstore::manifest::ManifestEdit::descriptor()->file(),
      raftstore::wal::EntriesRecord::descriptor()->file(),
      raftstore::transport::Hello::descriptor()->file(),
  };
}

void AddNested(const Descriptor* type, std::vector<const Descriptor*>* out) {
  out->push_back(type);
  for (int i = 0; i < type->nested_type_count(); ++i) {
    AddNested(type->nested_type(i), out);
  }
}

std::string RandomAscii() {
  return *rc::gen::container<std::string>(rc::gen::inRange<char>(' ', '~' + 1));
}

int RandomEnumNumber(const EnumDescriptor* type) {
  // One time in eight, a number the schema does not declare: a newer peer
  // may send one, and it must round-trip untouched.
  if (*rc::gen::inRange(0, 8) == 0) {
    return *rc::gen::inRange(0, 1 << 20);
  }
  const int i = *rc::gen::inRange(0, type->value_count());
  return type->value(i)->number();
}

// Sets (or, for repeated fields, appends) one random value.
void SetOne(Message* message, const FieldDescriptor* field, int depth_left) {
  const Reflection* r = message->GetReflection();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
#define RS_SCALAR_CASE(CPPTYPE, TYPE, METHOD)   \
  case FieldDescriptor::CPPTYPE: {              \
    const TYPE v = *rc::gen::arbitrary<TYPE>(); \
    rep ? r->Add##METHOD(message, field, v)     \
        : r->Set##METHOD(message, field, v);    \
    break;                                      \
  }
    RS_SCALAR_CASE(CPPTYPE_INT32, int32_t, Int32)
    RS_SCALAR_CASE(CPPTYPE_INT64, int64_t, Int64)
    RS_SCALAR_CASE(CPPTYPE_UINT32, uint32_t, UInt32)
    RS_SCALAR_CASE(CPPTYPE_UINT64, uint64_t, UInt64)
    RS_SCALAR_CASE(CPPTYPE_BOOL, bool, Bool)
    RS_SCALAR_CASE(CPPTYPE_DOUBLE, double, Double)
    RS_SCALAR_CASE(CPPTYPE_FLOAT, float, Float)
#undef RS_SCALAR_CASE
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = RandomEnumNumber(field->enum_type());
      rep ? r->AddEnumValue(message, field, v)
          : r->SetEnumValue(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string v = field->type() == FieldDescriptor::TYPE_STRING
                                ? RandomAscii()
                                : *rc::gen::arbitrary<std::string>();
      rep ? r->AddString(message, field, v) : r->SetString(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* child = rep ? r->AddMessage(message, field)
                           : r->MutableMessage(message, field);
      FillRandom(child, depth_left - 1);
      break;
    }
  }
}

}  // namespace

void FillRandom(Message* message, int depth_max) {
  const Descriptor* type = message->GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        depth_max <= 0) {
      continue;
    }
    if (field->containing_oneof() != nullptr) {
      // Members of a oneof are handled once, by the oneof, below.
      continue;
    }
    if (field->is_repeated()) {
      const int count = *rc::gen::inRange(0, kRepeatedMax + 1);
      for (int n = 0; n < count; ++n) SetOne(message, field, depth_max);
    } else if (*rc::gen::arbitrary<bool>()) {
      SetOne(message, field, depth_max);
    }
  }
  for (int i = 0; i < type->oneof_decl_count(); ++i) {
    const auto* oneof = type->oneof_decl(i);
    // One member, or (index == field_count) none at all.
    const int choice = *rc::gen::inRange(0, oneof->field_count() + 1);
    if (choice == oneof->field_count()) continue;
    const FieldDescriptor* field = oneof->field(choice);
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        depth_max <= 0) {
      continue;
    }
    SetOne(message, field, depth_max);
  }
}

std::vector<const Descriptor*> AllRaftStoreMessageTypes() {
  std::vector<const Descriptor*> types;
  for (const FileDescriptor* file : RaftStoreFiles()) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      AddNested(file->message_type(i), &types);
    }
  }
  return types;
}

std::vector<const EnumDescriptor*> AllRaftStoreEnumTypes() {
  std::vector<const EnumDescriptor*> enums;
  for (const FileDescriptor* file : RaftStoreFiles()) {
    for (int i = 0; i < file->enum_type_count(); ++i) {
      enums.push_back(file->enum_type(i));
    }
    for (const Descriptor* type : AllRaftStoreMessageTypes()) {
      if (type->file() != file) continue;
      for (int i = 0; i < type->enum_type_count(); ++i) {
        enums.push_back(type->enum_type(i));
      }
    }
  }
  return enums;
}

}  // namespace raftstore::proto_testing
