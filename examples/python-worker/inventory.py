"""The inventory worker of the quick start: reserves an order's items, or fails with
OutOfStock when the order asks for more than 10 of an item.

    python3 examples/python-worker/stepline_worker.py --topic inventory --handler inventory:reserve
"""
from stepline_worker import TaskFailure


def reserve(task):
    order = task.input.get("order", {}) if isinstance(task.input, dict) else {}
    for item in order.get("items", []):
        if item.get("quantity", 0) > 10:
            raise TaskFailure("OutOfStock", f"only 10 of {item.get('sku')} left")
    return {"reserved": [item.get("sku") for item in order.get("items", [])], "warehouse": "east-1"}
