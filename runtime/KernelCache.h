//===- KernelCache.h - compiled kernels on disk ----------------*- C++ -*-===//
//
// One file per key under the cache folder. Entries carry a magic number,
// their key and a checksum; a truncated, corrupted or foreign entry is
// discarded with a warning and rebuilt by the caller. Writes go to a unique
// temporary file that is renamed into place, so concurrent writers of the
// same key never expose a partial entry.
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
  /// A cache rooted at `directory` (created on first store).
  explicit KernelCache(std::string directory);

  /// $LINAC_CACHE_DIR, else $XDG_CACHE_HOME/linac, else $HOME/.cache/linac,
  /// else /tmp/linac-cache (unset and empty variables are skipped).
  static std::string defaultDirectory();

  /// A stable hex digest (128-bit) of `text`, used to build keys.
  static std::string hashKey(const std::string &text);

  /// The payload stored under `key`, or std::nullopt on a miss. A damaged
  /// entry is removed and reported through `warning` (one line).
  std::optional<std::string> load(const std::string &key,
                                   std::string *warning = nullptr);

  /// Stores `payload` under `key` atomically. Returns false (and a one-line
  /// `warning`) when the folder cannot be written; the caller then keeps
  /// the kernel in memory only.
  bool store(const std::string &key, const std::string &payload,
             std::string *warning = nullptr);

  /// The path of the entry for `key`.
  std::string entryPath(const std::string &key) const;

  const std::string &directory() const { return directory_; }

private:
  std::string directory_;
};

} // namespace linac

#endif // LINAC_RUNTIME_KERNELCACHE_H
