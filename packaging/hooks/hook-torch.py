# Design Studio's own PyInstaller hook for torch (the CPU build), used instead of the contrib one
# (hookspath wins). The contrib hook lists every torch submodule (about 2,300 files) as a hidden
# import, so PyInstaller analyses all of them; this one lists the modules `import torch` and our
# use of it really load (found by importing them in a child), and PyInstaller's static analysis
# adds what those import. It also leaves out torch's test libraries, headers and CMake files.
import json
import subprocess
import sys

from PyInstaller.utils.hooks import PY_DYLIB_PATTERNS, collect_data_files, collect_dynamic_libs

module_collection_mode = "pyz+py"   # torch reads some of its own sources (jit, inspect)
warn_on_missing_hiddenimports = False

_probe = ("import sys, json, torch, torch.nn.functional, torch.fft, torch.linalg\n"
          "print(json.dumps(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))))")
hiddenimports = json.loads(subprocess.run([sys.executable, "-c", _probe], check=True, capture_output=True,
                                          text=True).stdout.splitlines()[-1])

datas = collect_data_files("torch", excludes=["**/*.h", "**/*.hpp", "**/*.cuh", "**/*.lib", "**/*.cpp", "**/*.pyi",
                                              "**/*.cmake", "include/**", "share/**", "**/*.a",
                                              "test/**"])   # torch/test: its C++ test programs, 83 MB
_TEST_LIBS = ("libjitbackend_test.so", "libtorchbind_test.so", "libaoti_custom_ops.so", "libbackend_with_compiler.so")
binaries = [(src, dest) for src, dest in collect_dynamic_libs("torch", search_patterns=PY_DYLIB_PATTERNS + ["*.so.*"])
            if not src.endswith(_TEST_LIBS)]
# as the contrib hook: no symlinks from torch/lib to the top level (they confuse torch's library lookup)
bindepend_symlink_suppression = ["**/torch/lib/*.so*"]
