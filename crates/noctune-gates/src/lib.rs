//! Noctune's gates: the exact parse gate, the ruff gate, the repair ladder and policy packs.
//! Built by the noctune-gates issue.
