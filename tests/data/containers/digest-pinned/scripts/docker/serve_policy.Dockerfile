# Pinned by digest: the tag says what it is, the digest what it must be.
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04@sha256:3f0c19c3a0b4fbcbd3ae8e8cb1bc0b47e1bba8a3bde7cfc6cbf1d6f7e3e4a5b6
COPY --from=ghcr.io/astral-sh/uv@sha256:9b0c1a5e5ee7f3f2d77d0b2c0ad5f4a9b4a0c2e7f1f6e5d4c3b2a1f0e9d8c7b6 /uv /bin/uv
CMD ["python3", "-m", "serve"]
