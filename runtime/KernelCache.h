//===- KernelCache.h - compiled kernels on disk ----------------*- C++ -*-===//
//
// One file per key under the cache folder. Entries carry a magic number,
// their key and a checksum; a truncated, corrupted or foreign entry is
// discarded with a warning and rebuilt by the caller. Writes go to a unique
// temporary file that is renamed into place, so concurrent writers of the
// same key never expose a partial entry. After each store, the least
// recently used entries (loads refresh the modification time) are evicted
// while the folder holds more than its size limit.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_KERNELCACHE_H
#define LINAC_RUNTIME_KERNELCACHE_H

#include <cstdint>
#include <optional>
#include <string>

namespace linac {

class KernelCache {
public:
  /// A cache rooted at `directory` (created on first store), limited to
  /// defaultMaxBytes().
  explicit KernelCache(std::string directory);

  /// $LINAC_CACHE_MAX_MB mebibytes, else 1024 MiB. 0 means no limit; a value
  /// that is not a whole number is ignored.
  static std::uint64_t defaultMaxBytes();

  /// $LINAC_CACHE_DIR, else $XDG_CACHE_HOME/linac, else $HOME/.cache/linac,
  /// else /tmp/linac-cache (unset and empty variables are skipped).
  static std::string defaultDirectory();

  /// A stable hex digest (128-bit) of `text`, used to build keys.
  static std::string hashKey(const std::string &text);

  /// The payload stored under `key`, or std::nullopt on a miss. A damaged
  /// entry is removed and reported through `warning` (one line).
  std::optional<std::string> load(const std::string &key,
                                   std::string *warning = nullptr);

  /// Stores `payload` under `key` atomically, then evicts the least recently
  /// used other entries while the folder exceeds the size limit. Returns
  /// false (and a one-line `warning`) when the folder cannot be written; the
  /// caller then keeps the kernel in memory only.
  bool store(const std::string &key, const std::string &payload,
             std::string *warning = nullptr);

  /// The path of the entry for `key`.
  std::string entryPath(const std::string &key) const;

  const std::string &directory() const { return directory_; }

  /// The size limit of the folder in bytes (0: none).
  std::uint64_t maxBytes() const { return maxBytes_; }
  void setMaxBytes(std::uint64_t maxBytes) { maxBytes_ = maxBytes; }

private:
  /// Removes temporary files left by crashed writers and, beyond the size
  /// limit, the least recently used entries other than `keep`.
  void evict(const std::string &keep);

  std::string directory_;
  std::uint64_t maxBytes_;
};

} // namespace linac

#endif // LINAC_RUNTIME_KERNELCACHE_H
