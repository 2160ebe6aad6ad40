//===- ScaleViewPtx.h - a small PTX kernel for the GPU tests ----*- C++ -*-===//
//
// Hand-written LLVM IR compiled by llc (-mtriple=nvptx64-nvidia-cuda
// -mcpu=sm_50); its parameters follow MLIR's expanded memref convention:
//
//   define ptx_kernel void @scale_view(ptr addrspace(1) %allocated,
//       ptr addrspace(1) %aligned, i64 %offset, i64 %size0, i64 %size1,
//       i64 %stride0, i64 %stride1, float %scale)
//
// multiplies each element of the strided 2-D view by %scale.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_TEST_UNIT_SCALEVIEWPTX_H
#define LINAC_TEST_UNIT_SCALEVIEWPTX_H

namespace linac::test {

inline constexpr const char *kScaleViewPtx = R"(
.version 4.0
.target sm_50
.address_size 64
.visible .entry scale_view(
.param .u64 .ptr .global .align 1 scale_view_param_0,
.param .u64 .ptr .global .align 1 scale_view_param_1,
.param .u64 scale_view_param_2,
.param .u64 scale_view_param_3,
.param .u64 scale_view_param_4,
.param .u64 scale_view_param_5,
.param .u64 scale_view_param_6,
.param .f32 scale_view_param_7
)
{
.reg .pred  %p<3>;
.reg .b32  %r<13>;
.reg .b64  %rd<18>;
ld.param.b64  %rd4, [scale_view_param_4];
mov.u32  %r2, %ctaid.x;
mov.u32  %r3, %ntid.x;
ld.param.b64  %rd7, [scale_view_param_3];
mov.u32  %r4, %tid.x;
mad.lo.s32  %r5, %r2, %r3, %r4;
cvt.u64.u32  %rd1, %r5;
mul.lo.s64  %rd8, %rd7, %rd4;
setp.ge.s64  %p1, %rd1, %rd8;
@%p1 bra  $L__BB0_5;
ld.param.b32  %r1, [scale_view_param_7];
ld.param.b64  %rd6, [scale_view_param_6];
ld.param.b64  %rd5, [scale_view_param_5];
ld.param.b64  %rd3, [scale_view_param_2];
ld.param.b64  %rd2, [scale_view_param_1];
and.b64  %rd9, %rd4, -4294967296;
setp.ne.b64  %p2, %rd9, 0;
@%p2 bra  $L__BB0_3;
bra.uni  $L__BB0_2;
$L__BB0_3:
div.s64  %rd16, %rd1, %rd4;
mul.lo.s64  %rd10, %rd16, %rd4;
sub.s64  %rd17, %rd1, %rd10;
bra.uni  $L__BB0_4;
$L__BB0_2:
cvt.u32.u64  %r6, %rd4;
cvt.u32.u64  %r7, %rd1;
div.u32  %r8, %r7, %r6;
mul.lo.s32  %r9, %r8, %r6;
sub.s32  %r10, %r7, %r9;
cvt.u64.u32  %rd16, %r8;
cvt.u64.u32  %rd17, %r10;
$L__BB0_4:
mul.lo.s64  %rd11, %rd17, %rd6;
mad.lo.s64  %rd12, %rd16, %rd5, %rd11;
add.s64  %rd13, %rd3, %rd12;
shl.b64  %rd14, %rd13, 2;
add.s64  %rd15, %rd2, %rd14;
ld.global.b32  %r11, [%rd15];
mul.rn.f32  %r12, %r11, %r1;
st.global.b32  [%rd15], %r12;
$L__BB0_5:
ret;
}
)";

} // namespace linac::test

#endif // LINAC_TEST_UNIT_SCALEVIEWPTX_H
