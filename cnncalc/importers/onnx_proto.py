"""The two parts of the onnx package the ONNX front-end needs, loaded without `import onnx`.

`import onnx` costs more than the rest of `cnncalc analyze model.onnx` together (its helpers import
ml_dtypes, 1.5 s here); the importer needs only ONNX's protobuf schema (`onnx_ml_pb2`) and the C++
shape inference (`onnx_cpp2py_export`). Both are loaded from the installed package under their own
names, so that a later `import onnx` finds and shares them; if the package's layout is not the
expected one, `import onnx` is the fallback. Tensors are converted to and from numpy here (small
ones only: shapes, pads, scales).
"""
from __future__ import annotations

import glob
import importlib.machinery
import importlib.util
import os
import sys
from functools import lru_cache

import numpy as np


def _load(name: str, path: str, loader=None):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


@lru_cache(maxsize=None)
def modules():
    """(the protobuf schema module, the C++ extension) of the installed onnx package."""
    if "onnx" not in sys.modules:
        spec = importlib.util.find_spec("onnx")
        if spec is None or not spec.origin:
            raise ImportError("onnx")
        folder = os.path.dirname(spec.origin)
        ext = glob.glob(os.path.join(folder, "onnx_cpp2py_export*.so")) + glob.glob(
            os.path.join(folder, "onnx_cpp2py_export*.pyd"))
        schema = os.path.join(folder, "onnx_ml_pb2.py")
        if ext and os.path.isfile(schema):
            try:
                pb2 = _load("onnx.onnx_ml_pb2", schema)
                name = "onnx.onnx_cpp2py_export"
                cpp = _load(name, ext[0], importlib.machinery.ExtensionFileLoader(name, ext[0]))
                return pb2, cpp
            except Exception:  # another layout: the package's own import below
                pass
    import onnx
    from onnx import onnx_cpp2py_export
    return onnx.onnx_ml_pb2, onnx_cpp2py_export


def pb():
    return modules()[0]


def infer_shapes(model_bytes: bytes) -> bytes:
    """onnx's shape inference (types unchecked, not strict, with data propagation) on a serialized model."""
    return modules()[1].shape_inference.infer_shapes(model_bytes, False, False, True)


DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64, 9: np.bool_,
          10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}
FIELD = {1: "float_data", 2: "int32_data", 3: "int32_data", 5: "int32_data", 6: "int32_data", 7: "int64_data",
         9: "int32_data", 10: "int32_data", 11: "double_data", 12: "uint64_data", 13: "uint64_data"}


def to_array(t) -> np.ndarray | None:
    """A small TensorProto as a numpy array (None for a type cnncalc never needs to read)."""
    dtype = DTYPES.get(t.data_type)
    if dtype is None:
        return None
    shape = tuple(int(d) for d in t.dims)
    if t.raw_data:
        return np.frombuffer(t.raw_data, dtype=dtype).reshape(shape).copy()
    data = getattr(t, FIELD[t.data_type])
    if t.data_type == 10:   # float16 stored as the bits in int32_data
        return np.asarray(data, dtype=np.uint16).view(np.float16).reshape(shape)
    return np.asarray(data, dtype=dtype).reshape(shape)


def from_array(value: np.ndarray, name: str):
    value = np.asarray(value)
    code = next((c for c, d in DTYPES.items() if np.dtype(d) == value.dtype), None)
    if code is None:
        value, code = value.astype(np.float32), 1
    t = pb().TensorProto(name=name, data_type=code, dims=list(value.shape))
    t.raw_data = np.ascontiguousarray(value).tobytes()
    return t
