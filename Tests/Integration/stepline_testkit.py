"""Helpers the integration scripts share (they import this from their own directory)."""
import socket

import boto3
from botocore.config import Config


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sfn_client(port, read_timeout=10, connect_timeout=None):
    """A boto3 Step Functions client for a local daemon: no retries (the scripts decide), no
    host prefix (StartSyncExecution's `sync-` would not resolve on 127.0.0.1)."""
    config = dict(retries={"max_attempts": 0}, read_timeout=read_timeout, inject_host_prefix=False)
    if connect_timeout is not None:
        config["connect_timeout"] = connect_timeout
    return boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test", config=Config(**config))
