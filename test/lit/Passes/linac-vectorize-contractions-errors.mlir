// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions{vector-bits=384}))' -verify-diagnostics

// A register width the micro-kernels have no tiles for.
// expected-error @below {{linac-vectorize-contractions: vector-bits 384 is not 512, 256 or 128}}
func.func @f() {
  return
}
