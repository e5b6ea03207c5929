"""Train a small Keras 3 classifier on a CSV file (last column is the label)."""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # same as keras.json

import keras
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def build_model(n_features: int, n_classes: int) -> keras.Model:
    inputs = keras.Input(shape=(n_features,))
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(csv_path: str, out_path: str = "model.keras") -> None:
    df = pd.read_csv(csv_path)
    X = StandardScaler().fit_transform(df.iloc[:, :-1].to_numpy(dtype=np.float32))
    y = df.iloc[:, -1].astype("category").cat.codes.to_numpy()
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=0)
    model = build_model(X.shape[1], int(y.max()) + 1)
    model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=10, batch_size=64)
    model.save(out_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
