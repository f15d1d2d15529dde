"""A FastAPI shop that enqueues a task in the transaction of the request that creates an order."""
