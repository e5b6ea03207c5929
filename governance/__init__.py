"""mlgov: ML supply-chain governance (SBOMs, policy gates, GPU-stack checks)."""

__version__ = "0.1.0"
