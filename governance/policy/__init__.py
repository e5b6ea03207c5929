"""Policy: load a policy file, evaluate an inventory against it."""
