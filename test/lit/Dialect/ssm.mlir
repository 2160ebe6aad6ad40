// RUN: linac-opt %s | linac-opt | FileCheck %s
// RUN: linac-opt %s -mlir-print-op-generic | linac-opt | FileCheck %s
// RUN: linac-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trips of linac.ssm: Mamba-2 (SSD, `a: [H]`) and Mamba-1 (selective
// scan, `a: [H, N]`), with the fewest and with every operand.

// The fewest operands; the defaults (mode chunk, chunk size 64) are not
// printed.
// CHECK-LABEL: func.func @ssd_required
// CHECK:       linac.ssm x(%{{[^ ]+}} : memref<2x16x4x8xf32>) dt(%{{[^ ]+}} : memref<2x16x4xf32>) a(%{{[^ ]+}} : memref<4xf32>) b(%{{[^ ]+}} : memref<2x16x2x16xf32>) c(%{{[^ ]+}} : memref<2x16x2x16xf32>) output(%{{[^ ]+}} : memref<2x16x4x8xf32>){{$}}
// GENERIC-LABEL: sym_name = "ssd_required"
// GENERIC:       "linac.ssm"({{.*}}) <{chunk_size = 64 : i64, mode = #linac<mode chunk>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0>}>
func.func @ssd_required(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>,
                        %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %o: memref<2x16x4x8xf32>) {
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>)
      b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%o : memref<2x16x4x8xf32>)
      {chunk_size = 64 : i64, mode = #linac<mode chunk>}
  return
}

// Every optional operand in its place, bf16 inputs, a per-channel skip
// `d: [H, P]`, the dt transform and decode mode.
// CHECK-LABEL: func.func @ssd_every_operand
// CHECK:       linac.ssm x(%{{[^ ]+}} : memref<?x?x4x8xbf16>) dt(%{{[^ ]+}} : memref<?x?x4xf32>) a(%{{[^ ]+}} : memref<4xf32>)
// CHECK-SAME:    b(%{{[^ ]+}} : memref<?x?x1x16xbf16>) c(%{{[^ ]+}} : memref<?x?x1x16xbf16>)
// CHECK-SAME:    d(%{{[^ ]+}} : memref<4x8xf32>) z(%{{[^ ]+}} : memref<?x?x4x8xbf16>) dt_bias(%{{[^ ]+}} : memref<4xf32>)
// CHECK-SAME:    initial_state(%{{[^ ]+}} : memref<?x4x16x8xf32>) output(%{{[^ ]+}} : memref<?x?x4x8xbf16>)
// CHECK-SAME:    final_state(%{{[^ ]+}} : memref<?x4x16x8xf32>) cu_seqlens(%{{[^ ]+}} : memref<?xi64>)
// CHECK-SAME:    {chunk_size = 32 : i64, dt_softplus, mode = #linac<mode recurrent>}
// GENERIC-LABEL: sym_name = "ssd_every_operand"
// GENERIC:       "linac.ssm"({{.*}}) <{chunk_size = 32 : i64, dt_softplus, mode = #linac<mode recurrent>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1>}>
!x = memref<?x?x4x8xbf16>
!bc = memref<?x?x1x16xbf16>
!st = memref<?x4x16x8xf32>
func.func @ssd_every_operand(%x: !x, %dt: memref<?x?x4xf32>, %a: memref<4xf32>, %b: !bc, %c: !bc,
                             %d: memref<4x8xf32>, %z: !x, %bias: memref<4xf32>, %s0: !st,
                             %o: !x, %sT: !st, %cu: memref<?xi64>) {
  linac.ssm x(%x : !x) dt(%dt : memref<?x?x4xf32>) a(%a : memref<4xf32>) b(%b : !bc) c(%c : !bc)
      d(%d : memref<4x8xf32>) z(%z : !x) dt_bias(%bias : memref<4xf32>)
      initial_state(%s0 : !st) output(%o : !x) final_state(%sT : !st)
      cu_seqlens(%cu : memref<?xi64>) {chunk_size = 32 : i64, dt_softplus, mode = #linac<mode recurrent>}
  return
}

// The selective scan: one decay rate per head and state channel, a skip per
// head `d: [H]`, P = 1.
// CHECK-LABEL: func.func @selective_scan
// CHECK:       linac.ssm x(%{{[^ ]+}} : memref<2x16x8x1xf16>) dt(%{{[^ ]+}} : memref<2x16x8xf32>) a(%{{[^ ]+}} : memref<8x16xf32>)
// CHECK-SAME:    b(%{{[^ ]+}} : memref<2x16x1x16xf16>) c(%{{[^ ]+}} : memref<2x16x1x16xf16>) d(%{{[^ ]+}} : memref<8xf32>)
// CHECK-SAME:    output(%{{[^ ]+}} : memref<2x16x8x1xf16>) {dt_softplus}
func.func @selective_scan(%x: memref<2x16x8x1xf16>, %dt: memref<2x16x8xf32>, %a: memref<8x16xf32>,
                          %b: memref<2x16x1x16xf16>, %c: memref<2x16x1x16xf16>, %d: memref<8xf32>,
                          %o: memref<2x16x8x1xf16>) {
  linac.ssm x(%x : memref<2x16x8x1xf16>) dt(%dt : memref<2x16x8xf32>) a(%a : memref<8x16xf32>)
      b(%b : memref<2x16x1x16xf16>) c(%c : memref<2x16x1x16xf16>) d(%d : memref<8xf32>)
      output(%o : memref<2x16x8x1xf16>) {dt_softplus}
  return
}

// Dynamic sizes are not checked against each other.
// CHECK-LABEL: func.func @dynamic
// CHECK:       linac.ssm x(%{{[^ ]+}} : memref<?x?x?x?xf32>) dt(%{{[^ ]+}} : memref<?x?x?xf32>) a(%{{[^ ]+}} : memref<?x?xf32>)
!t = memref<?x?x?x?xf32>
func.func @dynamic(%x: !t, %dt: memref<?x?x?xf32>, %a: memref<?x?xf32>, %b: !t, %c: !t, %o: !t) {
  linac.ssm x(%x : !t) dt(%dt : memref<?x?x?xf32>) a(%a : memref<?x?xf32>) b(%b : !t) c(%c : !t) output(%o : !t)
  return
}
