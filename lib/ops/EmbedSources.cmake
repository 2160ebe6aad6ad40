# Writes OUTPUT: one `{"<file name>", R"linac(<text>)linac"},` per file in SOURCES.
set(content "// Generated from lib/ops/*.mlir by EmbedSources.cmake. Do not edit.\n")
foreach(source ${SOURCES})
  get_filename_component(name ${source} NAME)
  file(READ ${source} text)
  string(APPEND content "{\"${name}\", R\"linac(${text})linac\"},\n")
endforeach()
file(WRITE ${OUTPUT} "${content}")
