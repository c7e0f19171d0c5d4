# -*- Python -*-
# lit configuration of resnetc: every *.mlir, *.dsl and *.test file under
# test/ (except unit/, e2e/ and numeric/, which ctest runs) is a test with
# RUN lines.
import os
import subprocess
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "resnetc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".dsl", ".test"]
config.excludes = ["Inputs", "Utils", "unit", "e2e", "numeric", "fuzz",
                   "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.resnetc_obj_root, "test")

config.substitutions.append(("%examples", os.path.join(config.resnetc_src_root, "examples")))
# `%exit N cmd ...` runs cmd and passes only if it exits with exactly N (a
# crash never passes): lit's internal shell has no `$?`.
config.substitutions.append(
    ("%exit", "%s %s" % (sys.executable,
                         os.path.join(config.test_source_root, "Utils",
                                      "expect_exit.py"))))
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["resnetc", "resnetc-opt"],
                                   [config.resnetc_tools_dir])

# `%system_python`: Debian's Python, with python3-onnx and python3-torch;
# `REQUIRES: onnx`: tests that read ONNX models with it (unsupported where
# python3-onnx is not installed).
config.substitutions.append(("%system_python", config.system_python))
try:
    if subprocess.run([config.system_python, "-c", "import onnx"],
                      stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        config.available_features.add("onnx")
except OSError:
    pass

# `REQUIRES: cuda`: tests that run a --target=cuda build need an NVIDIA GPU
# and its driver; elsewhere lit reports them unsupported.
sys.path.insert(0, os.path.join(config.test_source_root, "Utils"))
import cuda_device  # noqa: E402
if cuda_device.available():
    config.available_features.add("cuda")
