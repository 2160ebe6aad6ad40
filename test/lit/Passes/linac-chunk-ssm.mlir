// RUN: linac-opt %s -split-input-file -linac-chunk-ssm | FileCheck %s

// linac-chunk-ssm: a linac.ssm becomes a linac.chunk_loop with q = C, k = B,
// v = x, g = dt and scale 1; a, dt_bias, D and z ride along as aux inputs.
// The body transforms dt (linac.ssm_inputs), runs the chunked algorithm
// (SSD) or the chunked scan (selective scan), then adds the skip connection
// and the gate (linac.ssm_output).

// Mamba-2 (SSD) with every operand: aux layouts head (a), head (dt_bias),
// head_value (D: [H, P]), token_value (z); the state is [N, P] and q, k have
// the G = 2 groups of B and C.
// CHECK-LABEL: func.func @ssd(
// CHECK-SAME:    %[[X:[^:]+]]: memref<2x?x4x8xbf16>, %[[DT:[^:]+]]: memref<2x?x4xf32>, %[[A:[^:]+]]: memref<4xf32>, %[[B:[^:]+]]: memref<2x?x2x16xbf16>, %[[C:[^:]+]]: memref<2x?x2x16xbf16>,
// CHECK-SAME:    %[[D:[^:]+]]: memref<4x8xf32>, %[[Z:[^:]+]]: memref<2x?x4x8xbf16>, %[[BIAS:[^:]+]]: memref<4xf32>, %[[S0:[^:]+]]: memref<?x4x16x8xf32>, %[[O:[^:]+]]: memref<2x?x4x8xbf16>, %[[ST:[^:]+]]: memref<?x4x16x8xf32>, %[[CU:[^:]+]]: memref<?xi64>)
// CHECK-NOT:   linac.ssm x
// CHECK:       %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:  linac.chunk_loop q(%[[C]] : memref<2x?x2x16xbf16>) k(%[[B]] : memref<2x?x2x16xbf16>) v(%[[X]] : memref<2x?x4x8xbf16>) g(%[[DT]] : memref<2x?x4xf32>)
// CHECK-SAME:    initial_state(%[[S0]] : memref<?x4x16x8xf32>) output(%[[O]] : memref<2x?x4x8xbf16>) final_state(%[[ST]] : memref<?x4x16x8xf32>) cu_seqlens(%[[CU]] : memref<?xi64>)
// CHECK-SAME:    aux(%[[A]], %[[BIAS]], %[[D]], %[[Z]] : memref<4xf32>, memref<4xf32>, memref<4x8xf32>, memref<2x?x4x8xbf16>) scale(%[[ONE]])
// CHECK-SAME:    attributes {aux_layouts = ["head", "head", "head_value", "token_value"], chunk_size = 32 : i64, form = #linac.form<decay = scalar, update = plain>} {
// CHECK-NEXT:  ^bb0(%[[QC:[^:]+]]: memref<?x16xbf16, {{[^>]*}}>>, %[[KC:[^:]+]]: memref<?x16xbf16, {{[^>]*}}>>, %[[XC:[^:]+]]: memref<?x8xbf16, {{[^>]*}}>>, %[[DTC:[^:]+]]: memref<?xf32, {{[^>]*}}>>, %[[S:[^:]+]]: memref<16x8xf32, {{[^>]*}}>>, %[[OC:[^:]+]]: memref<?x8xf32, {{[^>]*}}>>,
// CHECK-SAME:    %[[AC:[^:]+]]: memref<1xf32, {{[^>]*}}>>, %[[BIASC:[^:]+]]: memref<1xf32, {{[^>]*}}>>, %[[DC:[^:]+]]: memref<8xf32, {{[^>]*}}>>, %[[ZC:[^:]+]]: memref<?x8xbf16, {{[^>]*}}>>):
// The dt transform: log decays g = dt' a ([C]) and values x dt' ([C, P],
// narrowed to the value tile later).
// CHECK:         %[[GBUF:.*]] = memref.alloca() : memref<32xf32>
// CHECK:         %[[GATES:.*]] = memref.subview %[[GBUF]]
// CHECK:         %[[VBUF:.*]] = memref.alloca() {linac.value_dims = array<i64: 1>} : memref<32x8xf32>
// CHECK:         %[[VALUES:.*]] = memref.subview %[[VBUF]]
// CHECK:         linac.ssm_inputs ins(%[[XC]], %[[DTC]], %[[AC]] : {{.*}}) bias(%[[BIASC]] : {{.*}}) outs(%[[GATES]], %[[VALUES]] : {{.*}}) {dt_softplus}
// The scalar-decay chunked algorithm on the transformed gates and values.
// CHECK:         linac.chunk_cumsum ins(%[[GATES]] : {{.*}}) outs(%[[GF:[^ ]+]] : {{.*}})
// CHECK:         linac.chunk_cumsum ins(%[[GATES]] : {{.*}}) outs(%[[GR:[^ ]+]] : {{.*}}) {reverse}
// CHECK:         linac.decayed_scores ins(%[[QC]], %[[KC]] : {{.*}}) gates(%[[GATES]] : {{.*}}) workspace(%{{[^ ]+}} : {{.*}}) outs(%[[P:[^ ]+]] : {{.*}})
// CHECK:         linac.decayed_rows ins(%[[QC]], %[[GF]] : {{.*}}) outs(%[[QD:[^ ]+]] : {{.*}})
// CHECK:         linac.chunk_output ins(%[[QD]], %[[S]], %[[P]], %[[VALUES]] : {{.*}}) scale(%[[ONE]]) outs(%[[OC]] : {{.*}})
// CHECK:         linac.decayed_rows ins(%[[KC]], %[[GR]] : {{.*}}) outs(%[[KD:[^ ]+]] : {{.*}})
// CHECK:         linac.chunk_state_update ins(%[[KD]], %[[VALUES]] : {{.*}}) decay(%[[GF]] : {{.*}}) outs(%[[S]] : {{.*}})
// CHECK-NOT:     linac.chunk_scan
// CHECK:         linac.ssm_output ins(%[[XC]] : {{.*}}) skip(%[[DC]] : {{.*}}) gate(%[[ZC]] : {{.*}}) outs(%[[OC]] : {{.*}})
// CHECK-NEXT:  }
// CHECK-NEXT:  return
!x = memref<2x?x4x8xbf16>
!bc = memref<2x?x2x16xbf16>
func.func @ssd(%x: !x, %dt: memref<2x?x4xf32>, %a: memref<4xf32>, %b: !bc, %c: !bc,
               %d: memref<4x8xf32>, %z: !x, %bias: memref<4xf32>, %s0: memref<?x4x16x8xf32>,
               %o: !x, %sT: memref<?x4x16x8xf32>, %cu: memref<?xi64>) {
  linac.ssm x(%x : !x) dt(%dt : memref<2x?x4xf32>) a(%a : memref<4xf32>) b(%b : !bc) c(%c : !bc)
      d(%d : memref<4x8xf32>) z(%z : !x) dt_bias(%bias : memref<4xf32>)
      initial_state(%s0 : memref<?x4x16x8xf32>) output(%o : !x) final_state(%sT : memref<?x4x16x8xf32>)
      cu_seqlens(%cu : memref<?xi64>) {chunk_size = 32 : i64, dt_softplus}
  return
}

// -----

// Mamba-1 (selective scan, a: [H, N]): per-state log decays [C, N], then
// the chunked scan instead of the chunked algorithm; a per-head skip D: [H]
// rides along with layout head.
// CHECK-LABEL: func.func @selective_scan(
// CHECK-SAME:    %[[X:[^:]+]]: memref<2x?x8x1xf32>, %[[DT:[^:]+]]: memref<2x?x8xf32>, %[[A:[^:]+]]: memref<8x16xf32>, %[[B:[^:]+]]: memref<2x?x1x16xf32>, %[[C:[^:]+]]: memref<2x?x1x16xf32>, %[[D:[^:]+]]: memref<8xf32>, %[[O:[^:]+]]: memref<2x?x8x1xf32>)
// CHECK:       linac.chunk_loop q(%[[C]] : {{.*}}) k(%[[B]] : {{.*}}) v(%[[X]] : {{.*}}) g(%[[DT]] : {{.*}}) output(%[[O]] : {{.*}}) aux(%[[A]], %[[D]] : memref<8x16xf32>, memref<8xf32>)
// CHECK-SAME:    attributes {aux_layouts = ["head", "head"], chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = plain>} {
// CHECK-NEXT:  ^bb0(%[[QC:[^:]+]]: memref<?x16xf32, {{[^>]*}}>>, %[[KC:[^:]+]]: memref<?x16xf32, {{[^>]*}}>>, %[[XC:[^:]+]]: memref<?x1xf32, {{[^>]*}}>>, %[[DTC:[^:]+]]: memref<?xf32, {{[^>]*}}>>, %[[S:[^:]+]]: memref<16x1xf32, {{[^>]*}}>>, %[[OC:[^:]+]]: memref<?x1xf32, {{[^>]*}}>>, %[[AC:[^:]+]]: memref<16xf32, {{[^>]*}}>>, %[[DC:[^:]+]]: memref<1xf32, {{[^>]*}}>>):
// CHECK:         %[[GBUF:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK:         %[[GATES:.*]] = memref.subview %[[GBUF]]
// CHECK:         %[[VBUF:.*]] = memref.alloca() {linac.value_dims = array<i64: 1>} : memref<16x1xf32>
// CHECK:         %[[VALUES:.*]] = memref.subview %[[VBUF]]
// CHECK:         linac.ssm_inputs ins(%[[XC]], %[[DTC]], %[[AC]] : {{.*}}) outs(%[[GATES]], %[[VALUES]] : memref<?x16xf32, {{[^>]*}}>>, {{.*}})
// CHECK-NOT:     dt_softplus
// CHECK-NEXT:    linac.chunk_scan ins(%[[QC]], %[[KC]], %[[VALUES]], %[[GATES]] : {{.*}}) outs(%[[S]], %[[OC]] : {{.*}})
// CHECK-NEXT:    linac.ssm_output ins(%[[XC]] : {{.*}}) skip(%[[DC]] : memref<1xf32, {{[^>]*}}>>) outs(%[[OC]] : {{.*}})
// CHECK-NEXT:  }
// CHECK-NOT:   linac.decayed_scores
func.func @selective_scan(%x: memref<2x?x8x1xf32>, %dt: memref<2x?x8xf32>, %a: memref<8x16xf32>,
                          %b: memref<2x?x1x16xf32>, %c: memref<2x?x1x16xf32>, %d: memref<8xf32>,
                          %o: memref<2x?x8x1xf32>) {
  linac.ssm x(%x : memref<2x?x8x1xf32>) dt(%dt : memref<2x?x8xf32>) a(%a : memref<8x16xf32>)
      b(%b : memref<2x?x1x16xf32>) c(%c : memref<2x?x1x16xf32>) d(%d : memref<8xf32>)
      output(%o : memref<2x?x8x1xf32>) {chunk_size = 16 : i64}
  return
}

// -----

// Decode (mode recurrent) runs chunks of one token whatever the chunk size;
// without D, z and dt_bias, a is the only aux input and ssm_output has
// nothing to add.
// CHECK-LABEL: func.func @decode(
// CHECK:       linac.chunk_loop
// CHECK-SAME:    aux(%{{[^ ]+}} : memref<4xf32>)
// CHECK-SAME:    attributes {aux_layouts = ["head"], chunk_size = 1 : i64, form = #linac.form<decay = scalar, update = plain>} {
// CHECK:         memref.alloca() : memref<1xf32>
// CHECK:         linac.ssm_inputs ins({{.*}}) outs({{.*}})
// CHECK-NOT:     bias(
// CHECK:         linac.decayed_scores
// CHECK:         linac.chunk_state_update
// CHECK-NEXT:    linac.ssm_output ins(%{{[^ ]+}} : {{.*}}) outs(%{{[^ ]+}} : {{.*}})
// CHECK-NEXT:  }
func.func @decode(%x: memref<2x?x4x8xf32>, %dt: memref<2x?x4xf32>, %a: memref<4xf32>,
                  %b: memref<2x?x4x16xf32>, %c: memref<2x?x4x16xf32>, %o: memref<2x?x4x8xf32>) {
  linac.ssm x(%x : memref<2x?x4x8xf32>) dt(%dt : memref<2x?x4xf32>) a(%a : memref<4xf32>)
      b(%b : memref<2x?x4x16xf32>) c(%c : memref<2x?x4x16xf32>) output(%o : memref<2x?x4x8xf32>)
      {chunk_size = 64 : i64, mode = #linac<mode recurrent>}
  return
}
