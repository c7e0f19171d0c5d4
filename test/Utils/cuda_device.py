"""Whether this machine can run CUDA programs: the NVIDIA driver
(libcuda.so.1) loads, starts and sees a GPU. lit's `cuda` feature (tests
marked `REQUIRES: cuda`) and the ctest tests that run a --target=cuda build
ask this; elsewhere they are skipped."""

import ctypes


def available():
    try:
        cuda = ctypes.CDLL('libcuda.so.1')
    except OSError:
        return False
    count = ctypes.c_int(0)
    return (cuda.cuInit(0) == 0 and
            cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and
            count.value > 0)
