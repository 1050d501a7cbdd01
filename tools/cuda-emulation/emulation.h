// Runs a StaticRnn CUDA kernel on the CPU, so the kernel's arithmetic and indexing are checked without a GPU
// (tests/StaticRnn.Tests/Cuda/CudaEmulationTests.cs; src/StaticRnn/Cuda, for staticrnn.cuh, on the include path).
// One block at a time; each of its threads is a std::thread and __syncthreads() is a std::barrier, so a missing barrier shows up as a wrong result here as on a GPU (more
// or less often). Shared memory is one array, poisoned with NaN before every block: a read of something no thread
// wrote gives NaN in the outputs.
//
// Provides only what the kernels use: the qualifiers, threadIdx/blockIdx, __syncthreads, float4, the float math
// functions (from <math.h>) and STATICRNN_SHARED_MEMORY.
#pragma once
#include <barrier>
#include <math.h>

struct float4 { float x, y, z, w; };
struct emulated_index { unsigned x; };

inline thread_local emulated_index threadIdx{0};
inline emulated_index blockIdx{0};
inline std::barrier<>* emulated_barrier = nullptr;
inline float* emulated_shared = nullptr;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(threads)
#define STATICRNN_SHARED_MEMORY(name) float* const name = emulated_shared

inline void __syncthreads() { emulated_barrier->arrive_and_wait(); }
