"""Alibaba Cloud clients: credentials, one signed-RPC client (MPS, KMS) and the MNS queue."""
