# lit configuration for linac: FileCheck tests of the dialect, each pass, the
# op library and both targets.
import os
import shutil
import subprocess

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
config.substitutions.append(("%linac_obj_root", config.linac_obj_root))
config.substitutions.append(("%mlir_include_dir", config.mlir_include_dir))

ptxas = (
    os.environ.get("LINAC_PTXAS")
    or shutil.which("ptxas")
    or ("/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
else:
    lit_config.note("ptxas not found: the tests that assemble PTX are skipped")


def find_cuobjdump():
    """cuobjdump from the toolkit, PATH, or the pip packages (with nvdisasm)."""
    found = os.environ.get("LINAC_CUOBJDUMP") or shutil.which("cuobjdump")
    if found:
        return found
    # The pip packages nvidia-cuda-cuobjdump / -nvdisasm of the python3 on
    # PATH (lit itself may run under another Python).
    python = shutil.which("python3")
    if not python:
        return None
    query = "import nvidia; print('\\n'.join(nvidia.__path__))"
    try:
        roots = subprocess.run(
            [python, "-c", query], capture_output=True, text=True, timeout=60, check=False
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    for root in roots:
        for sub in ("cu13/bin", "cu12/bin", "cuda_cuobjdump/bin"):
            candidate = os.path.join(root, sub, "cuobjdump")
            if os.path.exists(candidate):
                return candidate
    return None


cuobjdump = find_cuobjdump()
if cuobjdump and (
    shutil.which("nvdisasm") or os.path.exists(os.path.join(os.path.dirname(cuobjdump), "nvdisasm"))
):
    config.available_features.add("cuobjdump")
    # cuobjdump --dump-sass runs nvdisasm from PATH.
    config.environment["PATH"] += os.pathsep + os.path.dirname(cuobjdump)
    config.substitutions.append(("%cuobjdump", cuobjdump))
else:
    lit_config.note("cuobjdump/nvdisasm not found: the SASS tests are skipped")
