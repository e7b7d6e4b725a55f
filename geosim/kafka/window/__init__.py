"""The window engine (issue 14): a Kafka cluster's steady-state data path as arrays.

Between two disturbances the data path of a Kafka cluster follows fixed rules: each
fleet sends each leader zone a produce request per send tick, the leaders append what
arrives, each fetch pair cycles (request, long poll until the next append or
``replica.fetch.wait.max.ms``, response), the high watermark passes a row once every
ISR follower's next fetch shows it has it, the producer hears the ack a hop later, and
a consumer zone sees the row a hop after its serving replica may serve it. The event
engine runs each of these as Python calls per row; this package computes a whole
window of them at once (:mod:`geosim.kafka.window.kernel`), with one Python step per
fetch cycle and array operations for everything per row.

Stage 1 (this package today) computes a window from a running cluster's wiring, with
the pipes empty at its start (see :func:`~geosim.kafka.window.kernel.run_window`), and
is held to the event engine in distribution (``tests/test_window_kernel.py``). It is not
yet a run mode: handing its state to the event engine at a disturbance, and back, is
the next stage (docs/architecture.md, "The window engine").
"""
