"""The shipped form of a fully fine-tuned model: its difference from the PyPI base, compressed.

Large weight matrices ship as a truncated SVD of their delta (two int8 factors with per-row scales); small tensors
(biases, LayerNorm, the pooler and head) ship whole in fp16; tensors that training left unchanged are not shipped.
Rebuilding adds each delta back onto the base weights.
"""

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

DELTA_FILE = "delta.safetensors"
_LOW_RANK_PREFIX = "encoder.layer."
_U, _V, _U_SCALE, _V_SCALE, _WHOLE = ".lr_u", ".lr_v", ".lr_u_scale", ".lr_v_scale", ".whole"


def _quantize_rows(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per row: (int8 values, fp16 scale per row)."""
    scale = matrix.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
    return torch.round(matrix / scale).clamp(-127, 127).to(torch.int8), scale.to(torch.float16)


def _dequantize_rows(values: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return values.to(torch.float32) * scale.to(torch.float32)


def low_rank_factors(delta: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """U [out, r] and V [r, in] with U @ V the best rank-r approximation of `delta` (singular values split evenly)."""
    u, s, vh = torch.linalg.svd(delta.to(torch.float32), full_matrices=False)
    root = s[:rank].sqrt()
    return u[:, :rank] * root, root[:, None] * vh[:rank]


def compress(tuned: Mapping[str, torch.Tensor], base: Mapping[str, torch.Tensor], rank: int) -> dict[str, torch.Tensor]:
    """The tensors to ship: low-rank int8 deltas for the encoder's matrices, everything else changed as fp16 whole."""
    shipped: dict[str, torch.Tensor] = {}
    for name, weight in tuned.items():
        reference = base.get(name)
        if reference is not None and torch.equal(weight, reference):
            continue  # frozen in training (e.g. the word embeddings): the base already has it
        low_rank = name.startswith(_LOW_RANK_PREFIX) and weight.ndim == 2 and min(weight.shape) > rank
        if reference is not None and low_rank:
            u, v = low_rank_factors(weight.float() - reference.float(), rank)
            shipped[name + _U], shipped[name + _U_SCALE] = _quantize_rows(u)
            shipped[name + _V], shipped[name + _V_SCALE] = _quantize_rows(v)
        else:
            shipped[name + _WHOLE] = weight.detach().to(torch.float16).contiguous()
    return shipped


def expand(shipped: Mapping[str, torch.Tensor], base: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The full fine-tuned weights of every shipped tensor: base + U @ V, or the whole tensor."""
    weights: dict[str, torch.Tensor] = {}
    for key, value in shipped.items():
        if key.endswith(_WHOLE):
            weights[key.removesuffix(_WHOLE)] = value.to(torch.float32)
        elif key.endswith(_U):
            name = key.removesuffix(_U)
            if name not in base:
                raise KeyError(f"the delta for {name!r} has no base weight to apply to")
            u = _dequantize_rows(value, shipped[name + _U_SCALE])
            v = _dequantize_rows(shipped[name + _V], shipped[name + _V_SCALE])
            weights[name] = base[name].to(torch.float32) + u @ v
    return weights


def save_delta(tuned: Mapping[str, torch.Tensor], base: Mapping[str, torch.Tensor], rank: int, folder: Path) -> Path:
    """Write the compressed delta of `tuned` against `base` to <folder>/delta.safetensors."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DELTA_FILE
    save_file({k: v.contiguous() for k, v in compress(tuned, base, rank).items()}, str(path))
    return path


def named_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's tensors named as in the base checkpoint (`bert.` or the like dropped), sharing their storage."""
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    return {name.removeprefix(prefix): tensor for name, tensor in model.state_dict().items()}


def load_named_weights(model: torch.nn.Module, weights: Mapping[str, torch.Tensor]) -> None:
    """Copy tensors named as in the base checkpoint into the model, in place."""
    state = named_weights(model)
    unknown = sorted(set(weights) - set(state))
    if unknown:
        raise KeyError(f"weights for tensors the model does not have, e.g. {unknown[:3]}")
    with torch.no_grad():
        for name, weight in weights.items():
            state[name].copy_(weight.to(state[name].dtype))


def apply_delta(model: torch.nn.Module, folder: Path) -> None:
    """Load <folder>/delta.safetensors onto a model holding the base weights, in place."""
    load_named_weights(model, expand(load_file(str(folder / DELTA_FILE)), named_weights(model)))
