// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-align-buffers))' | FileCheck %s
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-align-buffers{alignment=128}))' | FileCheck %s --check-prefix=WIDE
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-align-buffers{alignment=48}))' -verify-diagnostics
// RUN: not linac-opt %s --pass-pipeline='builtin.module(func.func(linac-align-buffers{alignment=48}))' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: linac-align-buffers: alignment 48 is not a power of two

// Stack buffers get a cache line's alignment (or the option's); a larger one
// already asked for stays, and so does everything else about the alloca.

// CHECK-LABEL: func.func @buffers(
// CHECK:         memref.alloca() {alignment = 64 : i64} : memref<32x128xf32>
// CHECK:         memref.alloca(%{{.*}}) {alignment = 64 : i64} : memref<?x16xbf16>
// CHECK:         memref.alloca() {alignment = 256 : i64} : memref<128x128xf32>
// CHECK:         scf.parallel
// CHECK:           memref.alloca() {alignment = 64 : i64} : memref<32x32xf32>
// WIDE-LABEL:  func.func @buffers(
// WIDE:          memref.alloca() {alignment = 128 : i64} : memref<32x128xf32>
// WIDE:          memref.alloca(%{{.*}}) {alignment = 128 : i64} : memref<?x16xbf16>
// WIDE:          memref.alloca() {alignment = 256 : i64} : memref<128x128xf32>
// WIDE:            memref.alloca() {alignment = 128 : i64} : memref<32x32xf32>
// expected-error @below {{linac-align-buffers: alignment 48 is not a power of two}}
func.func @buffers(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloca() : memref<32x128xf32>
  %b = memref.alloca(%n) : memref<?x16xbf16>
  %c = memref.alloca() {alignment = 256 : i64} : memref<128x128xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %d = memref.alloca() : memref<32x32xf32>
    scf.reduce
  }
  return
}
