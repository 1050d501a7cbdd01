// staticrnn.cuh: the layer templates of every kernel StaticRnn generates. The generated source defines the shapes
// (SEQUENCES, THREADS, SHARED_ROW, the SHARED_* offsets), includes this file, and calls the templates layer by layer.
// The runtime hands it to NVRTC as a header (CudaKernelCache); the CPU emulation (tools/cuda-emulation) includes it.
//
// Each thread block scores SEQUENCES sequences through every layer and every time step; blocks never wait for
// each other. Inside a recurrent layer a thread owns one unit (all of its gates) for a run of the block's
// sequences, so the cell update needs nothing from other threads: the block only meets at two barriers per
// step, once the step's inputs are staged in shared memory and once every new h is written.
//
// Shared memory holds, feature-major ([feature][sequence], the sequences of a feature contiguous, rows SHARED_ROW
// floats apart: a few more than SEQUENCES, so the 32 units of a warp writing one sequence's h fall in 8 banks,
// not all in one): h of the
// previous and of the current step, the step's input x, r * h for reset-before GRUs, a dense layer's output and
// the vectors that flow between layers. Sequences that flow between layers live in the launch's scratch memory,
// [step][sequence][feature], one region per block.
//
// Weights are read in the CPU kernels' packed layout (StaticRnn.Runtime.WeightPacking): units in blocks of 16,
// gates interleaved inside a block. A warp's 32 threads own 32 consecutive units, so each weight load is two
// contiguous 64-byte runs. After the regions above, a recurrent layer keeps as many rows of its recurrent weights in
// shared memory as the launch gave it room for (recurrent_layer).
//
// Besides CUDA C++ this file uses only what tools/cuda-emulation/emulation.h also provides, so the same kernel
// runs on the CPU in the tests that check it without a GPU.

#ifndef STATICRNN_SHARED_MEMORY
// The block's dynamic shared memory as floats.
#define STATICRNN_SHARED_MEMORY(name) \
    extern __shared__ float4 name##_words[]; \
    float* const name = reinterpret_cast<float*>(name##_words)
#endif

enum Activation { ACT_NONE, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_SOFTMAX, ACT_LOGSOFTMAX };
enum CellKind { CELL_RNN, CELL_LSTM, CELL_GRU, CELL_GRU_RESET_BEFORE };
enum Merge { MERGE_SUM, MERGE_MULTIPLY, MERGE_AVERAGE };

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

template <int ACT>
__device__ __forceinline__ float activate(float x)
{
    if (ACT == ACT_SIGMOID) return sigmoid(x);
    if (ACT == ACT_TANH) return tanhf(x);
    if (ACT == ACT_RELU) return fmaxf(x, 0.0f);
    return x;   // ACT_NONE; softmax needs the whole row (dense_layer)
}

// WeightPacking.Padded: units rounded up to whole blocks of 16.
__device__ __forceinline__ constexpr int padded(int units) { return (units + 15) / 16 * 16; }

// WeightPacking.Column: where gate `gate` of `unit` sits in a packed row of input weights, a bias or peepholes.
__device__ __forceinline__ constexpr int packed_column(int gate, int unit, int gates)
{
    return (unit / 16 * gates + gate) * 16 + unit % 16;
}

// WeightPacking.RecurrentMatrix: block-major rows; element (row k, gate, unit) of the recurrent weights.
__device__ __forceinline__ constexpr int packed_recurrent(int row, int gate, int unit, int gates, int hidden)
{
    return unit / 16 * (hidden * gates * 16) + row * gates * 16 + gate * 16 + unit % 16;
}

// N consecutive floats of shared memory into registers; 16-byte loads when `p` is 16-byte aligned (VEC4).
template <int N, bool VEC4>
__device__ __forceinline__ void load_run(const float* p, float (&v)[N])
{
    if (VEC4)
    {
#pragma unroll
        for (int q = 0; q < N / 4; ++q)
        {
            const float4 f = reinterpret_cast<const float4*>(p)[q];
            v[4 * q] = f.x; v[4 * q + 1] = f.y; v[4 * q + 2] = f.z; v[4 * q + 3] = f.w;
        }
    }
    else
    {
#pragma unroll
        for (int j = 0; j < N; ++j)
            v[j] = p[j];
    }
}

// acc[g][j] += sum over k in [k_begin, k_end) of w[k * stride + base + GATE_STEP * g] * v[k][first + j], for the
// first USED of G gates and the thread's SPT sequences. Gates at and after SPLIT go to `rest` instead: a reset-after
// GRU keeps W_hn h apart. The sum runs in order of k, so splitting a range in two changes no result.
template <int G, int USED, int SPLIT, int SPT, bool VEC4, int GATE_STEP>
__device__ __forceinline__ void accumulate(
    float (&acc)[G][SPT], float (&rest)[SPT], const float* __restrict__ w, int stride, int base, const float* v, int first,
    int k_begin, int k_end)
{
#pragma unroll 4
    for (int k = k_begin; k < k_end; ++k)
    {
        float x[SPT];
        load_run<SPT, VEC4>(v + k * SHARED_ROW + first, x);
        const float* row = w + k * stride + base;
#pragma unroll
        for (int g = 0; g < USED; ++g)
        {
            const float weight = row[GATE_STEP * g];
#pragma unroll
            for (int j = 0; j < SPT; ++j)
            {
                if (g < SPLIT) acc[g][j] = fmaf(weight, x[j], acc[g][j]);
                else rest[j] = fmaf(weight, x[j], rest[j]);
            }
        }
    }
}

// One direction of one recurrent layer, for the block's sequences.
//   length[s]                  how many steps sequence s runs (shared memory; 0 to T, 0 past the batch)
//   load_input(s, t, i)        feature i of step t of sequence s (0 for sequences past the batch)
//   store_step(s, t, u, h)     h of unit u after step t (only when STORE_STEPS)
//   store_final(s, u, h)       h of unit u after the sequence's last step (only when STORE_FINAL)
// Sequences of their own lengths run as PyTorch runs a packed batch: sequence s takes steps t < length[s] only and
// keeps its state through the others. The block walks the steps of its longest sequence in order (backward: from the
// last one down), so a backward pass meets the steps past a shorter sequence's end first, which leave its zero state
// as it is: each sequence's backward pass starts at its own last step. Per-step outputs past the end are 0, as from
// pad_packed_sequence. Every thread computes the same steps either way (no divergence at the barriers); a sequence
// that has ended only has its results dropped.
// `extra` is b_hn for a reset-after GRU and the peepholes p_i, p_f, p_o for a peephole LSTM.
//
// The first rows of the recurrent weights that fit in `staged_floats` floats of shared memory after SHARED_FLOATS
// (the launch's choice: CudaScorer) are copied there once, as [row][gate][unit], so that the 32 units of a warp read
// 32 consecutive floats, one per bank (when H is a multiple of 32 or below it; otherwise a warp that wraps into the
// next group of sequences reads two runs, at most a two-way conflict); every step then reads them from shared
// memory, and only the other rows from L1/L2. Nothing else changes: the sums run in the same order either way.
template <int CELL, int H, int IN, int T, bool BACKWARD, int ACT, bool PEEPHOLE, bool COUPLED, bool STORE_STEPS, bool STORE_FINAL,
          class LoadInput, class StoreStep, class StoreFinal>
__device__ __forceinline__ void recurrent_layer(
    const float* __restrict__ w_ih, const float* __restrict__ w_hh, const float* __restrict__ bias,
    const float* __restrict__ extra, float* shared, int staged_floats, const int* length, LoadInput load_input,
    StoreStep store_step, StoreFinal store_final)
{
    constexpr int G = CELL == CELL_LSTM ? 4 : CELL == CELL_RNN ? 1 : 3;
    constexpr int UT = H < THREADS ? H : THREADS;           // threads across the units
    constexpr int GROUPS = THREADS / UT;                     // groups of sequences
    constexpr int UPT = (H + UT - 1) / UT;                   // units per thread
    constexpr int SPT = (SEQUENCES + GROUPS - 1) / GROUPS;   // sequences per thread
    constexpr bool VEC4 = SPT % 4 == 0 && SHARED_ROW % 4 == 0;
    constexpr int INPUT_STRIDE = G * ((H + 15) / 16 * 16);   // one packed row of input weights (padded units)
    constexpr int RECURRENT_STRIDE = G * 16;                 // one row inside a unit block of recurrent weights
    constexpr int UNITS_PADDED = (H + 15) / 16 * 16;
    constexpr int STAGED_ROW = G * UNITS_PADDED;             // one row of staged recurrent weights: [gate][unit]
    // A reset-after GRU adds W_hn h apart; a reset-before one multiplies h by r before W_hn (second pass), so its
    // first pass reads only the r and z rows of the recurrent weights.
    constexpr int SPLIT = CELL == CELL_GRU ? 2 : G;
    constexpr int RECURRENT_GATES = CELL == CELL_GRU_RESET_BEFORE ? 2 : G;

    const int lane = threadIdx.x % UT;
    const int group = threadIdx.x / UT;
    // THREADS % UT threads have no unit, and when GROUPS * SPT > SEQUENCES the last groups have no sequence.
    const bool active = group < GROUPS && group * SPT < SEQUENCES;
    const int first = group * SPT;                           // the thread's first sequence

    float* h_old = shared + SHARED_H_PREVIOUS;
    float* h_new = shared + SHARED_H_CURRENT;
    float* x = shared + SHARED_X;
    float* rh = shared + SHARED_RH;

    float c[UPT][SPT];                                       // LSTM cell state, per unit and sequence
    float keep_z[UPT][SPT], keep_n[UPT][SPT];                // reset-before GRU: z and W_in x + b_n across the barrier
#pragma unroll
    for (int uu = 0; uu < UPT; ++uu)
#pragma unroll
        for (int j = 0; j < SPT; ++j)
            c[uu][j] = keep_z[uu][j] = keep_n[uu][j] = 0.0f;
    for (int i = threadIdx.x; i < H * SHARED_ROW; i += THREADS)
        h_old[i] = 0.0f;

    // Rows [0, staged_rows) of the recurrent weights into shared memory (the first step's barrier waits for them).
    const int staged_rows = staged_floats / STAGED_ROW < H ? staged_floats / STAGED_ROW : H;
    float* staged = shared + SHARED_FLOATS;
    for (int i = threadIdx.x; i < staged_rows * STAGED_ROW; i += THREADS)
    {
        const int k = i / STAGED_ROW, gate = i % STAGED_ROW / UNITS_PADDED, unit = i % UNITS_PADDED;
        staged[i] = w_hh[packed_recurrent(k, gate, unit, G, H)];
    }

    // Steps past the block's longest sequence change nothing: not run (their per-step outputs are zeroed below).
    int longest = 0;
    for (int s = 0; s < SEQUENCES; ++s)
        longest = length[s] > longest ? length[s] : longest;

    for (int step = 0; step < longest; ++step)
    {
        const int t = BACKWARD ? longest - 1 - step : step;
        for (int i = threadIdx.x; i < IN * SEQUENCES; i += THREADS)
        {
            const int s = i / IN, k = i % IN;
            x[k * SHARED_ROW + s] = t < length[s] ? load_input(s, t, k) : 0.0f;   // padding is never read
        }
        __syncthreads();

        if (active)
        {
#pragma unroll
            for (int uu = 0; uu < UPT; ++uu)
            {
                const int u = lane + uu * UT;
                if (u >= H) break;
                const int column = packed_column(0, u, G);
                const int block = packed_recurrent(0, 0, u, G, H);
                float acc[G][SPT], rest[SPT];
#pragma unroll
                for (int g = 0; g < G; ++g)
#pragma unroll
                    for (int j = 0; j < SPT; ++j)
                        acc[g][j] = bias[column + 16 * g];
#pragma unroll
                for (int j = 0; j < SPT; ++j)
                    rest[j] = CELL == CELL_GRU ? extra[u] : 0.0f;

                accumulate<G, G, G, SPT, VEC4, 16>(acc, rest, w_ih, INPUT_STRIDE, column, x, first, 0, IN);
                accumulate<G, RECURRENT_GATES, SPLIT, SPT, VEC4, UNITS_PADDED>(acc, rest, staged, STAGED_ROW, u, h_old, first, 0, staged_rows);
                accumulate<G, RECURRENT_GATES, SPLIT, SPT, VEC4, 16>(acc, rest, w_hh, RECURRENT_STRIDE, block, h_old, first, staged_rows, H);

#pragma unroll
                for (int j = 0; j < SPT; ++j)
                {
                    const int s = first + j;
                    if (s >= SEQUENCES) break;
                    const float h_prev = h_old[u * SHARED_ROW + s];
                    const bool running = t < length[s];
                    float h;
                    if (CELL == CELL_RNN)
                    {
                        h = activate<ACT>(acc[0][j]);
                    }
                    else if (CELL == CELL_LSTM)
                    {
                        const float c_prev = c[uu][j];
                        const float p_i = PEEPHOLE ? extra[packed_column(0, u, 3)] * c_prev : 0.0f;
                        const float p_f = PEEPHOLE ? extra[packed_column(1, u, 3)] * c_prev : 0.0f;
                        const float in_gate = sigmoid(acc[0][j] + p_i);
                        const float forget_gate = COUPLED ? 1.0f - in_gate : sigmoid(acc[1][j] + p_f);
                        const float c_next = forget_gate * c_prev + in_gate * tanhf(acc[2][j]);
                        const float p_o = PEEPHOLE ? extra[packed_column(2, u, 3)] * c_next : 0.0f;
                        h = sigmoid(acc[3][j] + p_o) * tanhf(c_next);
                        c[uu][j] = running ? c_next : c_prev;
                    }
                    else if (CELL == CELL_GRU)
                    {
                        const float r = sigmoid(acc[0][j]);
                        const float z = sigmoid(acc[1][j]);
                        const float n = tanhf(acc[2][j] + r * rest[j]);
                        h = (1.0f - z) * n + z * h_prev;
                    }
                    else   // CELL_GRU_RESET_BEFORE: r * h first; n waits for every unit's r (below)
                    {
                        rh[u * SHARED_ROW + s] = sigmoid(acc[0][j]) * h_prev;
                        keep_z[uu][j] = sigmoid(acc[1][j]);
                        keep_n[uu][j] = acc[2][j];
                        continue;
                    }
                    h_new[u * SHARED_ROW + s] = running ? h : h_prev;
                    if (STORE_STEPS) store_step(s, t, u, running ? h : 0.0f);
                }
            }
        }

        if (CELL == CELL_GRU_RESET_BEFORE)
        {
            __syncthreads();   // every r * h is in shared memory
            if (active)
            {
#pragma unroll
                for (int uu = 0; uu < UPT; ++uu)
                {
                    const int u = lane + uu * UT;
                    if (u >= H) break;
                    float none[1][SPT], n[SPT];
#pragma unroll
                    for (int j = 0; j < SPT; ++j)
                        n[j] = keep_n[uu][j];
                    // Only the candidate's rows: gate 2 of this unit.
                    accumulate<1, 1, 0, SPT, VEC4, 0>(none, n, staged + 2 * UNITS_PADDED, STAGED_ROW, u, rh, first, 0, staged_rows);
                    accumulate<1, 1, 0, SPT, VEC4, 0>(none, n, w_hh + 32, RECURRENT_STRIDE, packed_recurrent(0, 0, u, G, H), rh, first, staged_rows, H);
#pragma unroll
                    for (int j = 0; j < SPT; ++j)
                    {
                        const int s = first + j;
                        if (s >= SEQUENCES) break;
                        const float z = keep_z[uu][j];
                        const float h_prev = h_old[u * SHARED_ROW + s];
                        const float h = (1.0f - z) * tanhf(n[j]) + z * h_prev;
                        const bool running = t < length[s];
                        h_new[u * SHARED_ROW + s] = running ? h : h_prev;
                        if (STORE_STEPS) store_step(s, t, u, running ? h : 0.0f);
                    }
                }
            }
        }
        __syncthreads();   // every new h is written and every old one read
        float* swap = h_old; h_old = h_new; h_new = swap;
    }

    if (STORE_STEPS && active)
    {
        for (int t = longest; t < T; ++t)
            for (int uu = 0; uu < UPT && lane + uu * UT < H; ++uu)
                for (int j = 0; j < SPT && first + j < SEQUENCES; ++j)
                    store_step(first + j, t, lane + uu * UT, 0.0f);
    }
    if (STORE_FINAL && active)
    {
        for (int uu = 0; uu < UPT; ++uu)
        {
            const int u = lane + uu * UT;
            if (u >= H) break;
            for (int j = 0; j < SPT && first + j < SEQUENCES; ++j)
                store_final(first + j, u, h_old[u * SHARED_ROW + first + j]);
        }
    }
    __syncthreads();   // the next layer reuses this one's shared memory
}

// The largest of sequence s's UNITS values in a dense layer's shared rows (for softmax and log-softmax).
template <int UNITS>
__device__ __forceinline__ float row_max(const float* y, int s)
{
    float largest = y[s];
    for (int u = 1; u < UNITS; ++u)
        largest = fmaxf(largest, y[u * SHARED_ROW + s]);
    return largest;
}

// A dense layer on STEPS steps (1 for a vector): y = act(W x + b), softmax across the units of each row.
//   load(s, t, i) reads the input, store(s, t, u, y) writes the output.
template <int UNITS, int IN, int STEPS, int ACT, class Load, class Store>
__device__ __forceinline__ void dense_layer(const float* __restrict__ w, const float* __restrict__ b, float* shared, Load load, Store store)
{
    float* y = shared + SHARED_DENSE;
    for (int t = 0; t < STEPS; ++t)
    {
        for (int i = threadIdx.x; i < UNITS * SEQUENCES; i += THREADS)
        {
            const int u = i / SEQUENCES, s = i % SEQUENCES;
            float sum = b[u];
            for (int k = 0; k < IN; ++k)
                sum = fmaf(w[k * padded(UNITS) + u], load(s, t, k), sum);
            y[u * SHARED_ROW + s] = activate<ACT>(sum);
        }
        if (ACT == ACT_LOGSOFTMAX)
        {
            __syncthreads();
            for (int s = threadIdx.x; s < SEQUENCES; s += THREADS)
            {
                const float largest = row_max<UNITS>(y, s);
                float total = 0.0f;
                for (int u = 0; u < UNITS; ++u)
                    total += expf(y[u * SHARED_ROW + s] - largest);
                const float shift = largest + logf(total);
                for (int u = 0; u < UNITS; ++u)
                    y[u * SHARED_ROW + s] -= shift;
            }
        }
        if (ACT == ACT_SOFTMAX)
        {
            __syncthreads();
            for (int s = threadIdx.x; s < SEQUENCES; s += THREADS)
            {
                const float largest = row_max<UNITS>(y, s);
                float total = 0.0f;
                for (int u = 0; u < UNITS; ++u)
                {
                    const float e = expf(y[u * SHARED_ROW + s] - largest);
                    y[u * SHARED_ROW + s] = e;
                    total += e;
                }
                for (int u = 0; u < UNITS; ++u)
                    y[u * SHARED_ROW + s] /= total;
            }
        }
        __syncthreads();
        for (int i = threadIdx.x; i < UNITS * SEQUENCES; i += THREADS)
        {
            const int u = i % UNITS, s = i / UNITS;
            store(s, t, u, y[u * SHARED_ROW + s]);
        }
        __syncthreads();
    }
}

// A token id clamped into the table: the host checked it; this only keeps a read inside the table.
template <int VOCABULARY>
__device__ __forceinline__ int table_row(int id) { return id < 0 ? 0 : id >= VOCABULARY ? VOCABULARY - 1 : id; }

// An embedding table lookup for every step within the sequence's length (the padding after it is not read, and
// its rows are 0): store(s, t, e, table[token][e]).
template <int VOCABULARY, int E, int T, class Token, class Store>
__device__ __forceinline__ void embedding_layer(const float* __restrict__ table, const int* length, Token token, Store store)
{
    for (int i = threadIdx.x; i < T * SEQUENCES * E; i += THREADS)
    {
        const int e = i % E, s = i / E % SEQUENCES, t = i / E / SEQUENCES;
        store(s, t, e, t < length[s] ? table[table_row<VOCABULARY>(token(s, t)) * E + e] : 0.0f);
    }
    __syncthreads();
}

// Keras's mask_zero, by compaction as on the CPU (StaticRnn.Runtime.Masking): a masked step (token 0) leaves every
// state unchanged, so a sequence runs as the sequence of its other tokens. Their rows go to the front, in order
// (0 after them), and length[s] becomes their count: the layers after run those steps only, as for a shorter
// sequence. Doing it here rather than on the host keeps device-resident batches and host batches alike, and the
// recurrent template needs nothing beyond lengths. expand_masked puts per-step outputs back in place.
template <int VOCABULARY, int E, int T, class Token, class Store>
__device__ __forceinline__ void masked_embedding_layer(const float* __restrict__ table, int* length, Token token, Store store)
{
    for (int i = threadIdx.x; i < SEQUENCES * E; i += THREADS)
    {
        const int e = i % E, s = i / E;
        int real = 0;
        for (int t = 0; t < length[s]; ++t)
        {
            const int id = token(s, t);
            if (id != 0)
                store(s, real++, e, table[table_row<VOCABULARY>(id) * E + e]);
        }
        for (int t = real; t < T; ++t)
            store(s, t, e, 0.0f);
    }
    __syncthreads();   // every thread has read the lengths before they change
    for (int s = threadIdx.x; s < SEQUENCES; s += THREADS)
    {
        int real = 0;
        for (int t = 0; t < length[s]; ++t)
            real += token(s, t) != 0;
        length[s] = real;
    }
    __syncthreads();
}

// After a masked network ran on compacted sequences (masked_embedding_layer), moves each sequence's per-step output
// rows back to the steps of its tokens other than 0, and gives a masked step what Keras 3 gives: the output of the
// last real step before it (CARRY: a unidirectional last recurrent layer), else the output past the compacted end
// (the network's for a zero state; a Bidirectional layer zeroes masked steps). Steps past the sequence's length
// (end(s)) count as masked. As StaticRnn.Runtime.Masking.Expand; one thread per (sequence, feature) column.
//   length[s]: the count of real steps; token(s, t): the token; end(s): the length before masking;
//   out(s, t, k): a reference to output feature k of step t.
template <int WIDTH, int T, bool CARRY, class Token, class End, class Out>
__device__ __forceinline__ void expand_masked(const int* length, int count, Token token, End end, Out out)
{
    for (int i = threadIdx.x; i < count * WIDTH; i += THREADS)
    {
        const int s = i / WIDTH, k = i % WIDTH;
        const int real = length[s], steps = end(s);
        if (real == T)
            continue;   // nothing masked: already in place
        const float past_end = out(s, real, k);
        // From the last real step back: each row moves to a later or the same step, over rows already moved.
        int position = steps;
        for (int j = real - 1; j >= 0; --j)
        {
            do
                --position;
            while (token(s, position) == 0);
            out(s, position, k) = out(s, j, k);
        }
        float carried = past_end;
        for (int t = 0; t < T; ++t)
        {
            if (t < steps && token(s, t) != 0)
            {
                if (CARRY) carried = out(s, t, k);
            }
            else
            {
                out(s, t, k) = carried;
            }
        }
    }
    __syncthreads();
}

// Bidirectional merges other than concatenation: store(s, t, i, forward op backward).
template <int MODE, int WIDTH, int STEPS, class LoadForward, class LoadBackward, class Store>
__device__ __forceinline__ void merge_directions(LoadForward forward, LoadBackward backward, Store store)
{
    for (int i = threadIdx.x; i < STEPS * SEQUENCES * WIDTH; i += THREADS)
    {
        const int k = i % WIDTH, s = i / WIDTH % SEQUENCES, t = i / WIDTH / SEQUENCES;
        const float f = forward(s, t, k), b = backward(s, t, k);
        store(s, t, k, MODE == MERGE_SUM ? f + b : MODE == MERGE_MULTIPLY ? f * b : (f + b) * 0.5f);
    }
    __syncthreads();
}
