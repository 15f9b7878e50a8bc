"""The rules: facts in, findings out (never pixels), and one decision by the contract's precedence."""
