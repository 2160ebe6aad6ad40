//===- KernelCache.cpp - compiled kernels on disk -------------------------===//
//
// Entry layout (integers little-endian):
//   "LINACKC1" | u64 key size | key | u64 payload size | u64 xxh3 of payload |
//   payload
// The key guards against a file copied or renamed under another key's name;
// the checksum against truncation and bit rot.
//
//===----------------------------------------------------------------------===//

#include "runtime/KernelCache.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Chrono.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <chrono>
#include <cstdlib>
#include <vector>

using namespace linac;
namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;

namespace {

constexpr llvm::StringLiteral kMagic = "LINACKC1";
constexpr std::uint64_t kDefaultMaxMiB = 1024;
/// A temporary file older than this belongs to a writer that died before
/// its rename; live writers finish in seconds.
constexpr std::chrono::hours kStaleTemporaryAge(1);

std::uint64_t checksum(llvm::StringRef payload) {
  return llvm::xxh3_64bits(payload);
}

void appendU64(std::string &out, std::uint64_t value) {
  char bytes[8];
  llvm::support::endian::write64le(bytes, value);
  out.append(bytes, sizeof(bytes));
}

/// Reads a little-endian u64 at the front of `in` and drops it.
bool consumeU64(llvm::StringRef &in, std::uint64_t &value) {
  if (in.size() < 8)
    return false;
  value = llvm::support::endian::read64le(in.data());
  in = in.drop_front(8);
  return true;
}

/// Why `entry` is not a valid entry for `key`, or nullptr when it is (and
/// then `payload` is set).
const char *checkEntry(llvm::StringRef entry, llvm::StringRef key,
                       llvm::StringRef &payload) {
  if (!entry.consume_front(kMagic))
    return entry.size() < kMagic.size() && kMagic.starts_with(entry)
               ? "truncated"
               : "bad magic";
  std::uint64_t keySize, payloadSize, expectedChecksum;
  if (!consumeU64(entry, keySize) || entry.size() < keySize)
    return "truncated";
  if (entry.take_front(keySize) != key)
    return "written for another key";
  entry = entry.drop_front(keySize);
  if (!consumeU64(entry, payloadSize) || !consumeU64(entry, expectedChecksum))
    return "truncated";
  if (entry.size() < payloadSize)
    return "truncated";
  if (entry.size() > payloadSize)
    return "size mismatch";
  if (checksum(entry) != expectedChecksum)
    return "checksum mismatch";
  payload = entry;
  return nullptr;
}

void setWarning(std::string *warning, const llvm::Twine &message) {
  if (warning)
    *warning = message.str();
}

} // namespace

KernelCache::KernelCache(std::string directory)
    : directory_(std::move(directory)), maxBytes_(defaultMaxBytes()) {}

std::uint64_t KernelCache::defaultMaxBytes() {
  const char *value = std::getenv("LINAC_CACHE_MAX_MB");
  std::uint64_t mebibytes;
  if (!value || llvm::StringRef(value).getAsInteger(10, mebibytes))
    mebibytes = kDefaultMaxMiB;
  // A limit too large to count in bytes is no limit.
  return mebibytes > (UINT64_MAX >> 20) ? 0 : mebibytes << 20;
}

std::string KernelCache::defaultDirectory() {
  auto env = [](const char *name) -> llvm::StringRef {
    const char *value = std::getenv(name);
    return value ? value : "";
  };
  if (llvm::StringRef dir = env("LINAC_CACHE_DIR"); !dir.empty())
    return dir.str();
  llvm::SmallString<256> dir;
  if (llvm::StringRef xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    path::append(dir, xdg, "linac");
  else if (llvm::StringRef home = env("HOME"); !home.empty())
    path::append(dir, home, ".cache", "linac");
  else
    dir = "/tmp/linac-cache";
  return std::string(dir);
}

std::string KernelCache::hashKey(const std::string &text) {
  llvm::XXH128_hash_t hash = llvm::xxh3_128bits(llvm::ArrayRef(
      reinterpret_cast<const std::uint8_t *>(text.data()), text.size()));
  std::string hex;
  llvm::raw_string_ostream os(hex);
  os << llvm::format_hex_no_prefix(hash.high64, 16)
     << llvm::format_hex_no_prefix(hash.low64, 16);
  return hex;
}

std::string KernelCache::entryPath(const std::string &key) const {
  // Shard by the first two characters so no folder grows too large.
  llvm::SmallString<256> entry(directory_);
  path::append(entry, llvm::StringRef(key).take_front(2), key + ".bin");
  return std::string(entry);
}

std::optional<std::string> KernelCache::load(const std::string &key,
                                             std::string *warning) {
  std::string entryFile = entryPath(key);
  int fd;
  if (std::error_code ec = fs::openFileForRead(entryFile, fd)) {
    if (ec != std::errc::no_such_file_or_directory)
      setWarning(warning, "linac: cannot read cache entry " + entryFile + " (" +
                              ec.message() + "); recompiling");
    return std::nullopt;
  }
  llvm::SmallString<0> entry;
  fs::file_status openedStatus;
  std::error_code statusError = fs::status(fd, openedStatus);
  llvm::Error readError =
      fs::readNativeFileToEOF(fs::convertFDToNativeFile(fd), entry);
  if (readError) {
    fs::closeFile(fd);
    setWarning(warning, "linac: cannot read cache entry " + entryFile + " (" +
                            llvm::toString(std::move(readError)) +
                            "); recompiling");
    return std::nullopt;
  }

  llvm::StringRef payload;
  if (const char *reason = checkEntry(entry, key, payload)) {
    fs::closeFile(fd);
    // Another process may have published a good entry since we opened this
    // one; remove the path only while it still names the damaged file.
    fs::file_status currentStatus;
    if (!statusError && !fs::status(entryFile, currentStatus) &&
        fs::equivalent(openedStatus, currentStatus))
      fs::remove(entryFile);
    setWarning(warning, "linac: discarded corrupted cache entry " + entryFile +
                            " (" + reason + "); recompiling");
    return std::nullopt;
  }
  // Mark the entry as recently used for a later LRU eviction; a read-only
  // cache still serves hits, so failures are ignored.
  (void)fs::setLastAccessAndModificationTime(
      fd, std::chrono::time_point_cast<std::chrono::nanoseconds>(
              std::chrono::system_clock::now()));
  fs::closeFile(fd);
  return payload.str();
}

bool KernelCache::store(const std::string &key, const std::string &payload,
                        std::string *warning) {
  auto fail = [&](const llvm::Twine &reason) {
    setWarning(warning, "linac: cannot write the kernel cache at " +
                            directory_ + " (" + reason +
                            "); keeping the kernel in memory");
    return false;
  };

  std::string entryFile = entryPath(key);
  llvm::StringRef folder = path::parent_path(entryFile);
  if (std::error_code ec = fs::create_directories(folder))
    return fail("cannot create " + folder + ": " + ec.message());

  std::string header = kMagic.str();
  appendU64(header, key.size());
  header += key;
  appendU64(header, payload.size());
  appendU64(header, checksum(payload));

  // The temporary file lives next to the entry so the rename stays on one
  // file system and is atomic. No fsync: an entry damaged by a crash fails
  // its checksum and is rebuilt.
  int fd;
  llvm::SmallString<256> tempFile;
  if (std::error_code ec =
          fs::createUniqueFile(entryFile + ".tmp-%%%%%%%%%%%%", fd, tempFile))
    return fail("cannot create a temporary file: " + ec.message());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << header << payload;
    os.close();
    if (os.has_error()) {
      std::error_code ec = os.error();
      os.clear_error();
      fs::remove(tempFile);
      return fail("cannot write " + tempFile + ": " + ec.message());
    }
  }
  if (std::error_code ec = fs::rename(tempFile, entryFile)) {
    fs::remove(tempFile);
    return fail("cannot rename " + tempFile + ": " + ec.message());
  }
  evict(entryFile);
  return true;
}

void KernelCache::evict(const std::string &keep) {
  struct Entry {
    std::string path;
    std::uint64_t size;
    llvm::sys::TimePoint<> lastUsed;
  };
  std::vector<Entry> entries;
  std::uint64_t total = 0;
  auto now = std::chrono::system_clock::now();
  // Every failure here is ignored: another process may be evicting or
  // writing the same folder, and a cache over its limit still works.
  std::error_code ec;
  for (fs::directory_iterator shard(directory_, ec), end; !ec && shard != end;
       shard.increment(ec)) {
    std::error_code shardError;
    for (fs::directory_iterator it(shard->path(), shardError);
         !shardError && it != end; it.increment(shardError)) {
      fs::file_status status;
      if (fs::status(it->path(), status, /*Follow=*/false) ||
          status.type() != fs::file_type::regular_file)
        continue;
      llvm::StringRef name = path::filename(it->path());
      if (name.contains(".bin.tmp-")) {
        if (now - status.getLastModificationTime() > kStaleTemporaryAge)
          fs::remove(it->path());
        continue;
      }
      if (!name.ends_with(".bin"))
        continue;
      total += status.getSize();
      if (it->path() != keep)
        entries.push_back(
            {it->path(), status.getSize(), status.getLastModificationTime()});
    }
  }
  if (maxBytes_ == 0 || total <= maxBytes_)
    return;
  llvm::sort(entries, [](const Entry &a, const Entry &b) {
    return a.lastUsed < b.lastUsed;
  });
  for (const Entry &entry : entries) {
    if (total <= maxBytes_)
      break;
    if (!fs::remove(entry.path))
      total -= entry.size;
  }
}
