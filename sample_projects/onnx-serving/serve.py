"""Serve an ONNX classifier over HTTP: uvicorn serve:app --port 8080"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from fastapi import FastAPI
from pydantic import BaseModel

MODEL_PATH = os.environ.get("MODEL_PATH", "model.onnx")
onnx.checker.check_model(MODEL_PATH)
session = ort.InferenceSession(
    MODEL_PATH, providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
)
input_name = session.get_inputs()[0].name
app = FastAPI(title="onnx-serving", version="1.2.0")


class PredictRequest(BaseModel):
    inputs: list[list[float]]


@app.post("/predict")
def predict(req: PredictRequest) -> dict:
    batch = np.asarray(req.inputs, dtype=np.float32)
    (logits,) = session.run(None, {input_name: batch})
    return {"labels": logits.argmax(axis=1).tolist(), "providers": session.get_providers()}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}
