# lit configuration for linac: FileCheck tests of the dialect, each pass, the
# op library and both targets.
import os
import shutil

import lit.formats

config.name = "linac"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.linac_obj_root, "test", "lit")

# Tools: ours first, then LLVM's (FileCheck, not, split-file).
config.environment["PATH"] = os.pathsep.join(
    [config.linac_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
# Keep tests away from the user's kernel cache.
config.environment["LINAC_CACHE_DIR"] = os.path.join(config.test_exec_root, "kernel-cache")

config.substitutions.append(("%linac_src_root", config.linac_src_root))
config.substitutions.append(("%mlir_include_dir", config.mlir_include_dir))

ptxas = os.environ.get("LINAC_PTXAS") or shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None
)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
else:
    lit_config.note("ptxas not found: the tests that assemble PTX are skipped")
