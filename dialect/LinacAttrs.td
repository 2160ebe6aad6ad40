//===- LinacAttrs.td - linac attributes and enums ----------*- tablegen -*-===//

#ifndef LINAC_ATTRS_TD
#define LINAC_ATTRS_TD

include "dialect/LinacDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Linac_DecayKind : I32EnumAttr<"DecayKind", "how the state decays before each update", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"scalar", 1>,
    I32EnumAttrCase<"vector", 2>
  ]> {
  let cppNamespace = "::mlir::linac";
  let genSpecializedAttr = 0;
}
def Linac_DecayKindAttr : EnumAttr<Linac_Dialect, Linac_DecayKind, "decay">;

def Linac_UpdateKind : I32EnumAttr<"UpdateKind", "how a token writes into the state", [
    I32EnumAttrCase<"plain", 0>,
    I32EnumAttrCase<"delta", 1>
  ]> {
  let cppNamespace = "::mlir::linac";
  let genSpecializedAttr = 0;
}
def Linac_UpdateKindAttr : EnumAttr<Linac_Dialect, Linac_UpdateKind, "update">;

def Linac_ExecutionMode : I32EnumAttr<"ExecutionMode",
    "chunk-parallel (prefill), one token at a time (decode), or non-causal "
    "(every query reads the whole sequence's state)", [
    I32EnumAttrCase<"chunk", 0>,
    I32EnumAttrCase<"recurrent", 1>,
    I32EnumAttrCase<"noncausal", 2>
  ]> {
  let cppNamespace = "::mlir::linac";
  let genSpecializedAttr = 0;
}
def Linac_ExecutionModeAttr : EnumAttr<Linac_Dialect, Linac_ExecutionMode, "mode">;

def Linac_Accumulate : I32EnumAttr<"Accumulate",
    "how a product is combined with its destination", [
    I32EnumAttrCase<"overwrite", 0>,
    I32EnumAttrCase<"add", 1>,
    I32EnumAttrCase<"subtract", 2>
  ]> {
  let cppNamespace = "::mlir::linac";
  let genSpecializedAttr = 0;
}
def Linac_AccumulateAttr : EnumAttr<Linac_Dialect, Linac_Accumulate, "accumulate">;

def Linac_RecurrenceFormAttr : AttrDef<Linac_Dialect, "RecurrenceForm"> {
  let mnemonic = "form";
  let summary = "the canonical form of one recurrence step";
  let description = [{
    The step of every recurrence linac can chunk, in one attribute:

        S <- D_t S             decay: none | scalar exp(g_t) | vector diag(exp(g_t))
        plain: S <- S + k_t v_t^T
        delta: S <- S + beta_t k_t (v_t - S^T k_t)^T
        o_t = scale * S^T q_t

    Example: `#linac.form<decay = scalar, update = delta>`. Products of
    several Householder steps per token are a property of the operands (the
    `householder` attribute of `linac.recurrence`), not of the step.
  }];
  let parameters = (ins
    "::mlir::linac::DecayKind":$decay,
    "::mlir::linac::UpdateKind":$update
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // LINAC_ATTRS_TD
