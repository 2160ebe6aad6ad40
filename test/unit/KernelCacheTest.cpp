//===- KernelCacheTest.cpp - the on-disk kernel cache ---------------------===//

#include "runtime/KernelCache.h"

#include <gtest/gtest.h>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <vector>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace linac;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

bool exists(const std::string &path) { return llvm::sys::fs::exists(path); }

/// The names in `folder`, to check that no temporary file is left behind.
std::vector<std::string> listFolder(const std::string &folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(folder, ec), end; !ec && it != end;
       it.increment(ec))
    names.push_back(std::string(llvm::sys::path::filename(it->path())));
  return names;
}

/// A payload whose bytes depend on `seed` and include NULs.
std::string makePayload(std::size_t size, unsigned seed) {
  std::string payload(size, '\0');
  std::uint32_t state = seed * 2654435761u + 1;
  for (char &c : payload) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  return payload;
}

class KernelCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/linac-cache-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root = pattern;
    dir = root + "/cache";
  }

  void TearDown() override {
    chmod(dir.c_str(), 0755);
    llvm::sys::fs::remove_directories(root);
  }

  std::string root;
  std::string dir;
  const std::string key = KernelCache::hashKey("chunk_gla_fwd sm_90 B=2");
};

TEST_F(KernelCacheTest, MissHasNoWarning) {
  KernelCache cache(dir);
  std::string warning;
  EXPECT_FALSE(cache.load(key, &warning));
  EXPECT_TRUE(warning.empty()) << warning;
}

TEST_F(KernelCacheTest, StoreThenLoadReturnsThePayload) {
  KernelCache cache(dir);
  std::string payload = makePayload(1000, 1);
  std::string warning;
  ASSERT_TRUE(cache.store(key, payload, &warning)) << warning;
  EXPECT_EQ(cache.entryPath(key),
            dir + "/" + key.substr(0, 2) + "/" + key + ".bin");
  EXPECT_EQ(listFolder(dir + "/" + key.substr(0, 2)),
            std::vector<std::string>{key + ".bin"});

  std::optional<std::string> loaded = KernelCache(dir).load(key, &warning);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, payload);
  EXPECT_TRUE(warning.empty()) << warning;
}

TEST_F(KernelCacheTest, StoreReplacesAnExistingEntry) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, "old"));
  ASSERT_TRUE(cache.store(key, "new"));
  EXPECT_EQ(cache.load(key), "new");
}

TEST_F(KernelCacheTest, EmptyPayloadRoundTrips) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, ""));
  EXPECT_EQ(cache.load(key), "");
}

TEST_F(KernelCacheTest, HashKeyIsStableHex) {
  std::string hash = KernelCache::hashKey("linac");
  EXPECT_EQ(hash.size(), 32u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos)
      << hash;
  EXPECT_EQ(KernelCache::hashKey("linac"), hash);
  EXPECT_NE(KernelCache::hashKey("linac "), hash);
  // XXH3-128 of the empty input, in canonical (big-endian) order: a change
  // here would silently invalidate every existing cache.
  EXPECT_EQ(KernelCache::hashKey(""), "99aa06d3014798d86001c324468d497f");
}

TEST_F(KernelCacheTest, LoadMarksTheEntryRecentlyUsed) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, "payload"));
  std::string entry = cache.entryPath(key);
  struct timeval old[2] = {{946684800, 0}, {946684800, 0}};
  ASSERT_EQ(utimes(entry.c_str(), old), 0);
  ASSERT_TRUE(cache.load(key));
  struct stat status;
  ASSERT_EQ(stat(entry.c_str(), &status), 0);
  EXPECT_GT(status.st_mtime, old[1].tv_sec);
}

/// Checks that `cache` discards its entry for `key` with `reason`, and that
/// the key can be stored and loaded again afterwards.
void expectDiscarded(KernelCache &cache, const std::string &key,
                     const std::string &reason) {
  std::string entry = cache.entryPath(key);
  std::string warning;
  EXPECT_FALSE(cache.load(key, &warning));
  EXPECT_EQ(warning, "linac: discarded corrupted cache entry " + entry + " (" +
                         reason + "); recompiling");
  EXPECT_FALSE(exists(entry));

  warning.clear();
  ASSERT_TRUE(cache.store(key, "rebuilt", &warning)) << warning;
  EXPECT_EQ(cache.load(key, &warning), "rebuilt");
  EXPECT_TRUE(warning.empty()) << warning;
}

TEST_F(KernelCacheTest, CorruptedPayloadByteIsDiscarded) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, makePayload(4096, 2)));
  std::string entry = cache.entryPath(key);
  std::string bytes = readFile(entry);
  bytes[bytes.size() - 100] ^= 0x01;
  writeFile(entry, bytes);
  expectDiscarded(cache, key, "checksum mismatch");
}

TEST_F(KernelCacheTest, TruncatedEntryIsDiscarded) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, makePayload(4096, 3)));
  std::string entry = cache.entryPath(key);
  std::string bytes = readFile(entry);
  // Cut inside the magic, the key, the header and the payload.
  for (std::size_t length : {std::size_t(0), std::size_t(5), std::size_t(20),
                             8 + 8 + key.size() + 4, bytes.size() - 1}) {
    SCOPED_TRACE("length " + std::to_string(length));
    ASSERT_TRUE(cache.store(key, makePayload(4096, 3)));
    writeFile(entry, bytes.substr(0, length));
    expectDiscarded(cache, key, "truncated");
  }
}

TEST_F(KernelCacheTest, TrailingBytesAreDiscarded) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, "payload"));
  std::string entry = cache.entryPath(key);
  writeFile(entry, readFile(entry) + "x");
  expectDiscarded(cache, key, "size mismatch");
}

TEST_F(KernelCacheTest, UnknownMagicIsDiscarded) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, "payload"));
  std::string entry = cache.entryPath(key);
  std::string bytes = readFile(entry);
  bytes[7] = '0';
  writeFile(entry, bytes);
  expectDiscarded(cache, key, "bad magic");
}

TEST_F(KernelCacheTest, ForeignEntryIsDiscarded) {
  KernelCache cache(dir);
  std::string other = KernelCache::hashKey("another kernel");
  ASSERT_TRUE(cache.store(other, "the other kernel"));
  std::string entry = cache.entryPath(key);
  ASSERT_FALSE(
      llvm::sys::fs::create_directories(llvm::sys::path::parent_path(entry)));
  ASSERT_EQ(rename(cache.entryPath(other).c_str(), entry.c_str()), 0);
  expectDiscarded(cache, key, "written for another key");
}

TEST_F(KernelCacheTest, ConcurrentFirstStoresAllSucceed) {
  // Each process stores its own 4 MiB payload under the same key at the same
  // moment, then loads: every load must return one writer's payload intact.
  constexpr unsigned kWriters = 8;
  constexpr std::size_t kSize = 4 << 20;
  std::vector<std::string> payloads;
  for (unsigned writer = 0; writer < kWriters; ++writer)
    payloads.push_back(makePayload(kSize, 100 + writer));
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  std::vector<pid_t> children;
  for (unsigned writer = 0; writer < kWriters; ++writer) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(gate[1]);
      char go;
      if (read(gate[0], &go, 1) != 0)
        _exit(2);
      KernelCache cache(dir);
      std::string warning;
      if (!cache.store(key, payloads[writer], &warning))
        _exit(3);
      std::optional<std::string> loaded = cache.load(key, &warning);
      if (!loaded || !warning.empty())
        _exit(4);
      for (const std::string &payload : payloads)
        if (*loaded == payload)
          _exit(0);
      _exit(5);
    }
    children.push_back(pid);
  }
  close(gate[0]);
  // Closing the write end wakes every child at once.
  close(gate[1]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "writer " << pid;
  }
  std::optional<std::string> loaded = KernelCache(dir).load(key);
  ASSERT_TRUE(loaded);
  EXPECT_NE(std::find(payloads.begin(), payloads.end(), *loaded),
            payloads.end());
  EXPECT_EQ(listFolder(dir + "/" + key.substr(0, 2)),
            std::vector<std::string>{key + ".bin"});
}

TEST_F(KernelCacheTest, ReadOnlyFolderKeepsTheKernelInMemory) {
  ASSERT_EQ(mkdir(dir.c_str(), 0555), 0);
  if (access(dir.c_str(), W_OK) == 0)
    GTEST_SKIP() << "the folder stays writable (running as root)";
  KernelCache cache(dir);
  std::string warning;
  EXPECT_FALSE(cache.store(key, "payload", &warning));
  EXPECT_EQ(
      warning.rfind("linac: cannot write the kernel cache at " + dir + " (", 0),
      0u)
      << warning;
  EXPECT_NE(warning.find("); keeping the kernel in memory"), std::string::npos)
      << warning;
  warning.clear();
  EXPECT_FALSE(cache.load(key, &warning));
  EXPECT_TRUE(warning.empty()) << warning;
}

TEST_F(KernelCacheTest, UncreatableFolderKeepsTheKernelInMemory) {
  // A regular file where the cache folder should be: fails even for root.
  writeFile(root + "/file", "");
  KernelCache cache(root + "/file/cache");
  std::string warning;
  EXPECT_FALSE(cache.store(key, "payload", &warning));
  EXPECT_EQ(warning.rfind("linac: cannot write the kernel cache at " + root +
                              "/file/cache (",
                          0),
            0u)
      << warning;
  EXPECT_NE(warning.find("); keeping the kernel in memory"), std::string::npos)
      << warning;
  EXPECT_EQ(warning.find('\n'), std::string::npos) << warning;
}

TEST_F(KernelCacheTest, FullDiskKeepsTheKernelInMemory) {
  // A file size limit makes every write past 4 KiB fail (EFBIG), as a full
  // disk would; it is set in a child so the test process keeps no limit.
  std::string payload = makePayload(1 << 20, 7);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0)
      _exit(2);
    KernelCache cache(dir);
    std::string warning;
    if (cache.store(key, payload, &warning))
      _exit(3);
    if (warning.rfind("linac: cannot write the kernel cache at " + dir, 0) !=
            0 ||
        warning.find("; keeping the kernel in memory") == std::string::npos)
      _exit(4);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Neither a partial entry nor a temporary file is left behind.
  EXPECT_FALSE(KernelCache(dir).load(key));
  EXPECT_TRUE(listFolder(dir + "/" + key.substr(0, 2)).empty());
}

/// Sets the modification time of `path`, the clock of the LRU eviction.
void setLastUsed(const std::string &path, time_t seconds) {
  struct timeval times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimes(path.c_str(), times), 0) << path;
}

std::uint64_t fileSize(const std::string &path) {
  std::uint64_t size = 0;
  EXPECT_FALSE(llvm::sys::fs::file_size(path, size)) << path;
  return size;
}

TEST_F(KernelCacheTest, StoreEvictsLeastRecentlyUsedEntriesBeyondTheLimit) {
  KernelCache cache(dir);
  cache.setMaxBytes(0);
  std::vector<std::string> keys;
  for (unsigned i = 0; i < 5; ++i)
    keys.push_back(KernelCache::hashKey("kernel " + std::to_string(i)));
  // Entries 0..3, oldest first; equal key and payload sizes give equal
  // entry sizes.
  for (unsigned i = 0; i < 4; ++i) {
    ASSERT_TRUE(cache.store(keys[i], makePayload(1000, i)));
    setLastUsed(cache.entryPath(keys[i]), 1000000000 + 10 * i);
  }
  // A load makes entry 0 the most recently used.
  ASSERT_TRUE(cache.load(keys[0]));
  std::uint64_t entrySize = fileSize(cache.entryPath(keys[0]));
  cache.setMaxBytes(3 * entrySize);

  // Five entries, room for three: the two least recently used go.
  std::string warning;
  ASSERT_TRUE(cache.store(keys[4], makePayload(1000, 4), &warning));
  EXPECT_TRUE(warning.empty()) << warning;
  EXPECT_TRUE(exists(cache.entryPath(keys[0])));
  EXPECT_FALSE(exists(cache.entryPath(keys[1])));
  EXPECT_FALSE(exists(cache.entryPath(keys[2])));
  EXPECT_TRUE(exists(cache.entryPath(keys[3])));
  EXPECT_EQ(cache.load(keys[4]), makePayload(1000, 4));
  EXPECT_EQ(cache.load(keys[0]), makePayload(1000, 0));
}

TEST_F(KernelCacheTest, StoreNeverEvictsTheEntryItWrote) {
  KernelCache cache(dir);
  // Smaller than any entry: each store keeps its own entry and only it.
  cache.setMaxBytes(1);
  std::string other = KernelCache::hashKey("another kernel");
  ASSERT_TRUE(cache.store(key, "first"));
  EXPECT_EQ(cache.load(key), "first");
  ASSERT_TRUE(cache.store(other, "second"));
  EXPECT_FALSE(exists(cache.entryPath(key)));
  EXPECT_EQ(cache.load(other), "second");
}

TEST_F(KernelCacheTest, NoLimitKeepsEveryEntry) {
  KernelCache cache(dir);
  cache.setMaxBytes(0);
  for (unsigned i = 0; i < 8; ++i)
    ASSERT_TRUE(cache.store(KernelCache::hashKey(std::to_string(i)),
                            makePayload(10000, i)));
  for (unsigned i = 0; i < 8; ++i)
    EXPECT_EQ(cache.load(KernelCache::hashKey(std::to_string(i))),
              makePayload(10000, i));
}

TEST_F(KernelCacheTest, StoreRemovesStaleTemporaryFiles) {
  KernelCache cache(dir);
  ASSERT_TRUE(cache.store(key, "payload"));
  // What writers killed between creating and renaming leave behind, and the
  // file of a writer still at work.
  std::string stale = cache.entryPath(key) + ".tmp-000000000001";
  std::string live = cache.entryPath(key) + ".tmp-000000000002";
  writeFile(stale, "partial");
  writeFile(live, "partial");
  setLastUsed(stale, time(nullptr) - 2 * 3600);
  ASSERT_TRUE(cache.store(key, "payload"));
  EXPECT_FALSE(exists(stale));
  EXPECT_TRUE(exists(live));
}

/// Sets or unsets environment variables for one test.
class ScopedEnv {
public:
  void set(const char *name, const char *value) {
    if (!saved.count(name)) {
      const char *old = std::getenv(name);
      saved[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    for (const auto &[name, value] : saved)
      set(name.c_str(), value ? value->c_str() : nullptr);
  }

private:
  std::map<std::string, std::optional<std::string>> saved;
};

TEST(KernelCacheDirectoryTest, FollowsEnvironmentPrecedence) {
  ScopedEnv env;
  env.set("LINAC_CACHE_DIR", "/cache/linac-env");
  env.set("XDG_CACHE_HOME", "/xdg");
  env.set("HOME", "/home/user");
  EXPECT_EQ(KernelCache::defaultDirectory(), "/cache/linac-env");

  env.set("LINAC_CACHE_DIR", "");
  EXPECT_EQ(KernelCache::defaultDirectory(), "/xdg/linac");

  env.set("LINAC_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", "");
  EXPECT_EQ(KernelCache::defaultDirectory(), "/home/user/.cache/linac");

  env.set("XDG_CACHE_HOME", nullptr);
  EXPECT_EQ(KernelCache::defaultDirectory(), "/home/user/.cache/linac");

  env.set("HOME", nullptr);
  EXPECT_EQ(KernelCache::defaultDirectory(), "/tmp/linac-cache");
}

TEST(KernelCacheDirectoryTest, SizeLimitFollowsTheEnvironment) {
  constexpr std::uint64_t kMiB = 1 << 20;
  ScopedEnv env;
  env.set("LINAC_CACHE_MAX_MB", nullptr);
  EXPECT_EQ(KernelCache::defaultMaxBytes(), 1024 * kMiB);
  EXPECT_EQ(KernelCache("/tmp/unused").maxBytes(), 1024 * kMiB);

  env.set("LINAC_CACHE_MAX_MB", "5");
  EXPECT_EQ(KernelCache::defaultMaxBytes(), 5 * kMiB);
  EXPECT_EQ(KernelCache("/tmp/unused").maxBytes(), 5 * kMiB);

  env.set("LINAC_CACHE_MAX_MB", "0");
  EXPECT_EQ(KernelCache::defaultMaxBytes(), 0u);

  // Too large to count in bytes: no limit.
  env.set("LINAC_CACHE_MAX_MB", "17592186044416");
  EXPECT_EQ(KernelCache::defaultMaxBytes(), 0u);

  for (const char *ignored : {"", "abc", "-3", "1.5", "12MB"}) {
    env.set("LINAC_CACHE_MAX_MB", ignored);
    EXPECT_EQ(KernelCache::defaultMaxBytes(), 1024 * kMiB) << ignored;
  }
}

} // namespace
