# Writes OUTPUT, a header defining LINAC_COMPILER_HASH: a SHA-256 over the
# contents of the files listed (one per line) in LIST. The kernel cache keys
# on it, so a rebuilt compiler never reuses kernels an older one compiled.
# The header is rewritten only when the hash changes.
file(STRINGS "${LIST}" sources)
set(digests "")
foreach(source IN LISTS sources)
  file(SHA256 "${source}" digest)
  string(APPEND digests "${digest}\n")
endforeach()
string(SHA256 hash "${digests}")
set(text "#define LINAC_COMPILER_HASH \"${hash}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${text}")
