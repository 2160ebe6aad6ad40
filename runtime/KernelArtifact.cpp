//===- KernelArtifact.cpp - a compiled kernel and its metadata ------------===//
//
// Layout: "LINACART", a u32 format version, then for each field in a fixed
// order its name and its bytes, each as a u64 size followed by the bytes.
// Integers are little-endian whatever the host, so a cache folder can be
// shared between machines.
//
//===----------------------------------------------------------------------===//

#include "runtime/KernelArtifact.h"

#include <array>
#include <cstdint>
#include <utility>

using namespace linac;

namespace {

constexpr char kMagic[] = "LINACART";
constexpr std::size_t kMagicSize = sizeof(kMagic) - 1;
constexpr std::uint32_t kFormatVersion = 1;

using Field = std::string KernelArtifact::*;

/// The fields in serialization order, by name.
constexpr std::array<std::pair<const char *, Field>, 7> kFields = {{
    {"symbol", &KernelArtifact::symbol},
    {"target", &KernelArtifact::target},
    {"metadata", &KernelArtifact::metadata},
    {"object", &KernelArtifact::object},
    {"ptx", &KernelArtifact::ptx},
    {"cubin", &KernelArtifact::cubin},
    {"ptxasLog", &KernelArtifact::ptxasLog},
}};

void appendLE(std::string &out, std::uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void appendSized(std::string &out, const std::string &bytes) {
  appendLE(out, bytes.size(), 8);
  out += bytes;
}

/// Reads a byte string front to back; a read that would run past the end
/// fails instead.
class Reader {
public:
  explicit Reader(const std::string &bytes) : bytes_(bytes) {}

  bool readLE(std::uint64_t &value, unsigned bytes) {
    if (bytes_.size() - pos_ < bytes)
      return false;
    value = 0;
    for (unsigned i = 0; i < bytes; ++i)
      value |= std::uint64_t(static_cast<unsigned char>(bytes_[pos_ + i]))
               << (8 * i);
    pos_ += bytes;
    return true;
  }

  bool skip(std::size_t bytes) {
    if (bytes_.size() - pos_ < bytes)
      return false;
    pos_ += bytes;
    return true;
  }

  bool readSized(std::string &out) {
    std::uint64_t size;
    if (!readLE(size, 8) || size > bytes_.size() - pos_)
      return false;
    out.assign(bytes_, pos_, size);
    pos_ += size;
    return true;
  }

  bool atEnd() const { return pos_ == bytes_.size(); }

private:
  const std::string &bytes_;
  std::size_t pos_ = 0;
};

} // namespace

std::string KernelArtifact::serialize() const {
  std::string out(kMagic, kMagicSize);
  appendLE(out, kFormatVersion, 4);
  for (const auto &[name, member] : kFields) {
    appendSized(out, name);
    appendSized(out, this->*member);
  }
  return out;
}

std::optional<KernelArtifact>
KernelArtifact::deserialize(const std::string &bytes) {
  if (bytes.compare(0, kMagicSize, kMagic) != 0)
    return std::nullopt;
  Reader reader(bytes);
  std::uint64_t version;
  if (!reader.skip(kMagicSize) || !reader.readLE(version, 4) ||
      version != kFormatVersion)
    return std::nullopt;

  KernelArtifact artifact;
  std::string name;
  for (const auto &[expected, member] : kFields) {
    if (!reader.readSized(name) || name != expected ||
        !reader.readSized(artifact.*member))
      return std::nullopt;
  }
  if (!reader.atEnd())
    return std::nullopt;
  return artifact;
}
