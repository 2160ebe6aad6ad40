// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-balance-grid))' | FileCheck %s

// The grid's worksharing loop, as convert-scf-to-openmp leaves it (no
// schedule: OpenMP's static shares), gets a dynamic schedule.
// CHECK-LABEL: func.func @grid(
// CHECK:         omp.wsloop schedule(dynamic) {
// CHECK-NEXT:      omp.loop_nest
func.func @grid(%n: index, %m: index, %out: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i, %j) : index = (%c0, %c0) to (%n, %m) step (%c1, %c1) collapse(2) {
        memref.store %one, %out[%i, %j] : memref<?x?xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// A schedule already chosen stays.
// CHECK-LABEL: func.func @chosen(
// CHECK:         omp.wsloop schedule(static) {
func.func @chosen(%n: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop schedule(static) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %one, %out[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
