// RUN: linac-opt %s -split-input-file | linac-opt -split-input-file | FileCheck %s

// #linac.form and the enum attributes #linac<decay ...>, #linac<update ...>,
// #linac<mode ...>, #linac<accumulate ...>.

// CHECK-LABEL: func.func @forms
// CHECK-SAME:    none_plain = #linac.form<decay = none, update = plain>
// CHECK-SAME:    scalar_delta = #linac.form<decay = scalar, update = delta>
// CHECK-SAME:    vector_plain = #linac.form<decay = vector, update = plain>
func.func @forms() attributes {
    none_plain = #linac.form<decay = none, update = plain>,
    scalar_delta = #linac.form<decay = scalar, update = delta>,
    vector_plain = #linac.form<decay = vector, update = plain>} {
  return
}

// -----

// Parameters may come in any order.
// CHECK-LABEL: func.func @reordered
// CHECK-SAME:    form = #linac.form<decay = vector, update = delta>
func.func @reordered() attributes {
    form = #linac.form<update = delta, decay = vector>} {
  return
}

// -----

// CHECK-LABEL: func.func @enums
// CHECK-SAME:    add = #linac<accumulate add>
// CHECK-SAME:    chunk = #linac<mode chunk>
// CHECK-SAME:    decay = #linac<decay vector>
// CHECK-SAME:    overwrite = #linac<accumulate overwrite>
// CHECK-SAME:    recurrent = #linac<mode recurrent>
// CHECK-SAME:    subtract = #linac<accumulate subtract>
// CHECK-SAME:    update = #linac<update delta>
func.func @enums() attributes {
    chunk = #linac<mode chunk>, recurrent = #linac<mode recurrent>,
    decay = #linac<decay vector>, update = #linac<update delta>,
    overwrite = #linac<accumulate overwrite>, add = #linac<accumulate add>,
    subtract = #linac<accumulate subtract>} {
  return
}
