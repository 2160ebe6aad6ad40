// The CPU pipeline turns the chunk algebra's products into vector code: a
// regression to scalar loops (the contractions left to convert-linalg-to-loops)
// fails here. chunk_simple_gla (K = V = 64, chunks of 64) has four products
// per chunk: Q K^T (dot-product form), Q S and P V (rank-1 form), and the
// state update K^T V (rank-1 form, lhs transposed). The whole pipeline builds
// for AVX-512 (linac-to-cpu{cpu=x86-64-v4}) whatever the host, so the checks
// of its 16-lane vectors hold on every machine (cpu-vector-width.test checks
// the other widths).
//
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=64}), func.func(linac-recognize-recurrence), func.func(linac-interleave-householder, linac-chunk-recurrence, linac-chunk-ssm), func.func(linac-sequential-recurrence, linac-tile-chunk-loop{block-v=0 stage-inputs=true}, canonicalize, cse), func.func(linac-lower-chunk-ops, canonicalize))' > %t.lower.mlir
// RUN: FileCheck %s --check-prefix=LOWER < %t.lower.mlir
// RUN: linac-opt %t.lower.mlir --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions))' > %t.vec.mlir
// RUN: FileCheck %s --check-prefix=VEC < %t.vec.mlir
// RUN: FileCheck %s --check-prefix=NOCONTRACT < %t.vec.mlir
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=64}), linac-to-cpu{cpu=x86-64-v4})' > %t.llvm.mlir
// RUN: FileCheck %s --check-prefix=LLVM < %t.llvm.mlir
// RUN: FileCheck %s --check-prefix=FMAS < %t.llvm.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.llvm.mlir | FileCheck %s --check-prefix=IR

// Before: the products are linalg.generic contractions on the staged buffers.
// LOWER-LABEL: func.func @simple_gla(
// LOWER-COUNT-4: linalg.generic {{.*}}"reduction"{{.*}} ins(%{{.*}}, %{{.*}} : memref<?x{{[?0-9]+}}xf32, strided<[64, 1]>>, memref<{{.*}}xf32{{.*}}>) outs(

// After linac-vectorize-contractions: no linalg contraction is left (only
// elementwise generics, whose iterators are all parallel).
// NOCONTRACT-NOT: iterator_types = [{{[^]]*}}"reduction"
// VEC-LABEL: func.func @simple_gla(
// VEC:         scf.parallel
// The state and the staged chunk inputs: contiguous f32 buffers.
// VEC:           memref.alloca() : memref<64x64xf32>
// VEC:           scf.for
// Q K^T: 4 x 4 dot products accumulated lane-wise in 16 registers over K ...
// VEC:             scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// VEC-COUNT-8:       vector.transfer_read {{.*}} : memref<?x64xf32, strided<[64, 1]>>, vector<16xf32>
// VEC-COUNT-16:      vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// VEC:               scf.yield
// ... and reduced together, a lane per output (shuffles and adds).
// VEC:             vector.shuffle
// VEC:             vector.extract_strided_slice {{.*}} : vector<16xf32> to vector<4xf32>
// The rank-1 products (Q S, P V, then the state update): a 4 x 64 tile of
// the output (its whole 64-column rows) in 16 registers across the
// reduction, a broadcast lhs element times four 16-lane rhs vectors.
// VEC:             scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// VEC:               vector.broadcast %{{.*}} : f32 to vector<16xf32>
// VEC-COUNT-16:      vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// VEC:             vector.transfer_write {{.*}} : vector<16xf32>, memref<?x64xf32, strided<[64, 1]>>
// VEC:             scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// VEC-COUNT-16:      vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// VEC:             scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// VEC-COUNT-16:      vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// VEC:             vector.transfer_write {{.*}} : vector<16xf32>, memref<64x64xf32>
// VEC:         } {linac.grid = ["head", "sequence"]}
// VEC-NOT:     vector.fma

// In the LLVM dialect: 512-bit FMAs on the accumulators carried by the
// reduction loops' blocks, plain 16-lane loads in them (64 columns and a
// depth of 64 are whole tiles: no mask), the dot products' sums packed by
// 16-lane shuffles, and plain stores of whole rows (a branch skips the rows
// past the chunk's end): masked stores only where a dot-product tile's
// 4-lane row crosses the output's edge (they are slow on AMD Zen).
// LLVM-LABEL: llvm.func @simple_gla(
// LLVM:         omp.parallel
// The grid's items go to threads one at a time (linac-balance-grid).
// LLVM:         omp.wsloop schedule(dynamic)
// The chunk's stack buffers on cache lines (linac-align-buffers).
// LLVM:         llvm.alloca %{{.*}} x f32 {alignment = 64 : i64}
// LLVM:         ^bb{{[0-9]+}}(%{{[^:]+}}: i64, %{{[^:]+}}: vector<16xf32>, %{{[^:]+}}: vector<16xf32>,
// LLVM-NOT:     llvm.intr.masked.load
// LLVM:         llvm.load %{{.*}} : !llvm.ptr -> vector<16xf32>
// LLVM:         llvm.intr.fmuladd(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// LLVM:         llvm.shufflevector %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xf32>
// LLVM-NOT:     llvm.intr.masked.store {{.*}} : vector<16xf32>
// LLVM:         llvm.intr.masked.store %{{.*}} : vector<4xf32>, vector<4xi1> into !llvm.ptr
// LLVM-NOT:     llvm.intr.masked.store {{.*}} : vector<16xf32>
// LLVM:         llvm.store %{{.*}}, %{{.*}} {{.*}}: vector<16xf32>, !llvm.ptr
// LLVM-NOT:     llvm.intr.masked.store {{.*}} : vector<16xf32>

// The rank-1 reduction loops reach LLVM IR marked not to be unrolled (each
// step is a tile of FMAs already; unrolled, LLVM spilled the accumulators):
// the 10 loops of Q S, P V (before and on the diagonal) and the state
// update, with their prefetch bursts' parts.
// IR-COUNT-10: br {{.*}}, !llvm.loop ![[ROLLED:[0-9]+]]
// IR-NOT:      !llvm.loop
// IR:          ![[ROLLED]] = distinct !{![[ROLLED]], ![[DISABLE:[0-9]+]]}
// IR:          ![[DISABLE]] = !{!"llvm.loop.unroll.disable"}

// The dot-product kernel's 16 vector FMAs and the rank-1 kernels' 16 each
// (Q S, the two reductions of P V, the state update) reach the LLVM dialect (80).
// FMAS-COUNT-80: llvm.intr.fmuladd(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!gates = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @simple_gla(%q: !tokens, %k: !tokens, %v: !tokens, %g: !gates,
                      %initial_state: !states, %output: !tokens,
                      %final_state: !states, %cu_seqlens: !offsets,
                      %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens) g(%g : !gates)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
      scale(%scale) attributes {chunk_size = 64 : i64} {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %gt: f32,
       %S: tensor<?x?xf32>):
    %decay = math.exp %gt : f32
    %decayed = linac.scale %S, %decay : tensor<?x?xf32>
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %decayed, %kv : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
