// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops -cse | FileCheck %s

// linac-lower-chunk-ops for the state-space and non-causal tile ops: the dt
// transform, the skip connection and gate, the chunked scan, the key sum,
// the readout and the fixed normalizer.

// dt' = softplus(dt + bias), computed where it is used: the log decays
// dt' * a and the values x * dt'. softplus is log1p(exp(x)), and x itself
// above 20.
// CHECK-LABEL: func.func @ssm_inputs_softplus(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x8xbf16>, %[[DT:[^:]+]]: memref<?xf32>, %[[A:[^:]+]]: memref<1xf32>, %[[BIAS:[^:]+]]: memref<1xf32>, %[[G:[^:]+]]: memref<?xf32>, %[[V:[^:]+]]: memref<?x8xf32>)
// CHECK-DAG:   %[[B:.*]] = memref.load %[[BIAS]][%c0]
// CHECK-DAG:   %[[RATE:.*]] = memref.load %[[A]][%c0]
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[DT]] : memref<?xf32>) outs(%[[G]] : memref<?xf32>)
// CHECK-NEXT:  ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    %[[T:.*]] = arith.addf %[[IN]], %[[B]] : f32
// CHECK-NEXT:    %[[TWENTY:.*]] = arith.constant 2.000000e+01 : f32
// CHECK-NEXT:    %[[LARGE:.*]] = arith.cmpf ogt, %[[T]], %[[TWENTY]] : f32
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[T]] : f32
// CHECK-NEXT:    %[[L:.*]] = math.log1p %[[E]] : f32
// CHECK-NEXT:    %[[SP:.*]] = arith.select %[[LARGE]], %[[T]], %[[L]] : f32
// CHECK-NEXT:    %[[LOGDECAY:.*]] = arith.mulf %[[SP]], %[[RATE]] : f32
// CHECK-NEXT:    linalg.yield %[[LOGDECAY]] : f32
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[DT]] : memref<?x8xbf16>, memref<?xf32>) outs(%[[V]] : memref<?x8xf32>)
// CHECK-NEXT:  ^bb0(%[[XIN:.*]]: bf16, %[[DTIN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    %[[XF:.*]] = arith.extf %[[XIN]] : bf16 to f32
// CHECK-NEXT:    %[[T2:.*]] = arith.addf %[[DTIN]], %[[B]] : f32
// CHECK:         %[[SP2:.*]] = arith.select
// CHECK-NEXT:    %[[XS:.*]] = arith.mulf %[[XF]], %[[SP2]] : f32
// CHECK-NEXT:    linalg.yield %[[XS]] : f32
func.func @ssm_inputs_softplus(%x: memref<?x8xbf16>, %dt: memref<?xf32>, %a: memref<1xf32>, %bias: memref<1xf32>, %g: memref<?xf32>, %v: memref<?x8xf32>) {
  linac.ssm_inputs ins(%x, %dt, %a : memref<?x8xbf16>, memref<?xf32>, memref<1xf32>) bias(%bias : memref<1xf32>)
      outs(%g, %v : memref<?xf32>, memref<?x8xf32>) {dt_softplus}
  return
}

// -----

// One rate per state channel (the selective scan): gates [C, N] = dt a^T;
// dt is used as is, without bias or softplus.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @ssm_inputs_per_state(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x8xf32>, %[[DT:[^:]+]]: memref<?xf32>, %[[A:[^:]+]]: memref<16xf32>, %[[G:[^:]+]]: memref<?x16xf32>, %[[V:[^:]+]]: memref<?x8xf32>)
// CHECK-NOT:   math.
// CHECK:       linalg.generic {indexing_maps = [#[[ROW]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[DT]], %[[A]] : memref<?xf32>, memref<16xf32>) outs(%[[G]] : memref<?x16xf32>)
// CHECK-NEXT:  ^bb0(%[[D:.*]]: f32, %[[R:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    %[[P:.*]] = arith.mulf %[[D]], %[[R]] : f32
// CHECK-NEXT:    linalg.yield %[[P]] : f32
// CHECK:       linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], {{.*}}} ins(%[[X]], %[[DT]] : memref<?x8xf32>, memref<?xf32>) outs(%[[V]] : memref<?x8xf32>)
// CHECK-NEXT:  ^bb0(%[[XI:.*]]: f32, %[[DI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    %[[XV:.*]] = arith.mulf %[[XI]], %[[DI]] : f32
// CHECK-NOT:   math.
// CHECK:       return
func.func @ssm_inputs_per_state(%x: memref<?x8xf32>, %dt: memref<?xf32>, %a: memref<16xf32>, %g: memref<?x16xf32>, %v: memref<?x8xf32>) {
  linac.ssm_inputs ins(%x, %dt, %a : memref<?x8xf32>, memref<?xf32>, memref<16xf32>) outs(%g, %v : memref<?x16xf32>, memref<?x8xf32>)
  return
}

// -----

// y = (y + d * x) * silu(z), silu(z) = z / (1 + exp(-z)); a skip per value
// channel is read along the columns.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @ssm_output(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x8xbf16>, %[[D:[^:]+]]: memref<8xf32>, %[[Z:[^:]+]]: memref<?x8xbf16>, %[[Y:[^:]+]]: memref<?x8xf32>)
// CHECK:       linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[D]], %[[Z]] : {{.*}}) outs(%[[Y]] : memref<?x8xf32>)
// CHECK-NEXT:  ^bb0(%[[XI:.*]]: bf16, %[[DI:.*]]: f32, %[[ZI:.*]]: bf16, %[[YI:.*]]: f32):
// CHECK-NEXT:    %[[XF:.*]] = arith.extf %[[XI]] : bf16 to f32
// CHECK-NEXT:    %[[DX:.*]] = arith.mulf %[[DI]], %[[XF]] : f32
// CHECK-NEXT:    %[[SKIP:.*]] = arith.addf %[[YI]], %[[DX]] : f32
// CHECK-NEXT:    %[[ZF:.*]] = arith.extf %[[ZI]] : bf16 to f32
// CHECK-NEXT:    %[[NZ:.*]] = arith.negf %[[ZF]] : f32
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[NZ]] : f32
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    %[[DEN:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK-NEXT:    %[[SILU:.*]] = arith.divf %[[ZF]], %[[DEN]] : f32
// CHECK-NEXT:    %[[GATED:.*]] = arith.mulf %[[SKIP]], %[[SILU]] : f32
// CHECK-NEXT:    linalg.yield %[[GATED]] : f32
func.func @ssm_output(%x: memref<?x8xbf16>, %d: memref<8xf32>, %z: memref<?x8xbf16>, %y: memref<?x8xf32>) {
  linac.ssm_output ins(%x : memref<?x8xbf16>) skip(%d : memref<8xf32>) gate(%z : memref<?x8xbf16>) outs(%y : memref<?x8xf32>)
  return
}

// -----

// One skip coefficient ([1]) is loaded once; no gate, no exp.
// CHECK-LABEL: func.func @ssm_output_scalar_skip(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x8xf32>, %[[D:[^:]+]]: memref<1xf32>, %[[Y:[^:]+]]: memref<?x8xf32>)
// CHECK:       %[[DS:.*]] = memref.load %[[D]][%c0] : memref<1xf32>
// CHECK:       linalg.generic {{.*}} ins(%[[X]] : memref<?x8xf32>) outs(%[[Y]] : memref<?x8xf32>)
// CHECK-NEXT:  ^bb0(%[[XI:.*]]: f32, %[[YI:.*]]: f32):
// CHECK-NEXT:    %[[DX:.*]] = arith.mulf %[[DS]], %[[XI]] : f32
// CHECK-NEXT:    %[[SUM:.*]] = arith.addf %[[YI]], %[[DX]] : f32
// CHECK-NEXT:    linalg.yield %[[SUM]] : f32
// CHECK-NOT:   math.exp
func.func @ssm_output_scalar_skip(%x: memref<?x8xf32>, %d: memref<1xf32>, %y: memref<?x8xf32>) {
  linac.ssm_output ins(%x : memref<?x8xf32>) skip(%d : memref<1xf32>) outs(%y : memref<?x8xf32>)
  return
}

// -----

// The chunked scan: an scf.for over the chunk's tokens; per token the state
// decays by exp(g_t) per key channel and takes k_t v_t^T, then the output
// row is S^T q_t.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @scan(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x16xf32>, %[[K:[^:]+]]: memref<?x16xf32>, %[[V:[^:]+]]: memref<?x8xf32>, %[[G:[^:]+]]: memref<?x16xf32>, %[[S:[^:]+]]: memref<16x8xf32>, %[[O:[^:]+]]: memref<?x8xf32>)
// CHECK:       %[[ROWS:.*]] = memref.dim %[[Q]], %c0
// CHECK:       scf.for %[[T:.*]] = %c0 to %[[ROWS]] step %c1 {
// CHECK-NEXT:    %[[KT:.*]] = memref.subview %[[K]][%[[T]], 0] [1, 16] [1, 1]
// CHECK-NEXT:    %[[VT:.*]] = memref.subview %[[V]][%[[T]], 0] [1, 8] [1, 1]
// CHECK-NEXT:    %[[GT:.*]] = memref.subview %[[G]][%[[T]], 0] [1, 16] [1, 1]
// CHECK-NEXT:    linalg.generic {indexing_maps = [#[[ROW]], #[[COL]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[KT]], %[[VT]], %[[GT]] : {{.*}}) outs(%[[S]] : memref<16x8xf32>)
// CHECK-NEXT:    ^bb0(%[[KI:.*]]: f32, %[[VI:.*]]: f32, %[[GI:.*]]: f32, %[[SI:.*]]: f32):
// CHECK-NEXT:      %[[DECAY:.*]] = math.exp %[[GI]] : f32
// CHECK-NEXT:      %[[SD:.*]] = arith.mulf %[[SI]], %[[DECAY]] : f32
// CHECK-NEXT:      %[[KV:.*]] = arith.mulf %[[KI]], %[[VI]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:      %[[SN:.*]] = arith.addf %[[SD]], %[[KV]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:      linalg.yield %[[SN]] : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[OT:.*]] = memref.subview %[[O]][%[[T]], 0] [1, 8] [1, 1]
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%[[OT]] : {{.*}})
// CHECK-NEXT:    %[[QT:.*]] = memref.subview %[[Q]][%[[T]], 0] [1, 16] [1, 1]
// CHECK-NEXT:    linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[COL]]], iterator_types = ["reduction", "parallel"]} ins(%[[S]], %[[QT]] : {{.*}}) outs(%[[OT]] : {{.*}})
// CHECK:         }
// CHECK-NEXT:  }
// CHECK-NEXT:  return
func.func @scan(%q: memref<?x16xf32>, %k: memref<?x16xf32>, %v: memref<?x8xf32>, %g: memref<?x16xf32>, %S: memref<16x8xf32>, %o: memref<?x8xf32>) {
  linac.chunk_scan ins(%q, %k, %v, %g : memref<?x16xf32>, memref<?x16xf32>, memref<?x8xf32>, memref<?x16xf32>) outs(%S, %o : memref<16x8xf32>, memref<?x8xf32>)
  return
}

// -----

// A scalar decay per token is loaded in the token loop.
// CHECK-LABEL: func.func @scan_scalar(
// CHECK-SAME:    %[[G:arg3]]: memref<?xf32>
// CHECK:       scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:         %[[GT:.*]] = memref.load %[[G]][%[[T]]] : memref<?xf32>
// CHECK-NEXT:    linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT:    ^bb0(
// CHECK-NEXT:      math.exp %[[GT]] : f32
func.func @scan_scalar(%q: memref<?x16xf32>, %k: memref<?x16xf32>, %v: memref<?x8xf32>, %g: memref<?xf32>, %S: memref<16x8xf32>, %o: memref<?x8xf32>) {
  linac.chunk_scan ins(%q, %k, %v, %g : memref<?x16xf32>, memref<?x16xf32>, memref<?x8xf32>, memref<?xf32>) outs(%S, %o : memref<16x8xf32>, memref<?x8xf32>)
  return
}

// -----

// z += the column sums of k, in f32.
// CHECK-LABEL: func.func @key_sum(
// CHECK-SAME:    %[[K:[^:]+]]: memref<?x16xbf16>, %[[Z:[^:]+]]: memref<16xf32>)
// CHECK:       linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[K]] : memref<?x16xbf16>) outs(%[[Z]] : memref<16xf32>)
// CHECK-NEXT:  ^bb0(%[[KI:.*]]: bf16, %[[ZI:.*]]: f32):
// CHECK-NEXT:    %[[KF:.*]] = arith.extf %[[KI]] : bf16 to f32
// CHECK-NEXT:    %[[SUM:.*]] = arith.addf %[[ZI]], %[[KF]] : f32
// CHECK-NEXT:    linalg.yield %[[SUM]] : f32
func.func @key_sum(%k: memref<?x16xbf16>, %z: memref<16xf32>) {
  linac.chunk_key_sum ins(%k : memref<?x16xbf16>) outs(%z : memref<16xf32>)
  return
}

// -----

// O = 0; O += Q S; O *= scale.
// CHECK-LABEL: func.func @readout(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x16xf32>, %[[S:[^:]+]]: memref<16x8xf32>, %[[SCALE:[^:]+]]: f32, %[[O:[^:]+]]: memref<?x8xf32>)
// CHECK:       linalg.fill ins(%{{.*}} : f32) outs(%[[O]] : memref<?x8xf32>)
// CHECK-NEXT:  linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[Q]], %[[S]] : memref<?x16xf32>, memref<16x8xf32>) outs(%[[O]] : memref<?x8xf32>)
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(%[[O]] : memref<?x8xf32>)
// CHECK-NEXT:  ^bb0(%[[OI:.*]]: f32):
// CHECK-NEXT:    %[[SCALED:.*]] = arith.mulf %[[OI]], %[[SCALE]] : f32
// CHECK-NEXT:    linalg.yield %[[SCALED]] : f32
func.func @readout(%q: memref<?x16xf32>, %S: memref<16x8xf32>, %s: f32, %o: memref<?x8xf32>) {
  linac.chunk_readout ins(%q, %S : memref<?x16xf32>, memref<16x8xf32>) scale(%s) outs(%o : memref<?x8xf32>)
  return
}

// -----

// A fixed normalizer reads z (the whole sequence's key sum) and never writes
// it: O[i, :] /= scale * (q_i . z) + 1e-10.
// CHECK-LABEL: func.func @normalize_fixed(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x64xf32>, %[[K:[^:]+]]: memref<?x64xf32>, %[[SCALE:[^:]+]]: f32, %[[Z:[^:]+]]: memref<64xf32>, %[[O:[^:]+]]: memref<?x32xf32>)
// CHECK-NOT:   memref.store %{{.*}}, %[[Z]]
// CHECK-NOT:   memref.load %[[K]]
// CHECK:       scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NEXT:    %[[DOT:.*]] = scf.for %[[D:.*]] = %c0 to %{{.*}} step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:      %[[ZD:.*]] = memref.load %[[Z]][%[[D]]]
// CHECK-NEXT:      %[[QID:.*]] = memref.load %[[Q]][%[[I]], %[[D]]]
// CHECK-NEXT:      %[[PROD:.*]] = arith.mulf %[[QID]], %[[ZD]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:      %[[SUM:.*]] = arith.addf %[[ACC]], %[[PROD]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:      scf.yield %[[SUM]] : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[SCALED:.*]] = arith.mulf %[[DOT]], %[[SCALE]] : f32
// CHECK-NEXT:    %[[DENOM:.*]] = arith.addf %[[SCALED]], %{{.*}} : f32
// CHECK-NEXT:    scf.for %[[E:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NEXT:      %[[OIE:.*]] = memref.load %[[O]][%[[I]], %[[E]]]
// CHECK-NEXT:      %[[DIV:.*]] = arith.divf %[[OIE]], %[[DENOM]] : f32
// CHECK-NEXT:      memref.store %[[DIV]], %[[O]][%[[I]], %[[E]]]
// CHECK-NOT:   memref.store %{{.*}}, %[[Z]]
// CHECK:       return
func.func @normalize_fixed(%q: memref<?x64xf32>, %k: memref<?x64xf32>, %scale: f32, %z: memref<64xf32>, %o: memref<?x32xf32>) {
  linac.chunk_normalize ins(%q, %k : memref<?x64xf32>, memref<?x64xf32>) scale(%scale) outs(%z, %o : memref<64xf32>, memref<?x32xf32>) {fixed}
  return
}
