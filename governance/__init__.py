"""mlgov: ML supply-chain governance (SBOMs, policy gates, GPU-stack checks)."""

__version__ = "0.1.0"
# Where the documentation is published; SARIF's helpUri points each rule at its section of rules.md.
DOCS_URL = "https://github.com/mlgov/mlgov/blob/main/docs"
