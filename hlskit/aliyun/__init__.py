"""Alibaba Cloud clients: one signed-RPC client (MPS, KMS) and the MNS queue."""
