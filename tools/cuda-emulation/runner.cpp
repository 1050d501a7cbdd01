// The CPU stand-in for cuLaunchKernel: compiled together with one kernel (see emulation.h).
//
//   clang++ -std=c++20 -O1 -pthread -include emulation.h -I ../../src/StaticRnn/Cuda -DKERNEL_SOURCE='"kernel.cu"' -DKERNEL_ENTRY=staticrnn_X \
//           -DKERNEL_INPUT=float runner.cpp -o runner
//   runner launch.bin outputs.bin
//
// launch.bin: ten int32 (sequences, sequences per block, threads per block, shared memory bytes, scratch floats
// per sequence, weight floats, input values, output floats, staged weight floats: the kernel's staged_floats, already
// counted in the shared memory bytes, and 1 when lengths follow, else 0: the kernel's lengths are then null), then the
// weights (float32), then the inputs (float32 or int32), then one int32 length per sequence if any. outputs.bin: the
// output floats. Outputs and scratch start as NaN, so an output the kernel
// never writes, or scratch it reads before writing, shows. The block's shared memory ends where an inaccessible
// page begins, so a read past the end of the allocation faults here as it does on a GPU.
#include "emulation.h"
#include KERNEL_SOURCE

#include <cstdint>
#include <cstdio>
#include <limits>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

int main(int argc, char** argv)
{
    if (argc != 3) { std::fprintf(stderr, "usage: runner launch.bin outputs.bin\n"); return 2; }
    FILE* in = std::fopen(argv[1], "rb");
    if (!in) { std::perror(argv[1]); return 2; }
    int32_t h[10];
    if (std::fread(h, sizeof h, 1, in) != 1) { std::fprintf(stderr, "short header\n"); return 2; }
    const int sequences = h[0], perBlock = h[1], threads = h[2], sharedBytes = h[3], scratchPerSequence = h[4], staged = h[8];
    std::vector<float> weights(h[5]), outputs(h[7], std::numeric_limits<float>::quiet_NaN());
    std::vector<KERNEL_INPUT> inputs(h[6]);
    std::vector<int32_t> lengths(h[9] ? sequences : 0);
    if (std::fread(weights.data(), sizeof(float), weights.size(), in) != weights.size()
        || std::fread(inputs.data(), sizeof(KERNEL_INPUT), inputs.size(), in) != inputs.size()
        || std::fread(lengths.data(), sizeof(int32_t), lengths.size(), in) != lengths.size())
    { std::fprintf(stderr, "short file\n"); return 2; }
    std::fclose(in);

    const int blocks = (sequences + perBlock - 1) / perBlock;
    std::vector<float> scratch((size_t)blocks * perBlock * scratchPerSequence + 1, std::numeric_limits<float>::quiet_NaN());
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t sharedSpan = ((size_t)sharedBytes + 16 + page - 1) / page * page;
    char* pages = (char*)mmap(nullptr, sharedSpan + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED || mprotect(pages + sharedSpan, page, PROT_NONE) != 0) { std::perror("mmap"); return 2; }
    float* const shared = (float*)(pages + sharedSpan - ((size_t)sharedBytes + 15) / 16 * 16);
    const size_t sharedFloats = (size_t)sharedBytes / sizeof(float);
    for (int block = 0; block < blocks; ++block)
    {
        std::fill(shared, shared + sharedFloats, std::numeric_limits<float>::quiet_NaN());
        emulated_shared = shared;
        blockIdx.x = block;
        std::barrier<> barrier(threads);
        emulated_barrier = &barrier;
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                threadIdx.x = t;
                KERNEL_ENTRY(weights.data(), inputs.data(), outputs.data(), scratchPerSequence ? scratch.data() : nullptr, sequences, staged,
                             h[9] ? lengths.data() : nullptr);
            });
        for (auto& w : workers) w.join();
    }

    FILE* out = std::fopen(argv[2], "wb");
    if (!out || std::fwrite(outputs.data(), sizeof(float), outputs.size(), out) != outputs.size()) { std::perror(argv[2]); return 2; }
    std::fclose(out);
    return 0;
}
