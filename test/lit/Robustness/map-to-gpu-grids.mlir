// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-map-to-gpu

// Regressions: linac-map-to-gpu outlined a function once per grid and erased
// it each time (a use after free with two grids), and read the grid roles
// as strings without checking (undefined behaviour on other attributes).

func.func @two_grids(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  // expected-error @+1 {{'scf.parallel' op is a second linac grid in its function; a GPU kernel has one}}
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

func.func @roles_not_strings(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  // expected-error @+1 {{'scf.parallel' op has grid roles [0, 1]; expected distinct 'value_tile', 'head' or 'sequence'}}
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    scf.reduce
  } {linac.grid = [0, 1]}
  return
}

// -----

func.func @repeated_role(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  // expected-error @+1 {{'scf.parallel' op has grid roles ["head", "head"]; expected distinct 'value_tile', 'head' or 'sequence'}}
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    scf.reduce
  } {linac.grid = ["head", "head"]}
  return
}
